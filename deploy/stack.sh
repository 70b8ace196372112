#!/usr/bin/env bash
# The local stack behind `make run` and `make test`: a PostgreSQL 15 cluster
# of its own (own data directory, port and socket; never the system
# cluster) and nginx with the module, all state under one directory.
#
#   stack.sh up STATE [--http-port N] [--pg-port N] [--build DIR] [--sanitize] [--print]
#                     [--sweep-interval T] [--settle-interval T] [--pack-interval T]
#   stack.sh nginx-up STATE2 --stack STATE [--http-port N] [--build DIR] [--sanitize]
#                     [--workers N] [--sweep-interval T] [--settle-interval T]
#                     [--pack-interval T] [--conninfo C]
#                     [--sla-config-cache N]
#   stack.sh down STATE
#
# `up` is idempotent: it creates what is missing, reuses what exists, and
# restarts nginx so that a rebuilt module is loaded.  STATE/env holds the
# connection strings and the development key for mspctl and the tests.
#
# `nginx-up` starts one more nginx, as another host would be, on the
# database of the stack in STATE (or --conninfo), with its keys; its
# configuration and logs are in STATE2/nginx/.  `down STATE2` stops it.
#
# --sweep-interval is msp_sla_sweep_interval (default $MSP_SWEEP_INTERVAL,
# else 30s; 0 turns the SLA sweep off).  --settle-interval is
# msp_report_settle_interval (default $MSP_SETTLE_INTERVAL, else 60s; 0
# turns the settling of report headlines off).  --pack-interval is
# msp_pack_schedule_interval (default $MSP_PACK_INTERVAL, else 60s; 0 turns
# the review packs' schedule off).  --sla-config-cache is
# msp_sla_config_cache (how many tenants' SLA configurations a worker keeps
# between requests; 256 unless given).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin
NGINX=/usr/sbin/nginx
DB=msp

die() { echo "stack: $*" >&2; exit 1; }
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

[[ $# -ge 2 ]] || die "usage: stack.sh up|nginx-up|down STATE [options]"
cmd=$1 state=$2
shown=${2%/}  # the state directory as the user named it, for messages
shift 2
http_port=8080 pg_port="" build=build sanitize=0 print=0
sweep_interval=${MSP_SWEEP_INTERVAL:-30s} settle_interval=${MSP_SETTLE_INTERVAL:-60s}
pack_interval=${MSP_PACK_INTERVAL:-60s} workers=${MSP_WORKERS:-2} stack="" conninfo=""
sla_config_cache=256
while [[ $# -gt 0 ]]; do
    case $1 in
        --http-port) http_port=$2; shift 2 ;;
        --pg-port) pg_port=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --sanitize) sanitize=1; shift ;;
        --print) print=1; shift ;;
        --sweep-interval) sweep_interval=$2; shift 2 ;;
        --settle-interval) settle_interval=$2; shift 2 ;;
        --pack-interval) pack_interval=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --stack) stack=$2; shift 2 ;;
        --conninfo) conninfo=$2; shift 2 ;;
        --sla-config-cache) sla_config_cache=$2; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done
