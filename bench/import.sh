#!/usr/bin/env bash
# Time `passgrid user import` of a generated CSV (release build, loopback only):
#   bash bench/import.sh [users] [sqlite|postgres]
# postgres needs BENCH_PG_URL (a database this script may fill; it is emptied first).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
db=${2:-sqlite}
cargo build --release -q -p passgrid
bin=target/release/passgrid
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
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
