#!/usr/bin/env bash
# A reference passgrid cluster on one machine, all on loopback ports: etcd (one
# member), two PostgreSQL 15 nodes under Patroni (primary + streaming standby,
# synchronous by default), two or three passgrid servers, HAProxy in front.
#
#   bash deploy/cluster.sh up      [--servers 2|3] [--async]   # prints the URLs, writes $DIR/env
#   bash deploy/cluster.sh down                                  # stops everything, removes $DIR
#   bash deploy/cluster.sh status
#   bash deploy/cluster.sh kill-primary                          # kill -9 of the primary's postmaster
#   bash deploy/cluster.sh kill-server N | start-server N         # one passgrid server
#   bash deploy/cluster.sh restart-servers                        # again, with $CLUSTER_AUTH_TOML
#
# Runs as root (Patroni and PostgreSQL run as the postgres user through runuser); no
# systemd needed. Debian packages: postgresql-15, patroni, etcd-server, haproxy.
# Environment: CLUSTER_DIR (default /tmp/passgrid-cluster), CLUSTER_PORT (base port,
# default 15000), CLUSTER_PASSGRID_BIN (default target/release/passgrid, else target/debug).
#
# Ports (base B): etcd B, B+1 · PostgreSQL B+10, B+11 · Patroni REST B+20, B+21 ·
# passgrid B+30… · HAProxy B+40 (HTTPS, TCP pass-through so client certificates reach
# passgrid), stats B+41.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${CLUSTER_DIR:-/tmp/passgrid-cluster}
B=${CLUSTER_PORT:-15000}
PGBIN=/usr/lib/postgresql/15/bin
if [ -z "${CLUSTER_PASSGRID_BIN:-}" ]; then
  CLUSTER_PASSGRID_BIN=$ROOT/target/release/passgrid
  [ -x "$CLUSTER_PASSGRID_BIN" ] || CLUSTER_PASSGRID_BIN=$ROOT/target/debug/passgrid
fi

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
as_pg() { runuser -u postgres -- "$@"; }

# Waits up to $1 seconds for "$2 …" to succeed.
wait_for() {
  local secs=$1; shift
  local until=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$until" ] || return 1
    sleep 0.5
  done
}

pg_port() { echo $(( B + 10 + $1 - 1 )); }
rest_port() { echo $(( B + 20 + $1 - 1 )); }
server_port() { echo $(( B + 30 + $1 - 1 )); }

# The node (1 or 2) Patroni reports as leader, from its REST API.
leader() {
  for n in 1 2; do
    if curl -sf -o /dev/null "http://127.0.0.1:$(rest_port "$n")/primary"; then echo "$n"; return 0; fi
  done
  return 1
}

start_etcd() {
  mkdir -p "$DIR/etcd"
  etcd --name etcd1 --data-dir "$DIR/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$B" --advertise-client-urls "http://127.0.0.1:$B" \
    --listen-peer-urls "http://127.0.0.1:$((B + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((B + 1))" \
    --initial-cluster "etcd1=http://127.0.0.1:$((B + 1))" --initial-cluster-state new \
    > "$DIR/etcd/etcd.log" 2>&1 &
  echo $! > "$DIR/etcd/pid"
  wait_for 20 curl -sf "http://127.0.0.1:$B/health" || die "etcd did not start (see $DIR/etcd/etcd.log)"
}

