#!/usr/bin/env bash
# Time LDAP sync against a throw-away slapd (release build, loopback only):
#   bash bench/sync.sh [entries] [sqlite|postgres]
# The first run adds every entry (initial patterns sealed, groups made), the second
# finds nothing to change. postgres needs BENCH_PG_URL (a database this script may
# empty and fill).
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-10000}
db=${2:-sqlite}
cargo build --release -q -p passgrid
bin=target/release/passgrid
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'bash scripts/slapd-fixture.sh stop "$dir/slapd" || true; rm -rf "$dir"' EXIT
bash scripts/slapd-fixture.sh start "$dir/slapd" "$port" "$entries"
args=(--data-dir "$dir/data")
if [ "$db" = postgres ]; then
  psql -q "${BENCH_PG_URL:?set BENCH_PG_URL}" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'
  args+=(--database-url "$BENCH_PG_URL")
fi
echo readerpw > "$dir/bind.pw"
"$bin" "${args[@]}" sync add-ldap corp --url "ldap://127.0.0.1:$port" \
  --bind-dn cn=reader,dc=example,dc=com --bind-password-file "$dir/bind.pw" \
  --base ou=people,dc=example,dc=com --filter '(objectClass=inetOrgPerson)' \
  --group-attr passgridGroup > /dev/null
for run in first second; do
  start=$(date +%s.%N)
  "$bin" "${args[@]}" sync run corp | head -1
  end=$(date +%s.%N)
  echo "$run run ($entries entries, $db): $(awk "BEGIN { print $end - $start }") s"
done
