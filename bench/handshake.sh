#!/usr/bin/env bash
# Server CPU per new mutual-TLS handshake, against a release passgrid on loopback:
#   bash bench/handshake.sh [workers] [seconds] [tls13|tls12]
# A device certificate is issued from a CSR; handshake-bench makes a full handshake per
# connection (no resumption) with it and asks for /healthz; the server's user+system
# CPU time comes from /proc/PID/stat before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-8}
seconds=${2:-10}
version=${3:-tls13}
cargo build --release -q -p passgrid -p login-bench
bin=target/release/passgrid
dir=$(mktemp -d)
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" --data-dir "$dir" user add bench >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/dev.key" \
  -subj /CN=device -out "$dir/dev.csr" 2>/dev/null
"$bin" --data-dir "$dir" cert issue bench --csr "$dir/dev.csr" --out "$dir/dev.pem" >/dev/null
"$bin" --data-dir "$dir" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/.*"listen":"\([^"]*\)".*/\1/p' "$dir/banner")
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
before=$(ticks)
out=$(target/release/handshake-bench --addr "$addr" --ca "$dir/ca.pem" --cert "$dir/dev.pem" \
  --key "$dir/dev.key" --workers "$workers" --seconds "$seconds" "--$version")
after=$(ticks)
echo "$out"
done_count=$(echo "$out" | awk '{print $1}')
hz=$(getconf CLK_TCK)
awk -v t=$((after - before)) -v hz="$hz" -v n="$done_count" -v v="$version" \
  'BEGIN { printf "server CPU: %.2f s for %d %s handshakes = %.3f ms per handshake (incl. one /healthz)\n", t / hz, n, v, 1000 * t / hz / n }'
