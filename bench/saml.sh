#!/usr/bin/env bash
# SP-initiated SAML rounds per second inside a live SSO session (issue #19): an
# AuthnRequest by HTTP-Redirect with the session cookie → passgrid's signed Response
# (RSA-SHA256 over exclusive c14n, ring) in its auto-post form, on N keep-alive HTTPS
# connections. passgrid: release build, SQLite; one SP registered from metadata with
# a persistent NameID and three attributes; every round audited (request, assertion).
#   bash bench/saml.sh [connections] [seconds] [sign: assertion|response|both]
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-16}
seconds=${2:-10}
sign=${3:-assertion}
cargo build --release -q -p passgrid -p login-bench
bin=${CARGO_TARGET_DIR:-target}/release/passgrid
bench=${CARGO_TARGET_DIR:-target}/release/saml-bench
dir=$(mktemp -d)
cleanup() {
  kill ${server:-} 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cells=3,17,17,40,9,26,44
sp=https://sp.bench.example/metadata

pg=(--data-dir "$dir/pg")
"$bin" "${pg[@]}" user add bench --email bench@example.com --name Bench >/dev/null
"$bin" "${pg[@]}" user set-pattern bench --cells "$cells" >/dev/null
"$bin" "${pg[@]}" group add staff >/dev/null
cat > "$dir/sp.xml" <<XML
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="$sp">
 <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
   Location="https://sp.bench.example/acs" index="0"/>
 </md:SPSSODescriptor>
</md:EntityDescriptor>
XML
"$bin" "${pg[@]}" saml sp add bench --metadata "$dir/sp.xml" --sign "$sign" \
  --attribute mail=email --attribute displayName=name --attribute groups=groups >/dev/null
cat > "$dir/bench.toml" <<'TOML'
[auth]
rate_limit_per_source = { burst = 0, per_minute = 0 }
rate_limit_per_user = { burst = 0, per_minute = 0 }
TOML
"$bin" "${pg[@]}" --config "$dir/bench.toml" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
ca="$dir/pg/ca.pem"
start=$(curl -sS --cacert "$ca" -c "$dir/jar" -b "$dir/jar" -H 'Content-Type: application/json' \
  -d '{"user":"bench"}' "$url/api/v1/auth/start")
verify=$(printf '%s' "$start" | python3 -c "
import json, sys
s = json.load(sys.stdin)
otp = ''.join(s['grid']['digits'][int(c)] for c in '$cells'.split(','))
print(json.dumps({'challenge': s['challenge'], 'otp': otp}))")
curl -sS --cacert "$ca" -c "$dir/jar" -b "$dir/jar" -H 'Content-Type: application/json' -d "$verify" \
  "$url/api/v1/auth/verify" >/dev/null
session=$(awk -F'\t' '$6 == "passgrid_session" {print $7}' "$dir/jar")
echo "passgrid at $url: $connections connections for $seconds s, sign $sign"
"$bench" --url "$url" --ca "$ca" --sp "$sp" --cookie "passgrid_session=$session" \
  --connections "$connections" --seconds "$seconds"
