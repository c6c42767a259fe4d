#!/usr/bin/env bash
# The cluster's kill tests (issue #20), on real parts: etcd + Patroni + PostgreSQL 15
# primary and synchronous standby, two passgrid servers, HAProxy — all on loopback,
# brought up here by deploy/cluster.sh and taken down at the end. Every wait is
# bounded; no test asserts a duration (bench/cluster.sh measures those).
#
#   bash tests/cluster/run.sh          (as root; TEST_PASSGRID_BIN, FAILOVER_BENCH_BIN)
#
# Prints one line per check and ends with "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/passgrid-cluster-test}
export CLUSTER_PORT=${CLUSTER_PORT:-16000}
export CLUSTER_PASSGRID_BIN=${TEST_PASSGRID_BIN:-$ROOT/target/debug/passgrid}
BENCH=${FAILOVER_BENCH_BIN:-$ROOT/target/debug/failover-bench}
CLUSTER="bash $ROOT/deploy/cluster.sh"
WORK=$(mktemp -d)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() {
  $CLUSTER down >/dev/null 2>&1 || true
  rm -rf "$WORK"
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
trap 'finish; exit $?' EXIT

# Waits up to $1 s for the command to succeed.
wait_for() {
  local secs=$1; shift
  local until=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$until" ] || return 1
    sleep 0.5
  done
}

echo "# passgrid backup of a live SQLite installation under login load"
CELLS=3,17,17,40,9,26,44
sq=$WORK/sqlite
mkdir -p "$sq/restored"
"$CLUSTER_PASSGRID_BIN" --data-dir "$sq/live" user add bench >/dev/null
"$CLUSTER_PASSGRID_BIN" --data-dir "$sq/live" user set-pattern bench --cells "$CELLS" >/dev/null
printf '[auth]\nrate_limit_per_source = { burst = 0, per_minute = 0 }\nrate_limit_per_user = { burst = 0, per_minute = 0 }\n' > "$sq/limits.toml"
serve_sqlite() { # data dir, port
  "$CLUSTER_PASSGRID_BIN" --config "$sq/limits.toml" --data-dir "$1" --log-level warn serve --listen "127.0.0.1:$2" >/dev/null 2>>"$sq/server.log" &
  echo $!
}
# The server runs in the command substitution's subshell, so `wait` cannot wait for
# it: stop it and wait (bounded) until it has gone, with the database closed.
stop_sqlite() { # pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
live=$(serve_sqlite "$sq/live" $((CLUSTER_PORT + 50)))
wait_for 60 curl -sf --cacert "$sq/live/ca.pem" "https://127.0.0.1:$((CLUSTER_PORT + 50))/readyz"
"$BENCH" --url "https://127.0.0.1:$((CLUSTER_PORT + 50))" --ca "$sq/live/ca.pem" --user bench --cells "$CELLS" \
  --connections 4 --seconds 8 --pause-ms 0 --log "$sq/rounds.log" >/dev/null &
load=$!
sleep 3
check "passgrid backup succeeds while logins are written" "$CLUSTER_PASSGRID_BIN" --data-dir "$sq/live" backup --out "$sq/backup.db"
wait "$load"
stop_sqlite "$live"
install -m 0600 "$sq/live/master.key" "$sq/restored/master.key"
check "passgrid restore puts it into a new installation" "$CLUSTER_PASSGRID_BIN" --data-dir "$sq/restored" restore "$sq/backup.db"
restored=$(serve_sqlite "$sq/restored" $((CLUSTER_PORT + 51)))
wait_for 60 curl -sf --cacert "$sq/restored/ca.pem" "https://127.0.0.1:$((CLUSTER_PORT + 51))/readyz"
"$BENCH" --url "https://127.0.0.1:$((CLUSTER_PORT + 51))" --ca "$sq/restored/ca.pem" --user bench --cells "$CELLS" \
  --connections 1 --seconds 1 --pause-ms 100 --log "$sq/restored.log" >/dev/null
check "a restored user signs in" grep -q '^ok ' "$sq/restored.log"
stop_sqlite "$restored"
echo "# a binary refuses a database schema newer than it knows"
sqlite3 "$sq/restored/passgrid.db" "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99999, 'from a newer passgrid', 1, x'00', 0)"
"$CLUSTER_PASSGRID_BIN" --data-dir "$sq/restored" user show bench > /dev/null 2> "$sq/newer.err"
check "the refusal names both versions" grep -q "schema is at version 99999, newer than this passgrid .* knows (version [0-9]*)" "$sq/newer.err"

$CLUSTER down >/dev/null 2>&1 || true
if ! $CLUSTER up --servers 2 >"$WORK/up.log" 2>&1; then
  cat "$WORK/up.log"
  bad "the cluster comes up"
  exit 1
fi
# shellcheck disable=SC1091
. "$CLUSTER_DIR/env"
A=https://127.0.0.1:$((CLUSTER_PORT + 30))
B=https://127.0.0.1:$((CLUSTER_PORT + 31))
pg() { PGPASSWORD=$PG_SUPER_PASSWORD psql -h 127.0.0.1 -p "$1" -U postgres -d passgrid -qAt -v ON_ERROR_STOP=1 -c "$2"; }
leader_port() { echo $((CLUSTER_PORT + 10 + $($CLUSTER leader) - 1)); }
pgcli() { "$CLUSTER_PASSGRID_BIN" --data-dir "$CLUSTER_DIR/init" --database-url "$DATABASE_URL" "$@"; }
pgcli user add bench >/dev/null
pgcli user set-pattern bench --cells "$CELLS" >/dev/null
pgcli user add alice >/dev/null
pgcli user add bob >/dev/null
pgcli admin create ops --role admin >/dev/null
TOKEN=$(pgcli --json admin token create ops | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
api() { curl -sS --max-time 20 --cacert "$CA_PEM" -H "Authorization: Bearer $TOKEN" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
otp_of() { python3 -c "
import json,sys
d=json.load(open(sys.argv[1])); cells=[int(c) for c in sys.argv[2].split(',')]
print(''.join(d['grid']['digits'][c] for c in cells))" "$1" "$CELLS"; }
start_on() { curl -sS --max-time 20 --cacert "$CA_PEM" -b "$2" -c "$2" -H 'Content-Type: application/json' -d '{"user":"bench"}' "$1/api/v1/auth/start"; }
verify_on() { curl -sS --max-time 20 -o /dev/null -w '%{http_code}' --cacert "$CA_PEM" -b "$2" -c "$2" -H 'Content-Type: application/json' -d "{\"challenge\":\"$3\",\"otp\":\"$4\"}" "$1/api/v1/auth/verify"; }

echo "# a server dies mid-login: start on A, kill -9 A, verify on B"
start_on "$A" "$WORK/jar1" > "$WORK/start1.json"
challenge=$(json 'd["challenge"]' < "$WORK/start1.json")
$CLUSTER kill-server 1
check "verify of A's challenge on B succeeds after A died" test "$(verify_on "$B" "$WORK/jar1" "$challenge" "$(otp_of "$WORK/start1.json")")" = 200
$CLUSTER start-server 1

echo "# a browser behind HAProxy keeps its session when its server dies (Playwright, Chromium)"
if [ -d "$ROOT/end2end/node_modules" ]; then
  if (cd "$ROOT/end2end" && E2E_CLUSTER_DIR=$CLUSTER_DIR npx playwright test tests/cluster-session.spec.ts > "$WORK/e2e.log" 2>&1) \
    && grep -q "1 passed" "$WORK/e2e.log"; then
    ok "the browser stays signed in through the death of either server"
  else
    tail -n 40 "$WORK/e2e.log"
    bad "the browser stays signed in through the death of either server"
  fi
else
  bad "end2end/node_modules missing: run npm ci in end2end first (scripts/test-all.sh does)"
fi

echo "# scheduled jobs: one holder per job; another takes over after a kill"
# The live servers (as "id name") holding job $2, as server $1 sees them.
holders() { api "$1/api/v1/admin/servers" | python3 -c "
import json,sys
d=json.load(sys.stdin)
for s in d['servers']:
    if s['live'] and '$2' in s['jobs']: print(s['id'], s['name'])"; }
one_holder() { [ "$(holders "$1" "$2" | wc -l)" = 1 ]; }
check "exactly one server holds the CRL job" wait_for 30 one_holder "$B" crl
check "exactly one server holds the purge job" wait_for 30 one_holder "$B" purge
read -r crl_holder crl_name < <(holders "$B" crl)
# A server's name ends with its listening address.
case "$crl_name" in *":$((CLUSTER_PORT + 30))") holder_index=1 ;; *) holder_index=2 ;; esac
other_url=https://127.0.0.1:$((CLUSTER_PORT + 30 + (2 - holder_index)))
$CLUSTER kill-server "$holder_index"
taken_by_other() { one_holder "$other_url" crl && [ "$(holders "$other_url" crl | cut -d' ' -f1)" != "$crl_holder" ]; }
check "another server takes the CRL job over after the holder is killed (within 60 s, one interval)" wait_for 60 taken_by_other
$CLUSTER start-server "$holder_index"

echo "# a bulk job started on A is visible and downloadable on B"
job=$(api -H 'Content-Type: application/json' -d '{"action":"issue","users":["alice","bob"]}' "$A/api/v1/admin/cert-jobs" | json 'd["id"]')
finished_on_b() { [ "$(api "$B/api/v1/admin/cert-jobs/$job" | json 'd["state"]')" = finished ]; }
check "the job's progress shows on B" wait_for 60 finished_on_b
api -o "$WORK/certs.zip" "$B/api/v1/admin/cert-jobs/$job/download"
check "B serves the job's ZIP (alice.p12, bob.p12, passwords)" bash -c "python3 -c \"import zipfile,sys; n=zipfile.ZipFile('$WORK/certs.zip').namelist(); sys.exit(0 if {'alice.p12','bob.p12','passwords.csv'} <= set(n) else 1)\""

echo "# a bulk job whose server dies is marked failed, with each user's state"
python3 -c "
print('id,name')
for i in range(1500): print(f'bulk{i:04d},Bulk {i}')" > "$WORK/bulk.csv"
pgcli user import "$WORK/bulk.csv" >/dev/null
job2=$(api -H 'Content-Type: application/json' -d '{"action":"issue","filter":{"q":"bulk"}}' "$A/api/v1/admin/cert-jobs" | json 'd["id"]')
some_done() { [ "$(api "$B/api/v1/admin/cert-jobs/$job2" | json 'd["done"]')" -gt 0 ]; }
wait_for 60 some_done
$CLUSTER kill-server 1
failed_on_b() { [ "$(api "$B/api/v1/admin/cert-jobs/$job2" | json 'd["state"]')" = failed ]; }
check "another server marks the job failed once its server stopped" wait_for 150 failed_on_b
api "$B/api/v1/admin/cert-jobs/$job2" > "$WORK/job2.json"
check "every user has a state; no certificate whose key died is left issued" python3 -c "
import json,sys
d=json.load(open('$WORK/job2.json')); r=d['results']
outcomes={x['outcome'] for x in r}
sys.exit(0 if len(r)==d['total']==1500 and 'issued' not in outcomes and 'not_done' in outcomes else 1)"
$CLUSTER start-server 1

echo "# rate limits across two servers: one budget, not two"
CLUSTER_AUTH_TOML=$'rate_limit_per_source = { burst = 40, per_minute = 1 }\nrate_limit_per_user = { burst = 0, per_minute = 0 }' \
  $CLUSTER restart-servers
two_live() { [ "$(api "$A/api/v1/admin/servers" | python3 -c "import json,sys; print(sum(1 for s in json.load(sys.stdin)['servers'] if s['live']))")" = 2 ]; }
wait_for 30 two_live
sleep 6  # one more heartbeat: both servers have counted two
allowed=0
for n in $(seq 1 100); do
  url=$A; [ $((n % 2)) = 0 ] && url=$B
  code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.9 --cacert "$CA_PEM" -H 'Content-Type: application/json' -d "{\"user\":\"spray$n\"}" "$url/api/v1/auth/start")
  [ "$code" = 200 ] && allowed=$((allowed + 1))
done
check "an attacker on two servers gets the budget of 40 ±10 % ($allowed allowed)" test "$allowed" -ge 36 -a "$allowed" -le 44
$CLUSTER restart-servers

echo "# the primary dies mid-login under load"
"$BENCH" --url "$HAPROXY_URL" --ca "$CA_PEM" --user bench --cells "$CELLS" --connections 4 --seconds 75 --pause-ms 20 --log "$WORK/rounds.log" > "$WORK/bench.out" 2>&1 &
bench=$!
sleep 8
start_on "$A" "$WORK/jar2" > "$WORK/start2.json"
challenge2=$(json 'd["challenge"]' < "$WORK/start2.json")
otp2=$(otp_of "$WORK/start2.json")
check "a challenge is consumed before the kill" test "$(verify_on "$A" "$WORK/jar2" "$challenge2" "$otp2")" = 200
old=$($CLUSTER kill-primary)
echo "  killed the postmaster of node$old"
unready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA_PEM" "$A/readyz")" = 503 ]; }
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA_PEM" "$A/readyz")" = 200 ]; }
check "/readyz answers 503 while no writable primary is reachable" wait_for 30 unready
check "Patroni promotes the standby" wait_for 90 bash -c "[ \"\$($CLUSTER leader)\" = $((3 - old)) ]"
check "/readyz answers 200 again once the servers reconnected" wait_for 90 ready
check "the challenge consumed before the kill is refused on the new primary" test "$(verify_on "$A" "$WORK/jar2" "$challenge2" "$otp2")" = 401
wait "$bench"
cat "$WORK/bench.out"
kill_ms=$(stat -c %Y "$WORK/start2.json")000
oks_after=$(awk -v k="$kill_ms" '$1=="ok" && $2>k {n++} END {print n+0}' "$WORK/rounds.log")
check "logins resume after the failover ($oks_after after the kill)" test "$oks_after" -gt 0
new_port=$(leader_port)
awk '$1=="ok" {print $3}' "$WORK/rounds.log" > "$WORK/tokens"
seen=$(wc -l < "$WORK/tokens")
PGPASSWORD=$PG_SUPER_PASSWORD psql -h 127.0.0.1 -p "$new_port" -U postgres -d passgrid -qAt -v ON_ERROR_STOP=1 \
  -c "CREATE TEMP TABLE seen (token text)" -c "\\copy seen FROM '$WORK/tokens'" \
  -c "SELECT count(*) FROM seen WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = sha256(convert_to(seen.token, 'UTF8')))" \
  > "$WORK/missing"
check "every login the load saw succeed ($seen) has its session on the new primary" test "$(tail -n 1 "$WORK/missing")" = 0
audits=$(pg "$new_port" "SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'success' AND target = 'bench'")
check "…and its audit row ($audits sign-in rows for $seen logins seen)" test "$audits" -ge "$seen"
rejoined() { curl -sf "http://127.0.0.1:$((CLUSTER_PORT + 20 + old - 1))/replica" >/dev/null; }
check "the old primary is started again, as a standby" wait_for 120 rejoined
old_port=$((CLUSTER_PORT + 10 + old - 1))
check "…and passgrid holds no connection to it" test "$(pg "$old_port" "SELECT count(*) FROM pg_stat_activity WHERE usename = 'passgrid'")" = 0
check "…and it is read-only (every passgrid write went to the new primary)" test "$(pg "$old_port" "SELECT pg_is_in_recovery()")" = t
host_in_use=$(api "$A/api/v1/admin/servers" | json 'd["database_host"]')
check "the servers use the new primary ($host_in_use)" test "$host_in_use" = "127.0.0.1:$new_port"