[[ $sweep_interval =~ ^[0-9][0-9a-z]*$ ]] || die "--sweep-interval: not a time: $sweep_interval"
[[ $settle_interval =~ ^[0-9][0-9a-z]*$ ]] || die "--settle-interval: not a time: $settle_interval"
[[ $pack_interval =~ ^[0-9][0-9a-z]*$ ]] || die "--pack-interval: not a time: $pack_interval"
[[ $workers =~ ^[1-9][0-9]*$ ]] || die "--workers: not a number: $workers"
[[ $sla_config_cache =~ ^[1-9][0-9]*$ ]] || die "--sla-config-cache: not a number: $sla_config_cache"
[[ $build == /* ]] || build=$ROOT/$build  # --build: absolute, or relative to the checkout
[[ $(id -u) -eq 0 ]] || die "run as root (PostgreSQL runs as the postgres user, nginx workers as www-data)"

# PostgreSQL refuses to run as root, so its data must be where the postgres
# user can reach.  A state directory inside a checkout that postgres cannot
# traverse (under /root, say) is a symlink to one under /var/lib.
prepare_state() {
    if [[ ! -e $state ]]; then
        local abs parent
        abs=$(realpath -m "$state")
        parent=$(dirname "$abs")
        mkdir -p "$parent"
        if as_postgres test -x "$parent"; then
            mkdir "$abs"
        else
            local real
            real=/var/lib/msp-gateway/$(printf '%s' "$abs" | sha256sum | cut -c1-12)
            mkdir -p "$real"
            ln -s "$real" "$abs"
        fi
    fi
    state=$(realpath "$state")
    chmod 755 "$state"
    mkdir -p "$state/secrets" "$state/pg" "$state/nginx/tmp"
    chmod 700 "$state/secrets"
    chown postgres:postgres "$state/pg"
}

secret() { # secret NAME: a random hex secret, made once
    local f=$state/secrets/$1
    [[ -s $f ]] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"
    cat "$f"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_in_use() {
    python3 -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

start_postgres() {
    local data=$state/pg/data
    if [[ -f $state/pg/port ]]; then
        pg_port=$(cat "$state/pg/port")
    else
        if [[ -z $pg_port ]]; then
            pg_port=55432
            port_in_use $pg_port && pg_port=$(free_port)
        fi
        echo "$pg_port" > "$state/pg/port"
    fi

    if [[ ! -f $data/PG_VERSION ]]; then
        echo "stack: creating a PostgreSQL cluster in $data (port $pg_port)"
        as_postgres "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 >"$state/pg/initdb.log"
        as_postgres mkdir -p "$state/pg/run"
        cat >>"$data/postgresql.conf" <<CONF

# msp-gateway local stack
port = $pg_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$state/pg/run'
max_connections = 200
shared_buffers = 256MB
fsync = on
CONF
    fi

    if ! as_postgres "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$state/pg/postgresql.log" -w -t 60 start >/dev/null \
            || { tail -20 "$state/pg/postgresql.log" >&2; die "PostgreSQL did not start"; }
    fi
}

superuser_psql() {
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$state/pg/run" -p "$pg_port" -d postgres "$@"
}

# The roles: msp_owner owns the schema and runs migrations; msp_gateway is
# what nginx logs in as, with no ownership and no way around RLS.
bootstrap() {
    superuser_psql -v owner_pw="$(secret owner.pw)" -v gateway_pw="$(secret gateway.pw)" <<'SQL'
SELECT 'CREATE ROLE msp_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'msp_owner') \gexec
SELECT 'CREATE ROLE msp_gateway' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'msp_gateway') \gexec
ALTER ROLE msp_owner WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOBYPASSRLS PASSWORD :'owner_pw';
ALTER ROLE msp_gateway WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT PASSWORD :'gateway_pw';
SELECT 'CREATE DATABASE msp OWNER msp_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'msp') \gexec
REVOKE ALL ON DATABASE msp FROM PUBLIC;
GRANT CONNECT ON DATABASE msp TO msp_gateway;
SQL
}

write_env() {
    local base="127.0.0.1:$pg_port"
    umask 077
    cat >"$state/env" <<ENV
# Written by deploy/stack.sh: source it to use mspctl and psql on this stack.
export MSP_STATE='$state'
export MSP_PG_PORT='$pg_port'
export MSP_HTTP_PORT='$http_port'
export MSP_HTTP='http://127.0.0.1:$http_port'
export MSP_WORKERS='$workers'
export MSP_SWEEP_INTERVAL='$sweep_interval'
export MSP_SETTLE_INTERVAL='$settle_interval'
export MSP_PACK_INTERVAL='$pack_interval'
export MSP_SANITIZE='$sanitize'
export MSP_DATABASE_URL='postgresql://msp_owner:$(secret owner.pw)@$base/$DB'
export MSP_GATEWAY_DATABASE_URL='postgresql://msp_gateway:$(secret gateway.pw)@$base/$DB'
export MSP_DEV_JWT_KEY='$state/secrets/jwt-dev.key'
export MSP_PACK_KEY='$state/secrets/pack-ed25519.pem'
export MSP_PACK_PUBLIC_KEY='$state/secrets/pack-ed25519.pub.pem'
export MSP_PROVIDER_NAME='Northwind Managed Services'
export MSP_PUBLIC_URL='http://127.0.0.1:$http_port'
export MSP_BUILD='$(realpath "$build")'
export PATH='$(realpath "$build")':"\$PATH"
ENV
    umask 022
}

# Development signing keys: the HS256 secret that `mspctl token` uses by
# default, and RS256/ES256 pairs like an identity provider's.
make_keys() {
    local d=$state/secrets
    secret jwt-dev.key >/dev/null
    [[ -s $d/jwt-rs256.pem ]] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$d/jwt-rs256.pem" 2>/dev/null
    [[ -s $d/jwt-es256.pem ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$d/jwt-es256.pem" 2>/dev/null
    openssl pkey -in "$d/jwt-rs256.pem" -pubout -out "$d/jwt-rs256.pub.pem"
    openssl pkey -in "$d/jwt-es256.pem" -pubout -out "$d/jwt-es256.pub.pem"
    # the provider's review pack key (Ed25519), which the pack worker signs with
    [[ -s $d/pack-ed25519.pem ]] || openssl genpkey -algorithm ed25519 -out "$d/pack-ed25519.pem"
    openssl pkey -in "$d/pack-ed25519.pem" -pubout -out "$d/pack-ed25519.pub.pem"
}

# The review pack worker (mspctl pack worker): renders the packs asked for,
# off nginx's event loop.  Its output goes to $state/pack-worker.log.
worker_pid() {
    local pidfile=$state/pack-worker.pid
    [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"
}

stop_worker() {
    local pid
    pid=$(worker_pid) || return 0
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

start_worker() {
    stop_worker
    # shellcheck source=/dev/null
    . "$state/env"
    local preload=()
    if [[ $sanitize -eq 1 ]]; then
        preload=(env "ASAN_OPTIONS=abort_on_error=1:log_path=$state/nginx/sanitizer/report"
                 "LSAN_OPTIONS=suppressions=$ROOT/deploy/lsan.supp:print_suppressions=0"
                 "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$state/nginx/sanitizer/report")
    fi
    nohup "${preload[@]}" "$build/mspctl" pack worker >>"$state/pack-worker.log" 2>&1 &
    echo $! >"$state/pack-worker.pid"
}

load_demo() {
    # shellcheck source=/dev/null
    . "$state/env"
    (cd "$ROOT" && "$build/mspctl" migrate --dir "$ROOT/migrations")
    (cd "$ROOT" && "$build/mspctl" tenant apply "$ROOT"/tenants/*.json)
    while read -r subject tenant role tier; do
        [[ -z $subject || $subject == \#* ]] && continue
        "$build/mspctl" assign "$subject" "$tenant" "$role" $tier >/dev/null
    done <"$ROOT/deploy/demo/assignments.txt"
    psql -X -q -o /dev/null -v ON_ERROR_STOP=1 "$MSP_DATABASE_URL" -f "$ROOT/deploy/demo/seed.sql"
    # The demo tickets are loaded with SQL: give them their SLA clocks.
    "$build/mspctl" sla recompute >/dev/null
}

nginx_pid() {
    local pidfile=$state/nginx/nginx.pid
    [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"
}

stop_nginx() {
    local pid
    pid=$(nginx_pid) || return 0
    kill -QUIT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

# start_nginx [SANITIZER_REPORTS]: nginx of $state, on the database at
# $pg_port unless $conninfo says otherwise.
start_nginx() {
    local module=$build/nginx/objs/ngx_http_msp_module.so
    local reports=${1:-$state/nginx/sanitizer}
    [[ -f $module ]] || die "$module is not built (make all)"
    if [[ -z $conninfo ]]; then
        conninfo="host=127.0.0.1 port=$pg_port dbname=$DB user=msp_gateway"
        conninfo+=" password=$(secret gateway.pw) application_name=msp-gateway"
    fi
    # a replacement for sed: \, | and & stand for themselves
    local c=${conninfo//\\/\\\\}
    c=${c//|/\\|} c=${c//&/\\&}
    umask 077
    sed -e "s|@MODULE@|$module|g" -e "s|@STATE@|$state|g" -e "s|@CONNINFO@|$c|g" \
        -e "s|@HTTP_PORT@|$http_port|g" -e "s|@WORKERS@|$workers|g" \
        -e "s|^\( *msp_sla_sweep_interval\) [^;]*;|\1 $sweep_interval;|" \
        -e "s|^\( *msp_report_settle_interval\) [^;]*;|\1 $settle_interval;|" \
        -e "s|^\( *msp_pack_schedule_interval\) [^;]*;|\1 $pack_interval;|" \
        -e "s|^\( *msp_sla_config_cache\) [^;]*;|\1 $sla_config_cache;|" \
        "$ROOT/deploy/nginx.conf.in" >"$state/nginx/nginx.conf"
    umask 022
    stop_nginx
    port_in_use "$http_port" && die "port $http_port is in use by another program"

    local preload=()
    if [[ $sanitize -eq 1 ]]; then
        # An ASan-built module in Debian's (uninstrumented) nginx: the ASan
        # runtime must be loaded first.  nginx frees its pools at exit but
        # not every startup allocation, so leak checking stays off here.
        preload=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so)"
                 "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$reports/report"
                 "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/report")
        # Workers run as www-data and must be able to write their reports.
        mkdir -p "$reports"
        chown www-data "$reports"
    fi
    "${preload[@]}" "$NGINX" -p "$state/nginx/" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" \
        || { tail -20 "$state/nginx/error.log" >&2; die "nginx did not start"; }
    for _ in $(seq 50); do port_in_use "$http_port" && return 0; sleep 0.1; done
    die "nginx is not listening on 127.0.0.1:$http_port"
}

print_usage() {
    . "$state/env"
    local ctl="$build/mspctl"
    {
        echo "# Development tokens (HS256, kid \"dev\", valid 8 hours), one per demo role."
        while read -r var sub org role name; do
            [[ -z $var || $var == \#* ]] && continue
            echo "export $var='$("$ctl" token --sub "$sub" --org "$org" --role "$role" --name "${name//_/ }")'"
        done <"$ROOT/deploy/demo/principals.txt"
    } >"$state/tokens.env"

    cat <<TXT

The MSP gateway is running.
  API         $MSP_HTTP   (nginx; config and logs in $shown/nginx/)
  PostgreSQL  127.0.0.1:$pg_port, database $DB (data in $shown/pg/data)
  Tenants     $(cd "$ROOT/tenants" && ls -1 *.json | sed 's/\.json$//' | paste -sd' ')

Development tokens, one per demo role, valid 8 hours:
$(awk '!/^#/ && NF { printf "  $%-22s %-18s %s %s\n", $1, $2, $3, $4 }' "$ROOT/deploy/demo/principals.txt")

Try it (after: . $shown/tokens.env):
  curl -s $MSP_HTTP/v1/health
  curl -s -H "Authorization: Bearer \$TOKEN_TECHNICIAN" $MSP_HTTP/v1/me
  curl -s -H "Authorization: Bearer \$TOKEN_TECHNICIAN" '$MSP_HTTP/v1/queue?limit=5'
  curl -s -H "Authorization: Bearer \$TOKEN_IT_STAFF" $MSP_HTTP/v1/tenants/acme/tickets/ACME-1
  curl -si -H "Authorization: Bearer \$TOKEN_IT_STAFF" -H 'Content-Type: application/json' \\
    -d '{"title":"Laptop will not start","impact":"medium","urgency":"high"}' \\
    $MSP_HTTP/v1/tenants/acme/tickets
  curl -si -H "Authorization: Bearer \$TOKEN_IT_STAFF" $MSP_HTTP/v1/tenants/globex/tickets   # 404: not acme's

  # a warm handoff from the provider to acme's IT, which finds it in its inbox and accepts it:
  curl -si -H "Authorization: Bearer \$TOKEN_TECHNICIAN" -H 'Content-Type: application/json' \\
    -d '{"kind":"handoff","to":"internal_it","note":{"summary":"VPN drops every 10 minutes for the sales floor","tried":"Rebooted the concentrator; logs show re-keys failing","next_action":"Check the firewall policy, which only your team can change"}}' \\
    $MSP_HTTP/v1/tenants/acme/tickets/ACME-5/escalations
  curl -s -H "Authorization: Bearer \$TOKEN_IT_STAFF" $MSP_HTTP/v1/inbox
  curl -s -X POST -H "Authorization: Bearer \$TOKEN_IT_STAFF" $MSP_HTTP/v1/tenants/acme/tickets/ACME-5/escalations/\$ID/accept   # ID: the handoff's "id"
  curl -s -H "Authorization: Bearer \$TOKEN_LEAD" $MSP_HTTP/v1/tenants/acme/escalation-policy

  # the partnership's records: time logged on a ticket, an action from a review, the month's cost:
  curl -s -H "Authorization: Bearer \$TOKEN_TECHNICIAN" -H 'Content-Type: application/json' \\
    -d '{"minutes":30,"note":"Replaced the dock"}' $MSP_HTTP/v1/tenants/acme/tickets/ACME-1/time-entries
  curl -s -H "Authorization: Bearer \$TOKEN_IT_LEADER" -H 'Content-Type: application/json' \\
    -d '{"title":"Test a backup restore","review_on":"$(date +%F)","owner":"acme.it.frank","owner_side":"internal_it","due":"$(date -d '+14 days' +%F)"}' \\
    $MSP_HTTP/v1/tenants/acme/actions
  curl -s -H "Authorization: Bearer \$TOKEN_ACCOUNT_MANAGER" '$MSP_HTTP/v1/tenants/acme/reports/cost?period=$(date +%Y-%m)'

  # acme's devices from an Intune export (again: every row unchanged), then its compliance:
  curl -s -H "Authorization: Bearer \$TOKEN_IT_STAFF" --data-binary @$ROOT/deploy/demo/acme-intune.csv \\
    '$MSP_HTTP/v1/tenants/acme/assets/import?profile=intune'
  curl -s -H "Authorization: Bearer \$TOKEN_IT_LEADER" $MSP_HTTP/v1/tenants/acme/reports/compliance
  curl -s -H "Authorization: Bearer \$TOKEN_IT_STAFF" '$MSP_HTTP/v1/tenants/acme/assets?encrypted=false'
  # a ticket on the payroll PC (acme's file maps it to a critical service): raised to P1, and why
  curl -s -H "Authorization: Bearer \$TOKEN_IT_STAFF" '$MSP_HTTP/v1/tenants/acme/assets?user=hr.lisa@acme.example'   # its "id"
  curl -s -H "Authorization: Bearer \$TOKEN_IT_STAFF" -H 'Content-Type: application/json' \\
    -d '{"title":"Payroll PC will not boot","impact":"low","urgency":"low","asset_ids":['\$ID']}' \\
    $MSP_HTTP/v1/tenants/acme/tickets   # ID: the PC's "id"; see "priority" and "business_impact"
  curl -s -H "Authorization: Bearer \$TOKEN_IT_LEADER" '$MSP_HTTP/v1/tenants/acme/reports/failures?period=$(date +%Y-%m)'

  # last month's review pack: ask for it, see it rendered, download the PDF and check its signature:
  curl -si -H "Authorization: Bearer \$TOKEN_ACCOUNT_MANAGER" -H 'Content-Type: application/json' \\
    -d '{"kind":"monthly","period":"$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)"}' $MSP_HTTP/v1/tenants/acme/packs
  curl -s -H "Authorization: Bearer \$TOKEN_IT_LEADER" '$MSP_HTTP/v1/tenants/acme/packs?kind=monthly'
  curl -s -o acme.pdf -H "Authorization: Bearer \$TOKEN_IT_LEADER" '$MSP_HTTP/v1/tenants/acme/packs/'\$PACK'?format=pdf'   # PACK: its "id"
  curl -s -o manifest.json -H "Authorization: Bearer \$TOKEN_IT_LEADER" '$MSP_HTTP/v1/tenants/acme/packs/'\$PACK'?format=manifest'
  mspctl pack verify acme.pdf manifest.json --key $shown/secrets/pack-ed25519.pub.pem

Operate it with mspctl and psql, after: . $shown/env
  mspctl tenant apply tenants/*.json     # tenants as code; re-running changes nothing
  mspctl assign tech.alice initech technician L1
  mspctl token --sub me --org acme --role it_staff

  # row-level security, connected as msp_gateway (the role nginx uses):
  psql "\$MSP_GATEWAY_DATABASE_URL" -c "BEGIN" \\
    -c "SELECT app.set_principal('acme.it.frank', 'acme', 'it_staff')" \\
    -c "SELECT t.ticket_prefix || '-' || k.number AS ticket, k.title FROM tickets k JOIN tenants t USING (tenant_id)" -c "COMMIT"

Stop it with: make stop   (data is kept; make run again reuses it)
TXT
}

case $cmd in
    up)
        prepare_state
        start_postgres
        bootstrap
        write_env
        make_keys
        load_demo
        start_nginx
        start_worker
        [[ $print -eq 1 ]] && print_usage
        exit 0
        ;;
    nginx-up)
        [[ -n $stack && -f $stack/env ]] || die "nginx-up needs --stack STATE of a running stack"
        stack=$(realpath "$stack")
        pg_port=$(cat "$stack/pg/port")
        mkdir -p "$state/nginx/tmp"
        chmod 755 "$state" "$state/nginx"
        state=$(realpath "$state")
        # The stack's keys: tokens it mints are good here too.
        [[ -e $state/secrets ]] || ln -s "$stack/secrets" "$state/secrets"
        # Sanitizer reports go where the stack's are looked for.
        start_nginx "$stack/nginx/sanitizer"
        ;;
    down)
        [[ -e $state ]] || exit 0
        state=$(realpath "$state")
        stop_worker
        stop_nginx
        if [[ -f $state/pg/data/PG_VERSION ]] \
            && as_postgres "$PGBIN/pg_ctl" -D "$state/pg/data" status >/dev/null 2>&1; then
            as_postgres "$PGBIN/pg_ctl" -D "$state/pg/data" -w -t 60 stop -m fast >/dev/null
        fi
        ;;
    *) die "unknown command $cmd" ;;
esac
