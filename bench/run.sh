#!/usr/bin/env bash
# Login rounds per second against a release passgrid on this machine (loopback only).
#   bash bench/run.sh [sqlite|postgres] [connections] [seconds]
# postgres needs BENCH_PG_URL (postgres://user:pass@127.0.0.1:5432/db), a database
# this script may fill.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
connections=${2:-16}
seconds=${3:-10}
cargo build --release -q -p passgrid -p login-bench
bin=target/release/passgrid
if [ "$db" = postgres ]; then
  # The database keeps the CA sealed under this installation's master key, so the
  # data directory stays for the next run on the same database.
  dir=target/bench-postgres
  mkdir -p "$dir" && chmod 700 "$dir"
  trap 'kill ${server:-} 2>/dev/null || true' EXIT
  args=(--data-dir "$dir" --database-url "${BENCH_PG_URL:?set BENCH_PG_URL}")
else
  dir=$(mktemp -d)
  trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
  args=(--data-dir "$dir")
fi
# The user may exist from an earlier run on the same PostgreSQL database.
"$bin" "${args[@]}" user add bench >/dev/null 2>&1 || true
# …and so may its pattern (the history refuses setting the same one again).
"$bin" "${args[@]}" user set-pattern bench --cells 3,17,17,40,9,26,44 >/dev/null 2>&1 || true
# This measures the login path itself: one user from one address, far over the
# shipped rate limits (bench/attack.sh measures them).
cat > "$dir/bench.toml" <<'TOML'
[auth]
rate_limit_per_source = { burst = 0, per_minute = 0 }
rate_limit_per_user = { burst = 0, per_minute = 0 }
TOML
"$bin" "${args[@]}" --config "$dir/bench.toml" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
echo "passgrid on $db at $url; $connections connections for $seconds s"
target/release/login-bench --url "$url" --ca "$dir/ca.pem" --user bench --cells 3,17,17,40,9,26,44 \
  --connections "$connections" --seconds "$seconds"