# Patroni's configuration of node $1. SYNC=on: synchronous replication managed by
# Patroni (synchronous_commit = on, synchronous_standby_names set to the standby), so
# a commit the client saw is on the standby before passgrid answers.
patroni_config() {
  local n=$1 sync=$2
  cat <<YAML
scope: passgrid
namespace: /passgrid-$B/
name: node$n
restapi:
  listen: 127.0.0.1:$(rest_port "$n")
  connect_address: 127.0.0.1:$(rest_port "$n")
etcd3:
  hosts: 127.0.0.1:$B
bootstrap:
  dcs:
    # Patroni's defaults for the leader lease and its loop; see deploy/README.md.
    ttl: 30
    loop_wait: 10
    retry_timeout: 10
    maximum_lag_on_failover: 1048576
    # A crash of the primary's postgres is failed over at once (to the synchronous
    # standby, which has every commit) instead of restarted in place for up to 300 s.
    primary_start_timeout: 0
    synchronous_mode: $sync
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        synchronous_commit: "on"
        max_connections: 200
  initdb:
    - encoding: UTF8
    - data-checksums
    - auth-host: scram-sha-256
    - auth-local: trust
postgresql:
  listen: 127.0.0.1:$(pg_port "$n")
  connect_address: 127.0.0.1:$(pg_port "$n")
  data_dir: $DIR/node$n/data
  bin_dir: $PGBIN
  pgpass: $DIR/node$n/pgpass
  authentication:
    superuser:
      username: postgres
      password: "$PG_SUPER_PASSWORD"
    replication:
      username: replicator
      password: "$PG_REPL_PASSWORD"
    rewind:
      username: postgres
      password: "$PG_SUPER_PASSWORD"
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
  parameters:
    unix_socket_directories: "$DIR/node$n"
tags:
  nofailover: false
  noloadbalance: false
YAML
}

start_patroni() {
  local n=$1
  mkdir -p "$DIR/node$n"
  chown postgres:postgres "$DIR/node$n"
  chmod 700 "$DIR/node$n"
  as_pg bash -c "patroni '$DIR/node$n/patroni.yml' >> '$DIR/node$n/patroni.log' 2>&1 & echo \$! > '$DIR/node$n/patroni.pid'"
}

psql_leader() {
  local n; n=$(leader) || return 1
  PGPASSWORD=$PG_SUPER_PASSWORD psql -h 127.0.0.1 -p "$(pg_port "$n")" -U postgres -qAt -v ON_ERROR_STOP=1 "$@"
}

start_passgrid() {
  local i=$1 dir=$DIR/passgrid$1
  mkdir -p "$dir"
  chmod 700 "$dir"
  # Every server holds the same master key; nothing else is shared but the database.
  install -m 0600 "$DIR/master.key" "$dir/master.key"
  "$CLUSTER_PASSGRID_BIN" --config "$DIR/passgrid.toml" --data-dir "$dir" --database-url "$DATABASE_URL" \
    --json --log-level "${PASSGRID_LOG_LEVEL:-info}" serve --listen "127.0.0.1:$(server_port "$i")" \
    > "$dir/banner" 2>> "$dir/server.log" &
  echo $! > "$dir/pid"
}

wait_passgrid() {
  local i=$1
  wait_for 90 curl -sf --cacert "$DIR/ca.pem" "https://127.0.0.1:$(server_port "$i")/readyz" \
    || die "passgrid $i is not ready (see $DIR/passgrid$i/server.log)"
}

# passgrid's configuration; CLUSTER_AUTH_TOML replaces the [auth] lines. By default
# the rate limits are off: behind HAProxy in TCP mode every client arrives from
# 127.0.0.1, so per-address limits would count all of them as one (deploy/README.md).
write_passgrid_toml() {
  local auth=${CLUSTER_AUTH_TOML:-}
  if [ -z "$auth" ]; then
    auth=$'rate_limit_per_source = { burst = 0, per_minute = 0 }\nrate_limit_per_user = { burst = 0, per_minute = 0 }'
  fi
  printf '[serve]\nhostnames = ["127.0.0.1", "localhost"]\npublic_url = "https://127.0.0.1:%s"\n[auth]\n%s\n' \
    "$((B + 40))" "$auth" > "$DIR/passgrid.toml"
}

