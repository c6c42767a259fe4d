#!/usr/bin/env bash
# The reference cluster under load (issue #20), on this machine, loopback only:
#   1. login rounds/s through HAProxy with 1 and 2 passgrid servers, on Patroni's
#      PostgreSQL 15 primary + standby, synchronous and asynchronous replication;
#   2. the failover gap: from kill -9 of the primary's postmaster to the first login
#      that succeeds after the promotion, the logins that failed meanwhile, and
#      whether every login the load saw succeed kept its session.
#
#   bash bench/cluster.sh [seconds per load run] [connections]      (as root)
#   FAILOVER_ONLY=1 bash bench/cluster.sh                            (just the failover gap)
# The round logs are kept in target/bench-cluster/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
cargo build --release -q -p passgrid -p login-bench
export CLUSTER_PASSGRID_BIN=$PWD/target/release/passgrid
export CLUSTER_DIR=/tmp/passgrid-cluster-bench CLUSTER_PORT=17000
CLUSTER="bash deploy/cluster.sh"
CELLS=3,17,17,40,9,26,44
work=$PWD/target/bench-cluster
mkdir -p "$work"
trap '$CLUSTER down >/dev/null 2>&1 || true' EXIT

haproxy_cmd() {
  python3 - "$CLUSTER_DIR/haproxy/admin.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2] + "\n").encode()); s.recv(4096)
PY
}

for mode in sync async; do
  $CLUSTER down >/dev/null 2>&1 || true
  if [ "$mode" = async ]; then $CLUSTER up --servers 2 --async; else $CLUSTER up --servers 2; fi
  # shellcheck disable=SC1091
  . "$CLUSTER_DIR/env"
  "$CLUSTER_PASSGRID_BIN" --data-dir "$CLUSTER_DIR/init" --database-url "$DATABASE_URL" user add bench >/dev/null
  "$CLUSTER_PASSGRID_BIN" --data-dir "$CLUSTER_DIR/init" --database-url "$DATABASE_URL" user set-pattern bench --cells "$CELLS" >/dev/null
  if [ -z "${FAILOVER_ONLY:-}" ]; then
  haproxy_cmd "disable server passgrid/passgrid2"
  sleep 1
  printf '%s replication, 1 server:  ' "$mode"
  target/release/login-bench --url "$HAPROXY_URL" --ca "$CA_PEM" --user bench --cells "$CELLS" --connections "$connections" --seconds "$seconds"
  haproxy_cmd "enable server passgrid/passgrid2"
  sleep 3
  printf '%s replication, 2 servers: ' "$mode"
  target/release/login-bench --url "$HAPROXY_URL" --ca "$CA_PEM" --user bench --cells "$CELLS" --connections "$connections" --seconds "$seconds"
  fi

  # The failover gap under a steady load (4 connections, a login every ~20 ms each).
  target/release/failover-bench --url "$HAPROXY_URL" --ca "$CA_PEM" --user bench --cells "$CELLS" \
    --connections 4 --seconds 60 --pause-ms 20 --log "$work/rounds-$mode.log" > "$work/bench-$mode.out" &
  load=$!
  sleep 15
  kill_ms=$(date +%s%3N)
  old=$($CLUSTER kill-primary)
  wait "$load"
  new=$($CLUSTER leader)
  new_port=$((CLUSTER_PORT + 10 + new - 1))
  awk '$1=="ok" {print $3}' "$work/rounds-$mode.log" > "$work/tokens"
  missing=$(PGPASSWORD=$PG_SUPER_PASSWORD psql -h 127.0.0.1 -p "$new_port" -U postgres -d passgrid -qAt \
    -c "CREATE TEMP TABLE seen (token text)" -c "\\copy seen FROM '$work/tokens'" \
    -c "SELECT count(*) FROM seen WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = sha256(convert_to(seen.token, 'UTF8')))" | tail -n 1)
  # The gap: from the kill to the first login that succeeds after the first one that
  # failed (a login in flight at the kill may still succeed: it had committed).
  sort -k2,2n "$work/rounds-$mode.log" | awk -v k="$kill_ms" -v mode="$mode" -v old="$old" -v new="$new" -v missing="$missing" '
    $2<=k && $1=="ok" {before++}
    $2>k && $1=="fail" && !ffail {ffail=$2}
    $2>k && $1=="fail" && !first {failed++}
    $2>k && $1=="ok" && ffail && !first {first=$2}
    $2>k && $1=="ok" {after++}
    END {
      gap = first ? (first-k)/1000 : 0
      printf "%s replication: kill -9 of node%s'"'"'s postmaster, node%s promoted; first failed login %.1f s after the kill; first login after the outage %.1f s after it; %d logins failed; %d ok before, %d after; sessions missing on the new primary: %s\n",
        mode, old, new, ffail ? (ffail-k)/1000 : -1, gap, failed, before, after, missing
    }'
done
