#!/usr/bin/env bash
# OpenID Connect authorization-code rounds per second (authorize with an SSO session →
# code → token exchange with PKCE → userinfo, HTTPS keep-alive), against passgrid
# (release build, SQLite) and, in the same run with the same load generator, against
# the reference provider npm oidc-provider (bench/oidc-provider). Loopback only.
#   bash bench/oidc.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-16}
seconds=${2:-10}
cargo build --release -q -p passgrid -p login-bench
(cd bench/oidc-provider && npm ci --no-audit --no-fund --silent)
bin=target/release/passgrid
dir=$(mktemp -d)
cleanup() {
  kill ${server:-} ${reference:-} 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
redirect=https://rp.example/cb
cells=3,17,17,40,9,26,44

# passgrid: a user with a pattern, a client, one sign-in (the SSO session).
pg=(--data-dir "$dir/pg")
"$bin" "${pg[@]}" user add bench >/dev/null
"$bin" "${pg[@]}" user set-pattern bench --cells "$cells" >/dev/null
mkdir -p "$dir/pg" && cat > "$dir/bench.toml" <<'TOML'
[auth]
rate_limit_per_source = { burst = 0, per_minute = 0 }
rate_limit_per_user = { burst = 0, per_minute = 0 }
TOML
client=$("$bin" "${pg[@]}" --json oidc client add bench --redirect-uri "$redirect")
client_id=$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
secret=$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
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
echo "passgrid at $url: $connections connections for $seconds s"
passgrid_result=$(target/release/oidc-bench --issuer "$url" --ca "$ca" --client-id "$client_id" \
  --secret "$secret" --redirect-uri "$redirect" --cookie "passgrid_session=$session" \
  --connections "$connections" --seconds "$seconds")
echo "  $passgrid_result"
kill $server; wait $server 2>/dev/null || true; server=

# The reference: oidc-provider with the same client, one interaction for its session.
# Its TLS certificate from a CA of its own (rustls refuses a CA certificate as a server's).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/refca.key" \
  -out "$dir/refca.pem" -days 1 -subj /CN=bench-reference-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ref.key" \
  -out "$dir/ref.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' > "$dir/ref.ext"
openssl x509 -req -in "$dir/ref.csr" -CA "$dir/refca.pem" -CAkey "$dir/refca.key" -CAcreateserial \
  -days 1 -extfile "$dir/ref.ext" -out "$dir/ref.pem" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node bench/oidc-provider/server.mjs "$port" "$dir/ref.pem" "$dir/ref.key" bench-client "$secret" "$redirect" \
  > "$dir/ref.banner" 2> "$dir/ref.log" &
reference=$!
for _ in $(seq 1 100); do grep -q listening "$dir/ref.banner" 2>/dev/null && break; sleep 0.1; done
ref="https://127.0.0.1:$port"
next="$ref/auth?client_id=bench-client&redirect_uri=$(python3 -c "import urllib.parse;print(urllib.parse.quote('$redirect',safe=''))")&response_type=code&scope=openid%20profile%20email&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=x&nonce=y"
for _ in 1 2 3 4 5 6; do
  case "$next" in "$redirect"*) break ;; esac
  case "$next" in /*) next="$ref$next" ;; esac
  next=$(curl -sS --cacert "$dir/refca.pem" -c "$dir/ref.jar" -b "$dir/ref.jar" -o /dev/null -w '%{redirect_url}' "$next")
done
case "$next" in "$redirect"*) ;; *) echo "reference provider: no session ($next)"; cat "$dir/ref.log"; exit 1 ;; esac
cookie=$(awk -F'\t' 'NF == 7 && $6 ~ /^_session/ {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$dir/ref.jar")
echo "oidc-provider $(node -p 'require("./bench/oidc-provider/node_modules/oidc-provider/package.json").version') at $ref"
reference_result=$(target/release/oidc-bench --issuer "$ref" --ca "$dir/refca.pem" --client-id bench-client \
  --secret "$secret" --redirect-uri "$redirect" --cookie "$cookie" \
  --connections "$connections" --seconds "$seconds")
echo "  $reference_result"
python3 - "$passgrid_result" "$reference_result" <<'PY'
import json, sys
p, r = (json.loads(a) for a in sys.argv[1:3])
print(f"passgrid {p['rounds_per_sec']:.0f} rounds/s (p99 {p['p99_ms']:.1f} ms), "
      f"oidc-provider {r['rounds_per_sec']:.0f} rounds/s (p99 {r['p99_ms']:.1f} ms): "
      f"ratio {p['rounds_per_sec'] / r['rounds_per_sec']:.2f}x")
PY
