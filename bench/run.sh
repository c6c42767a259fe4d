#!/usr/bin/env bash
# Login rounds per second against a release passgrid on this machine (loopback only).
#   bash bench/run.sh [sqlite|postgres] [connections] [seconds]
# postgres needs BENCH_PG_URL (postgres://user:pass@127.0.0.1:5432/db), a database
# this script may fill. BENCH_RSS=1 also prints the server's idle and loaded RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
connections=${2:-16}
seconds=${3:-10}
cargo build --release -q -p passgrid -p login-bench
target=${CARGO_TARGET_DIR:-target}
echo "passgrid on $db; $connections connections for $seconds s"
bash bench/login_round.sh "$target/release/passgrid" "$target/release/login-bench" \
  "$db" "$connections" "$seconds"
