#!/usr/bin/env bash
# One login benchmark run against a given passgrid binary (used by run.sh and
# compare.sh): a throw-away SQLite installation (or BENCH_PG_URL's database with
# `postgres`), a user with a pattern, rate limits off, the server on a free loopback
# port, then login-bench for N connections and S seconds. Prints login-bench's line.
#   bash bench/login_round.sh BIN LOGIN_BENCH [sqlite|postgres] [connections] [seconds]
set -euo pipefail
bin=$1; bench=$2; db=${3:-sqlite}; connections=${4:-16}; seconds=${5:-10}
if [ "$db" = postgres ]; then
  # The database keeps the CA sealed under this installation's master key, so the
  # data directory stays for the next run on the same database.
  dir=${BENCH_PG_DIR:-target/bench-postgres}
  mkdir -p "$dir" && chmod 700 "$dir"
  trap 'kill ${server:-} 2>/dev/null || true' EXIT
  args=(--data-dir "$dir" --database-url "${BENCH_PG_URL:?set BENCH_PG_URL}")
elif [ -n "${BENCH_DIR:-}" ]; then
  # An installation prepared beforehand (bench/scale.sh): kept.
  dir=$BENCH_DIR
  trap 'kill ${server:-} 2>/dev/null || true' EXIT
  args=(--data-dir "$dir")
else
  dir=$(mktemp -d)
  trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
  args=(--data-dir "$dir")
fi
# One user per connection (BENCH_USERS to spread the rounds over more): one user's
# attempts in flight at once are bounded by the lock-out threshold, as for people.
users=${BENCH_USERS:-$connections}
for i in $(seq 0 $((users - 1))); do
  # The users may exist from an earlier run on the same PostgreSQL database, and so
  # may their patterns (the history refuses setting the same one again).
  "$bin" "${args[@]}" user add "bench$i" >/dev/null 2>&1 || true
  "$bin" "${args[@]}" user set-pattern "bench$i" --cells 3,17,17,40,9,26,44 >/dev/null 2>&1 || true
done
# This measures the login path itself: one user from one address, far over the
# shipped rate limits (bench/attack.sh measures them). Binaries from before the rate
# limits refuse the unknown keys: they start without the file.
cat > "$dir/bench.toml" <<'TOML'
[auth]
rate_limit_per_source = { burst = 0, per_minute = 0 }
rate_limit_per_user = { burst = 0, per_minute = 0 }
TOML
config=(--config "$dir/bench.toml")
"$bin" "${config[@]}" "${args[@]}" ca export --out /dev/null >/dev/null 2>&1 || config=()
"$bin" "${config[@]}" "${args[@]}" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 200); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
[ -n "$url" ] || { echo "the server did not start:" >&2; tail -5 "$dir/server.log" >&2; exit 1; }
if [ -n "${BENCH_RSS:-}" ]; then
  echo "idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
fi
"$bench" --url "$url" --ca "$dir/ca.pem" --user bench --users "$users" \
  --cells 3,17,17,40,9,26,44 --connections "$connections" --seconds "$seconds" &
load=$!
if [ -n "${BENCH_RSS:-}" ]; then
  sleep $(( seconds / 2 ))
  echo "RSS under load: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
fi
wait $load
