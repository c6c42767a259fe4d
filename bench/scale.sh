#!/usr/bin/env bash
# The login benchmark on a big installation (issue #16): USERS users (imported from a
# CSV, as a company's directory would be) and AUDIT audit entries already in the
# database, the logins spread over LOGIN_USERS of the users. Compare the figure with
# `bash bench/run.sh` on an empty database.
#   bash bench/scale.sh [sqlite|postgres] [connections] [seconds] [users] [audit] [login_users]
# postgres needs BENCH_PG_URL (a database this script empties and fills).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
connections=${2:-16}
seconds=${3:-10}
users=${4:-100000}
audit=${5:-1000000}
login_users=${6:-1000}
cargo build --release -q -p passgrid -p login-bench
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/passgrid
dir=$(mktemp -d)
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
args=(--data-dir "$dir")
if [ "$db" = postgres ]; then
  psql -q "${BENCH_PG_URL:?set BENCH_PG_URL}" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'
  args+=(--database-url "$BENCH_PG_URL")
fi
"$bin" "${args[@]}" ca export --out /dev/null   # the installation and its schema
awk -v n="$users" 'BEGIN {
  print "id,name,email,groups";
  for (i = 0; i < n; i++) printf "user%06d,User %06d,user%06d@example.com,%s\n", i, i, i, (i % 3 == 0 ? "sales" : "dev;ops");
}' > "$dir/users.csv"
echo "importing $users users"
"$bin" "${args[@]}" user import "$dir/users.csv" | tail -1
# A month of history: sign-ins of all those users (one in ten failed).
now=$(date +%s)
echo "adding $audit audit entries"
if [ "$db" = postgres ]; then
  psql -q "$BENCH_PG_URL" -c "INSERT INTO audit_log (at, actor, source, action, target, outcome, reason)
    SELECT $now - 2592000 + i * 2, 'user' || lpad((i % $users)::text, 6, '0'), '127.0.0.1', 'auth.login',
           'user' || lpad((i % $users)::text, 6, '0'),
           CASE WHEN i % 10 = 0 THEN 'failure' ELSE 'success' END,
           CASE WHEN i % 10 = 0 THEN 'otp rejected' ELSE '' END
    FROM generate_series(1, $audit) AS i"
else
  sqlite3 "$dir/passgrid.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $audit)
    INSERT INTO audit_log (at, actor, source, action, target, outcome, reason)
    SELECT $now - 2592000 + i * 2, printf('user%06d', i % $users), '127.0.0.1', 'auth.login',
           printf('user%06d', i % $users),
           CASE WHEN i % 10 = 0 THEN 'failure' ELSE 'success' END,
           CASE WHEN i % 10 = 0 THEN 'otp rejected' ELSE '' END
    FROM n"
fi
# The server seals new entries into the audit chain every second: let it seal these
# before the measurement, so the run sees a big database, not a backlog.
unsealed() {
  if [ "$db" = postgres ]; then
    psql -qtA "$BENCH_PG_URL" -c 'SELECT count(*) FROM audit_log WHERE chain_seq IS NULL'
  else
    sqlite3 "$dir/passgrid.db" 'SELECT count(*) FROM audit_log WHERE chain_seq IS NULL'
  fi
}
"$bin" "${args[@]}" --log-level warn serve --listen 127.0.0.1:0 > /dev/null 2> "$dir/seal.log" &
server=$!
start=$(date +%s)
while [ "$(unsealed)" != 0 ]; do sleep 2; done
echo "sealed in $(( $(date +%s) - start )) s"
kill $server; wait $server 2>/dev/null || true; server=
echo "$users users, $audit audit entries; logins spread over $login_users users"
if [ "$db" = postgres ]; then
  BENCH_PG_DIR=$dir BENCH_USERS=$login_users bash bench/login_round.sh "$bin" \
    "$target/release/login-bench" postgres "$connections" "$seconds"
else
  BENCH_DIR=$dir BENCH_USERS=$login_users bash bench/login_round.sh "$bin" \
    "$target/release/login-bench" sqlite "$connections" "$seconds"
fi
