#!/usr/bin/env bash
# Runs every test of passgrid on a fresh Debian machine with Rust: it installs what it
# needs (Debian packages, the wasm target, wasm-opt, npm packages), starts PostgreSQL,
# builds the optimised WASM, then runs
#   1. formatting and clippy checks,
#   2. Rust unit and integration tests (every integration test on SQLite and PostgreSQL),
#   3. Playwright end-to-end tests in Debian's Chromium (the release binary alone among them),
#   4. the cluster's kill tests (tests/cluster/run.sh: Patroni, etcd, HAProxy, PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
started=$(date +%s)
step() { printf '\n== %s (%ds)\n' "$*" "$(( $(date +%s) - started ))"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "system packages"
# chromium: the e2e browser; libnss3-tools: certutil/pk12util for the browser's
# certificate store; postgresql: the second database; nodejs/npm: Playwright;
# openssl and python3-cryptography read the PKCS#12 files passgrid makes;
# fonts-ipafont-gothic: Japanese glyphs in the screenshots of the Japanese pages.
# freeradius-utils, eapoltest: radclient and eapol_test, the RADIUS peers; freeradius
# (a proxy in front of passgrid, and the benchmark's reference), libpam-radius-auth and
# pamtester (a PAM sign-in through RADIUS), radsecproxy (RadSec with a NAS
# certificate), all started on loopback by the tests; xmlsec1 and python3-pysaml2: an
# independent XML-DSig checker and a SAML service provider.
# apache2 + libapache2-mod-auth-openidc, nginx, python3-authlib (+ requests): the single
# sign-on tests' relying parties and reverse proxy, started on loopback by the tests;
# libapache2-mod-auth-mellon: the SAML service provider of the SAML IdP tests.
# patroni, etcd-server, haproxy: the reference cluster the kill tests bring up
# (PostgreSQL 15 primary + standby under Patroni, HAProxy in front).
packages=(chromium libnss3-tools postgresql curl openssl sqlite3 oathtool slapd ldap-utils
  fonts-ipafont-gothic freeradius-utils eapoltest freeradius libpam-radius-auth pamtester
  radsecproxy xmlsec1 python3-pysaml2
  apache2 libapache2-mod-auth-openidc libapache2-mod-auth-mellon nginx python3-authlib
  python3-requests postgresql-15 patroni etcd-server haproxy)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# Node may come from another source than Debian (whose nodejs conflicts with some
# npm builds): only ask for Debian's when the commands are missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Python's cryptography package: a second, independent PKCS#12 reader in the tests.
python3 -c 'import cryptography' >/dev/null 2>&1 || missing+=(python3-cryptography)
# python3-venv: pkilint (the RFC 5280 linter) lives in its own virtual environment.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# aiosmtpd: the real SMTP server (on loopback) the mail tests send to, run by the
# system Python (a pyenv or venv python3 first on PATH does not see Debian packages).
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -q
  # Debian starts a package's daemon when it is installed (nginx and Apache on port 80,
  # on every address); the tests start their own on loopback, so nothing starts now.
  policy_made=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  if [ -n "$policy_made" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

step "Rust toolchain parts"
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "RFC 5280 linter (pkilint, pinned, in a venv kept between runs)"
pkilint_venv="${XDG_CACHE_HOME:-$HOME/.cache}/passgrid/pkilint-0.13.3"
if [ ! -x "$pkilint_venv/bin/lint_pkix_cert" ]; then
  rm -rf "$pkilint_venv"
  python3 -m venv "$pkilint_venv"
  "$pkilint_venv/bin/pip" install -q "pkilint==0.13.3"
fi
export TEST_PASSGRID_PKILINT="$pkilint_venv/bin"

step "PostgreSQL"
read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters -h | awk '$1 >= 15 {print; exit}') || true
if [ -z "${pg_version:-}" ]; then
  pg_version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  as_root pg_createcluster "$pg_version" main
  read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v {print; exit}')
fi
if [ "$pg_status" != online ]; then as_root pg_ctlcluster "$pg_version" "$pg_cluster" start; fi
# A password made for this run; each test creates (and drops) its own database.
pg_password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
as_root runuser -u postgres -- psql -q -p "$pg_port" -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passgrid_test') THEN
    CREATE ROLE passgrid_test LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE passgrid_test PASSWORD '$pg_password';
SQL
export TEST_PASSGRID_PG_URL="postgres://passgrid_test:${pg_password}@127.0.0.1:${pg_port}/postgres"

step "format and lint"
cargo fmt --all -- --check
cargo xtask layers
cargo clippy --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p frontend --features console --target wasm32-unknown-unknown -- -D warnings

step "optimised WASM (release, wasm-opt) and the release server that embeds it"
cargo xtask build-site --release
cargo build --release -p passgrid

step "Rust unit and integration tests (SQLite and PostgreSQL)"
# The integration tests boot this binary; cargo test does not build another
# package's binary by itself.
cargo build -p passgrid -p login-bench
export TEST_PASSGRID_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/passgrid"
cargo test

step "end-to-end tests in Chromium"
cd "$ROOT/end2end"
npm ci --no-audit --no-fund
# The release binary, copied alone into an empty folder, must serve hydrated pages.
export E2E_SINGLE_BINARY="$ROOT/target/release/passgrid"
if ! npx playwright test; then
  echo "--- end-to-end failed; server log (end2end/test-results/server.log):"
  tail -n 80 "$ROOT/end2end/test-results/server.log" || true
  exit 1
fi
cd "$ROOT"

step "cluster kill tests (Patroni + etcd + HAProxy + two passgrid servers, loopback)"
as_root env TEST_PASSGRID_BIN="$TEST_PASSGRID_BIN" FAILOVER_BENCH_BIN="$ROOT/target/debug/failover-bench" bash tests/cluster/run.sh

step "WASM size of the login page"
cargo xtask wasm-size
step "all tests passed"
