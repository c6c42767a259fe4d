#!/usr/bin/env bash
# Time a bulk certificate job of the console (SPEC §2.9): N users imported over the
# API, one "issue" job for all of them (a key, a certificate and a PKCS#12 each),
# the ZIP downloaded, then one "revoke" job for all (release build, loopback only):
#   bash bench/bulk_certs.sh [users] [sqlite|postgres] [p256|rsa2048]
# postgres needs BENCH_PG_URL (a database this script may fill; it is emptied first).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-10000}
db=${2:-sqlite}
key=${3:-p256}
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
  print "id,name,email";
  for (i = 0; i < n; i++) printf "user%06d,User %06d,user%06d@example.com\n", i, i, i;
}' > "$dir/users.csv"
"$bin" "${args[@]}" ca export --out /dev/null   # create the installation first
"$bin" "${args[@]}" admin create bench-admin --role user-admin > /dev/null
token=$("$bin" "${args[@]}" --json admin token create bench-admin | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
cat > "$dir/bench.toml" <<TOML
[auth]
certificate_key = "$key"
TOML
"$bin" "${args[@]}" --config "$dir/bench.toml" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
api() { curl -sS --cacert "$dir/ca.pem" -H "Authorization: Bearer $token" "$@"; }
now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }

start=$(now)
api -X POST -H 'Content-Type: text/csv' --data-binary "@$dir/users.csv" "$url/api/v1/admin/user-imports" > /dev/null
echo "import of $users users over the API: $(since "$start") s"

job() {   # action → seconds until finished; prints the final counts
  local id started state
  started=$(now)
  id=$(api -X POST -H 'Content-Type: application/json' \
    --data "{\"action\":\"$1\",\"filter\":{\"q\":\"user\"}}" "$url/api/v1/admin/cert-jobs" |
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  while :; do
    api -o "$dir/job.json" "$url/api/v1/admin/cert-jobs/$id"
    state=$(head -c 400 "$dir/job.json")
    case "$state" in *'"state":"finished"'*) break ;; esac
    sleep 0.5
  done
  echo "$1 job for $users users ($key, $db): $(since "$started") s —" \
    "$(echo "$state" | grep -o '"succeeded":[0-9]*,"failed":[0-9]*')"
  last_job=$id
}
job issue
start=$(now)
api -o "$dir/certificates.zip" "$url/api/v1/admin/cert-jobs/$last_job/download"
echo "ZIP download: $(since "$start") s, $(du -k "$dir/certificates.zip" | cut -f1) KB"
echo "server memory after the issue job (RSS): $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
job revoke