write_haproxy() {
  local servers=$1
  {
    cat <<CFG
global
  maxconn 4096
  pidfile $DIR/haproxy/pid
  stats socket $DIR/haproxy/admin.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch
frontend https
  bind 127.0.0.1:$((B + 40))
  default_backend passgrid
backend passgrid
  balance roundrobin
  # Ready = a writable database primary behind the server (GET /readyz over TLS).
  option httpchk GET /readyz
  http-check expect status 200
  default-server check check-ssl verify none inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
CFG
    for i in $(seq 1 "$servers"); do echo "  server passgrid$i 127.0.0.1:$(server_port "$i")"; done
    cat <<CFG
listen stats
  mode http
  bind 127.0.0.1:$((B + 41))
  stats enable
  stats uri /
CFG
  } > "$DIR/haproxy/haproxy.cfg"
}

up() {
  local servers=2 sync=true
  while [ $# -gt 0 ]; do
    case "$1" in
      --servers) servers=$2; shift 2 ;;
      --async) sync=false; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ "$(id -u)" = 0 ] || die "run as root (PostgreSQL runs as postgres through runuser)"
  [ -x "$CLUSTER_PASSGRID_BIN" ] || die "no passgrid binary at $CLUSTER_PASSGRID_BIN (cargo xtask build --release)"
  for c in etcd patroni haproxy "$PGBIN/postgres"; do command -v "$c" >/dev/null || die "missing $c (apt-get install postgresql-15 patroni etcd-server haproxy)"; done
  [ ! -e "$DIR" ] || die "$DIR exists: run '$0 down' first"
  mkdir -p "$DIR/haproxy"
  chmod 755 "$DIR"
  PG_SUPER_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  PG_REPL_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  PG_APP_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  export PG_SUPER_PASSWORD PG_REPL_PASSWORD

  log "etcd on 127.0.0.1:$B"
  start_etcd
  for n in 1 2; do
    mkdir -p "$DIR/node$n"
    patroni_config "$n" "$sync" > "$DIR/node$n/patroni.yml"
    chown -R postgres:postgres "$DIR/node$n"
    chmod 600 "$DIR/node$n/patroni.yml"
  done
  log "PostgreSQL node1 (bootstraps the cluster) on $(pg_port 1)"
  start_patroni 1
  wait_for 60 curl -sf "http://127.0.0.1:$(rest_port 1)/primary" || die "node1 did not become primary (see $DIR/node1/patroni.log)"
  log "PostgreSQL node2 (streaming standby) on $(pg_port 2)"
  start_patroni 2
  wait_for 90 curl -sf "http://127.0.0.1:$(rest_port 2)/replica" || die "node2 did not become a replica (see $DIR/node2/patroni.log)"
  if [ "$sync" = true ]; then
    # Patroni names the standby in synchronous_standby_names within a loop or two.
    wait_for 60 bash -c "curl -sf http://127.0.0.1:$(rest_port 1)/cluster | grep -q sync_standby" \
      || die "node2 did not become the synchronous standby"
  fi
  psql_leader -d postgres -c "CREATE ROLE passgrid LOGIN PASSWORD '$PG_APP_PASSWORD'" \
    -c "CREATE DATABASE passgrid OWNER passgrid" >/dev/null

  DATABASE_URL="postgres://passgrid:$PG_APP_PASSWORD@127.0.0.1:$(pg_port 1),127.0.0.1:$(pg_port 2)/passgrid?target_session_attrs=read-write"
  write_passgrid_toml
  # The installation: master key, CA and the first migrations, made once.
  mkdir -p "$DIR/init" && chmod 700 "$DIR/init"
  "$CLUSTER_PASSGRID_BIN" --data-dir "$DIR/init" --database-url "$DATABASE_URL" group list >/dev/null
  install -m 0600 "$DIR/init/master.key" "$DIR/master.key"
  cp "$DIR/init/ca.pem" "$DIR/ca.pem"
  for i in $(seq 1 "$servers"); do start_passgrid "$i"; done
  for i in $(seq 1 "$servers"); do wait_passgrid "$i"; done
  write_haproxy "$servers"
  haproxy -f "$DIR/haproxy/haproxy.cfg" -D
  wait_for 20 curl -sf --cacert "$DIR/ca.pem" "https://127.0.0.1:$((B + 40))/readyz" || die "HAProxy does not answer"
  cat > "$DIR/env" <<ENV
