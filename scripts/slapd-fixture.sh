#!/usr/bin/env bash
# A throw-away OpenLDAP server for the LDAP sync tests and benchmark (SPEC §8.2).
#
#   bash scripts/slapd-fixture.sh start DIR PORT USERS
#   bash scripts/slapd-fixture.sh stop DIR
#
# start: writes a slapd.conf, a CA and server certificate, and an LDIF of USERS
# people into DIR (which must be empty or absent), loads it with slapadd, starts
# slapd on loopback only and waits until it answers. Prints nothing but errors.
#   ldap://127.0.0.1:PORT/       plain and StartTLS
#   ldaps://127.0.0.1:PORT+1/    TLS; trust DIR/ca.pem (SAN 127.0.0.1, localhost)
#   suffix dc=example,dc=com; cn=admin,dc=example,dc=com / adminpw (root DN);
#   cn=reader,dc=example,dc=com / readerpw (read-only, subject to the limits).
# The server size limit is 1,000 entries, as Active Directory's MaxPageSize: a
# search without paging stops at 1,000 ("Size limit exceeded"); a paged search
# gets every entry.
#
# People: uid=userNNNNN,ou=people,dc=example,dc=com for N = 1..USERS
# (inetOrgPerson: uid, cn, sn, displayName "User NNNNN", mail
# userNNNNN@example.com). Group membership is carried by `passgridGroup`, a plain
# multi-valued DN attribute standing in for AD's memberOf (OpenLDAP's memberOf
# needs an overlay):
#   N % 10 == 0 -> no group; else N % 3 == 0 -> sales, 1 -> dev, 2 -> ops;
#   and, not for the former, N % 4 == 0 -> also "Support, EMEA" (escaped comma).
# Group entries: cn=sales, cn=dev, cn=ops, cn=Support\, EMEA under ou=groups.
# Each person also has an `objectGUID` (binary, 16 bytes, as Active Directory's):
# ff 00 9c 4e 2a 11 d3 b0 8f 6e 45 fa, then N as 3 bytes big-endian, then a5 — not
# valid UTF-8, so a sync must carry it base64-encoded (Microsoft 365's ImmutableID).
#
# Needs the Debian packages slapd, ldap-utils and openssl.
set -euo pipefail

SUFFIX="dc=example,dc=com"
SCHEMA_DIR=/etc/ldap/schema
MODULE_DIR=/usr/lib/ldap

die() {
    echo "slapd-fixture: $*" >&2
    exit 1
}

usage() {
    die "usage: $0 start DIR PORT USERS | stop DIR"
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found (install Debian packages slapd ldap-utils openssl)"
}

# slapd may live outside a non-root user's PATH.
find_bin() {
    local name=$1 candidate
    for candidate in "$(command -v "$name" 2>/dev/null || true)" "/usr/sbin/$name"; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    die "$name not found (install Debian packages slapd ldap-utils openssl)"
}

write_schema() {
    # 2.25.<uuid> OIDs need no registration (ITU-T X.667).
    cat >"$1" <<'EOF'
attributetype ( 2.25.163840195125397268451623925094361386203.1.1
    NAME 'passgridGroup'
    DESC 'Test fixture: DNs of the groups a person belongs to, like AD memberOf'
    EQUALITY distinguishedNameMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )

attributetype ( 2.25.163840195125397268451623925094361386203.1.2
    NAME 'objectGUID'
    DESC 'Test fixture: a binary GUID, like Active Directory objectGUID'
    EQUALITY octetStringMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )

objectclass ( 2.25.163840195125397268451623925094361386203.2.1
    NAME 'passgridGroupMember'
    DESC 'Test fixture: carries passgridGroup and objectGUID'
    SUP top AUXILIARY
    MAY ( passgridGroup $ objectGUID ) )
EOF
}

write_certificates() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
        -subj "/CN=passgrid slapd fixture CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" \
        -subj "/CN=127.0.0.1" 2>/dev/null
    printf '%s\n' \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
    rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
    chmod 600 "$dir/ca.key" "$dir/server.key"
}

write_config() {
    local dir=$1 root_hash=$2
    cat >"$dir/slapd.conf" <<EOF
include $SCHEMA_DIR/core.schema
include $SCHEMA_DIR/cosine.schema
include $SCHEMA_DIR/inetorgperson.schema
include $SCHEMA_DIR/nis.schema
include $dir/passgrid.schema

modulepath $MODULE_DIR
moduleload back_mdb

pidfile $dir/slapd.pid
argsfile $dir/slapd.args
loglevel 0

TLSCACertificateFile $dir/ca.pem
TLSCertificateFile $dir/server.pem
TLSCertificateKeyFile $dir/server.key

# AD-like: 1,000 entries per search or page, any number over a paged search.
sizelimit size.soft=1000 size.hard=1000 size.pr=1000 size.prtotal=unlimited

database mdb
maxsize 268435456
suffix "$SUFFIX"
rootdn "cn=admin,$SUFFIX"
rootpw $root_hash
directory $dir/db
index objectClass eq
index uid eq

access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="cn=reader,$SUFFIX" read
    by * none
EOF
}

