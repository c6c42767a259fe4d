#!/usr/bin/env bash
# RADIUS rounds per second (issue #18): passgrid (release, SQLite) and FreeRADIUS 3.2
# (Debian `freeradius`, a static `files` user, PAP), measured in the same run by the
# same load generator (radius-bench), on loopback:
#   - challenge rounds: Access-Request → Access-Challenge → Access-Request with the
#     State → Access-Accept (passgrid: a grid in Reply-Message, the OTP computed from
#     it; FreeRADIUS: a fixed Reply-Message and State from unlang, then PAP);
#   - PAP accepts: passgrid with the portal's VPN grids (each accept consumes a grid
#     the portal issued to the user; the grids are asked for in batches over HTTPS
#     between the timed PAP phases), FreeRADIUS with the static user.
#
#   bash bench/radius.sh [clients] [seconds] [pap-users]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-32}
seconds=${2:-10}
pap_users=${3:-200}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p passgrid -p login-bench
bin=$target/release/passgrid
gen=$target/release/radius-bench
command -v freeradius >/dev/null || { echo "freeradius is missing (apt-get install freeradius)"; exit 1; }
dir=$(mktemp -d)
cleanup() {
  kill ${server:-} ${fr:-} 2>/dev/null || true
  wait ${server:-} ${fr:-} 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
secret=bench-secret-0123456789
cells=3,17,22,40,41,9
pg() { "$bin" --data-dir "$dir/data" "$@" >/dev/null; }

# passgrid: a NAS, a challenge-mode user, and the PAP users (web-grid mode, default).
echo "setting up passgrid ($pap_users PAP users)…"
printf '%s\n' "$secret" > "$dir/secret"
pg radius client add bench-nas --address 127.0.0.1 --secret-file "$dir/secret"
pg group add challenge
pg policy set challenge radius_mode=challenge
pg policy attach challenge --group challenge --priority 10
pg user add bench --group challenge
pg user set-pattern bench --cells "$cells"
users=()
for i in $(seq 1 "$pap_users"); do
  pg user add "pap$i"
  pg user set-pattern "pap$i" --cells "$cells"
  users+=("pap$i")
done
# This measures the RADIUS path itself, far over the shipped rate limits (one NAS
# address, a few users); bench/attack.sh measures the limits.
cat > "$dir/bench.toml" <<'TOML'
[radius]
listen = "127.0.0.1:0"
[auth]
rate_limit_per_source = { burst = 0, per_minute = 0 }
rate_limit_per_user = { burst = 0, per_minute = 0 }
TOML
"$bin" --data-dir "$dir/data" --config "$dir/bench.toml" --json --log-level warn serve --listen 127.0.0.1:0 > "$dir/banner" 2> "$dir/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$dir/banner" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$dir/banner")
radius=$(sed -n 's/.*"radius":"\([^"]*\)".*/\1/p' "$dir/banner")
echo "== passgrid $(git rev-parse --short HEAD 2>/dev/null || true) (SQLite) at $radius; $clients clients, $seconds s each"
"$gen" --server "$radius" --secret "$secret" --mode challenge --users bench --cells "$cells" \
  --clients "$clients" --seconds "$seconds"
"$gen" --server "$radius" --secret "$secret" --mode pap --web-grids --url "$url" --ca "$dir/data/ca.pem" \
  --users "$(IFS=,; echo "${users[*]}")" --cells "$cells" --clients "$clients" --seconds "$seconds"
kill $server; wait $server 2>/dev/null || true; server=

# FreeRADIUS 3.2: the same generator, a static user in `files`, PAP.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fr_dir="$dir/freeradius"
mkdir -p "$fr_dir/run" "$fr_dir/log"
: > "$fr_dir/dictionary"
printf 'bench\tCleartext-Password := "x"\nchallenge\tCleartext-Password := "x"\n' > "$fr_dir/users"
cat > "$fr_dir/radiusd.conf" <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
datarootdir = /usr/share
dictdir = /usr/share/freeradius
raddbdir = $fr_dir
confdir = $fr_dir
modconfdir = $fr_dir
logdir = $fr_dir/log
run_dir = $fr_dir/run
db_dir = $fr_dir
libdir = /usr/lib/freeradius
pidfile = $fr_dir/run/radiusd.pid
name = radiusd
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
  destination = files
  file = $fr_dir/log/radius.log
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
proxy_requests = no
client localhost {
  ipaddr = 127.0.0.1
  secret = $secret
}
thread pool {
  start_servers = 4
  max_servers = 32
  min_spare_servers = 2
  max_spare_servers = 8
  max_requests_per_server = 0
}
modules {
  files {
    filename = $fr_dir/users
  }
  pap {
  }
  expr {
  }
  always handled {
    rcode = handled
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = $port
  }
  authorize {
    if (&User-Name == "challenge" && !&State) {
      update reply {
        &State := "%{randstr:aaaaaaaaaaaaaaaa}"
        &Reply-Message := "   A    B    C\n1 0123 4567 8901\n2 2345 6789 0123\n3 4567 8901 2345\n4 6789 0123 4567\nType the digits at your pattern's cells"
      }
      update control {
        &Response-Packet-Type := Access-Challenge
      }
      handled
    }
    files
    pap
  }
  authenticate {
    pap
  }
}
CONF
freeradius -f -d "$fr_dir" > "$fr_dir/stdout" 2>&1 &
fr=$!
sleep 1.5
echo "== FreeRADIUS $(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -1) at 127.0.0.1:$port; $clients clients, $seconds s each"
"$gen" --server "127.0.0.1:$port" --secret "$secret" --mode challenge --users challenge --password x \
  --clients "$clients" --seconds "$seconds"
"$gen" --server "127.0.0.1:$port" --secret "$secret" --mode pap --users bench --password x \
  --clients "$clients" --seconds "$seconds"
