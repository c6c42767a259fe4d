#!/usr/bin/env bash
# Time `passgrid user import` of a generated CSV, then the administrators' user list
# at that size (release build, loopback only):
#   bash bench/import.sh [users] [sqlite|postgres]
# postgres needs BENCH_PG_URL (a database this script may fill; it is emptied first).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
db=${2:-sqlite}
cargo build --release -q -p passgrid
bin=target/release/passgrid
dir=$(mktemp -d)
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$dir"' EXIT
args=(--data-dir "$dir")
if [ "$db" = postgres ]; then
  psql -q "${BENCH_PG_URL:?set BENCH_PG_URL}" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'
  args+=(--database-url "$BENCH_PG_URL")
fi
awk -v n="$users" 'BEGIN {
  print "id,name,email,groups";
  for (i = 0; i < n; i++) printf "user%06d,User %06d,user%06d@example.com,%s\n", i, i, i, (i % 3 == 0 ? "sales" : "dev;ops");
}' > "$dir/users.csv"
"$bin" "${args[@]}" ca export --out /dev/null   # create the installation first
echo "importing $users users on $db"
start=$(date +%s.%N)
"$bin" "${args[@]}" user import "$dir/users.csv"
end=$(date +%s.%N)
echo "import: $(awk "BEGIN { print $end - $start }") s"
start=$(date +%s.%N)
"$bin" "${args[@]}" user import "$dir/users.csv" --dry-run | head -1
end=$(date +%s.%N)
echo "second run, no changes (dry run): $(awk "BEGIN { print $end - $start }") s"

# The user list's pages through the API, as the console will ask for them.
"$bin" "${args[@]}" admin create bench-admin --role auditor > /dev/null
token=$("$bin" "${args[@]}" --json admin token create bench-admin | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
cat > "$dir/bench.toml" <<'TOML'
[auth]
rate_limit_per_source = { burst = 0, per_minute = 0 }
TOML
"$bin" "${args[@]}" --config "$dir/bench.toml" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
page() {
  curl -s -o /dev/null --cacert "$dir/ca.pem" -H "Authorization: Bearer $token" -w '%{time_total}' "$url$1"
}
for q in "/api/v1/admin/users?limit=50" "/api/v1/admin/users?limit=50&after=user050000" \
         "/api/v1/admin/users?limit=50&q=User%200999" "/api/v1/admin/users?limit=50&group=sales" \
         "/api/v1/admin/users?limit=50&q=nobody-matches" \
         "/api/v1/admin/users?limit=50&cert=none" "/api/v1/admin/users?limit=50&cert=valid"; do
  page "$q" > /dev/null   # warm
  best=9; for _ in 1 2 3 4 5; do t=$(page "$q"); best=$(awk "BEGIN { print ($t < $best) ? $t : $best }"); done
  echo "GET $q: best of 5 $(awk "BEGIN { printf \"%.1f\", $best * 1000 }") ms"
done
