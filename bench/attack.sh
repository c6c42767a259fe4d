#!/usr/bin/env bash
# Logins under attack against a release passgrid with its shipped limits (loopback):
#   bash bench/attack.sh [seconds] [attackers] [legit-users]
# Runs three phases on one server: legitimate users alone (baseline), with attackers
# spraying IDs from one address, and with attackers on one ID from many addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
attackers=${2:-16}
legit=${3:-40}
cells=3,17,22,40,41,9
cargo build --release -q -p passgrid -p login-bench
bin=target/release/passgrid
dir=$(mktemp -d)
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
for i in $(seq 0 $((legit - 1))); do
  "$bin" --data-dir "$dir" user add "legit$i" >/dev/null
  "$bin" --data-dir "$dir" user set-pattern "legit$i" --cells "$cells" >/dev/null
done
"$bin" --data-dir "$dir" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
run() { target/release/attack-bench --url "$url" --ca "$dir/ca.pem" --cells "$cells" --legit-users "$legit" --seconds "$seconds" "$@"; }
echo "== baseline: $legit legitimate users, no attack"
run --attackers 0
echo "== spray: $attackers attackers, new IDs from one address"
run --attackers "$attackers" --mode spray
echo "== target: $attackers attackers, one ID from many addresses"
run --attackers "$attackers" --mode target