CLUSTER_DIR=$DIR
CLUSTER_PORT=$B
CLUSTER_PASSGRID_BIN=$CLUSTER_PASSGRID_BIN
DATABASE_URL='$DATABASE_URL'
PG_SUPER_PASSWORD=$PG_SUPER_PASSWORD
CA_PEM=$DIR/ca.pem
HAPROXY_URL=https://127.0.0.1:$((B + 40))
SERVERS=$servers
SYNC=$sync
ENV
  chmod 600 "$DIR/env"
  log "up: $(for i in $(seq 1 "$servers"); do printf 'passgrid%s https://127.0.0.1:%s  ' "$i" "$(server_port "$i")"; done)"
  log "HAProxy https://127.0.0.1:$((B + 40))/ (stats http://127.0.0.1:$((B + 41))/), CA $DIR/ca.pem; settings in $DIR/env"
}

stop_pid_file() {
  local f=$1 sig=${2:-TERM}
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

down() {
  [ -d "$DIR" ] || { log "nothing at $DIR"; return 0; }
  stop_pid_file "$DIR/haproxy/pid"
  for d in "$DIR"/passgrid*; do [ -d "$d" ] && stop_pid_file "$d/pid"; done
  for n in 1 2; do stop_pid_file "$DIR/node$n/patroni.pid"; done
  # Patroni stops its postgres; one killed by a test may have left a postmaster.
  for n in 1 2; do
    if [ -f "$DIR/node$n/data/postmaster.pid" ]; then
      kill -KILL "$(head -n 1 "$DIR/node$n/data/postmaster.pid")" 2>/dev/null || true
    fi
  done
  stop_pid_file "$DIR/etcd/pid"
  rm -rf "$DIR"
  log "down"
}

status() {
  [ -f "$DIR/env" ] || die "no cluster at $DIR"
  for n in 1 2; do
    printf 'node%s: %s\n' "$n" "$(curl -s "http://127.0.0.1:$(rest_port "$n")/patroni" | head -c 300 || echo down)"
  done
  for d in "$DIR"/passgrid*; do
    [ -d "$d" ] || continue
    local i=${d##*passgrid}
    printf 'passgrid%s readyz: %s\n' "$i" "$(curl -s --cacert "$DIR/ca.pem" "https://127.0.0.1:$(server_port "$i")/readyz" || echo down)"
  done
}

kill_primary() {
  local n; n=$(leader) || die "no primary"
  local pid; pid=$(head -n 1 "$DIR/node$n/data/postmaster.pid")
  kill -KILL "$pid"
  echo "$n"
}

load_env() {
  [ -f "$DIR/env" ] || die "no cluster at $DIR"
  # shellcheck disable=SC1091
  . "$DIR/env"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  kill-server) load_env; kill -KILL "$(cat "$DIR/passgrid$2/pid")" ;;
  start-server) load_env; start_passgrid "$2"; wait_passgrid "$2" ;;
  restart-servers)
    load_env
    write_passgrid_toml
    for i in $(seq 1 "$SERVERS"); do stop_pid_file "$DIR/passgrid$i/pid"; done
    for i in $(seq 1 "$SERVERS"); do start_passgrid "$i"; done
    for i in $(seq 1 "$SERVERS"); do wait_passgrid "$i"; done ;;
  down) down ;;
  status) status ;;
  kill-primary) kill_primary ;;
  leader) leader ;;
  *) die "usage: $0 up [--servers N] [--async] | down | status | kill-primary | leader | kill-server N | start-server N | restart-servers" ;;
esac