write_ldif() {
    local file=$1 users=$2 reader_hash=$3
    {
        cat <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: cn=reader,$SUFFIX
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: $reader_hash

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

EOF
        local gid=5000 group
        for group in sales dev ops 'Support\, EMEA'; do
            gid=$((gid + 1))
            printf 'dn: cn=%s,ou=groups,%s\nobjectClass: posixGroup\ncn: %s\ngidNumber: %d\n\n' \
                "$group" "$SUFFIX" "${group//\\/}" "$gid"
        done
        awk -v users="$users" -v suffix="$SUFFIX" 'BEGIN {
            split("sales dev ops", by_rest, " ")
            b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            for (n = 1; n <= users; n++) {
                id = sprintf("user%05d", n)
                printf "dn: uid=%s,ou=people,%s\n", id, suffix
                printf "objectClass: inetOrgPerson\nobjectClass: passgridGroupMember\n"
                printf "uid: %s\ncn: User %05d\nsn: %05d\n", id, n, n
                printf "displayName: User %05d\nmail: %s@example.com\n", n, id
                # objectGUID: the fixed 12 bytes (base64 /wCcTioR07CPbkX6), N in 3
                # bytes (4 base64 digits), then a5 (pQ==).
                printf "objectGUID:: /wCcTioR07CPbkX6%s%s%s%spQ==\n", \
                    substr(b64, int(n / 262144) % 64 + 1, 1), substr(b64, int(n / 4096) % 64 + 1, 1), \
                    substr(b64, int(n / 64) % 64 + 1, 1), substr(b64, n % 64 + 1, 1)
                if (n % 10 != 0) {
                    printf "passgridGroup: cn=%s,ou=groups,%s\n", by_rest[n % 3 + 1], suffix
                    if (n % 4 == 0)
                        printf "passgridGroup: cn=Support\\, EMEA,ou=groups,%s\n", suffix
                }
                printf "\n"
            }
        }'
    } >"$file"
}

wait_until_answering() {
    local dir=$1 port=$2 tries
    for ((tries = 0; tries < 100; tries++)); do
        if ldapwhoami -x -H "ldap://127.0.0.1:$port/" \
            -D "cn=reader,$SUFFIX" -w readerpw >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    stop "$dir"
    die "slapd did not answer on 127.0.0.1:$port within 10 s (see $dir/slapd.out)"
}

start() {
    [[ $# -eq 3 ]] || usage
    local dir=$1 port=$2 users=$3
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65534)); then
        die "bad port: $port"
    fi
    [[ "$users" =~ ^[0-9]+$ ]] || die "bad user count: $users"
    need openssl
    need ldapwhoami
    local slapd slapadd slappasswd
    slapd=$(find_bin slapd)
    slapadd=$(find_bin slapadd)
    slappasswd=$(find_bin slappasswd)

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
    mkdir "$dir/db"

    write_schema "$dir/passgrid.schema"
    write_certificates "$dir"
    write_config "$dir" "$("$slappasswd" -s adminpw)"
    write_ldif "$dir/data.ldif" "$users" "$("$slappasswd" -s readerpw)"

    # -q: quick load without consistency checks; the LDIF is ours.
    local status=0
    "$slapadd" -q -f "$dir/slapd.conf" -l "$dir/data.ldif" >"$dir/slapadd.out" 2>&1 || status=$?
    if ((status != 0)); then
        # A bus error (status 135) is LMDB's memory map hitting a full disk.
        die "slapadd failed with status $status (is the disk of $dir full?): $(tail -n 5 "$dir/slapadd.out")"
    fi

    local port_tls=$((port + 1))
    "$slapd" -f "$dir/slapd.conf" \
        -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$port_tls/" >"$dir/slapd.out" 2>&1 ||
        die "slapd failed to start: $(tail -n 5 "$dir/slapd.out")"
    wait_until_answering "$dir" "$port"
}

stop() {
    [[ $# -eq 1 ]] || usage
    local pidfile="$1/slapd.pid" pid tries
    [[ -f "$pidfile" ]] || return 0
    pid=$(<"$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || die "bad pid file: $pidfile"
    kill "$pid" 2>/dev/null || {
        rm -f "$pidfile"
        return 0
    }
    for ((tries = 0; tries < 100; tries++)); do
        kill -0 "$pid" 2>/dev/null || {
            rm -f "$pidfile"
            return 0
        }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

[[ $# -ge 1 ]] || usage
command=$1
shift
case "$command" in
start) start "$@" ;;
stop) stop "$@" ;;
*) usage ;;
esac
