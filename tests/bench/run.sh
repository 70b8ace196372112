#!/usr/bin/env bash
# `make bench`: how fast the gateway answers, against floors measured in the
# same run on the same machine.  A benchmark, not a test: it measures and
# prints, and never fails because something was slow.  About 6 minutes,
# and about 5 more for the SLA part (step 5).
#
#   tests/bench/run.sh BUILD_DIR        (make BUILD=DIR bench)
#
# What it does, all on 127.0.0.1 and all thrown away at the end (also on
# failure or ctrl-c):
#   1. starts a stack of its own (deploy/stack.sh: PostgreSQL 15 + nginx with
#      the module, MSP_WORKERS=2 nginx workers) in /var/tmp/msp-bench.XXXXXX;
#   2. seeds it: 200 tenants (files made from tenants/acme.json by
#      make_tenants.py, applied with mspctl tenant apply), a technician on
#      every 20 tenants (mspctl assign; tech.bench has client-0001..0020),
#      1,000 tickets per tenant (seed.sql) with their history, comments and
#      asset links (seed_history.sql), then VACUUM (ANALYZE);
#   3. EXPLAIN ANALYZEs the read statements as the gateway runs them (custom
#      and generic plan), as msp_gateway with tech.bench's principal;
#   4. measures, all at the same concurrency (wrk -t2 -c32 -d15s; pgbench
#      -c32 -j2), each after an unmeasured warm-up of the same load:
#        HTTP floor   a second nginx without the module, `return 200`;
#        DB floor     pgbench running the gateway's GET ticket transaction
#                     (BEGIN READ ONLY; principal; ticket_get; COMMIT, the
#                     SQL read from the C sources by sql.py and pipelined in
#                     one round trip as the gateway does), as msp_gateway;
#                     then the same at the pool's 16 connections (msp_pool_size
#                     x workers), for reading the ratios;
#        GET ticket   as tech.bench, a random ticket of a random tenant of his;
#        GET list     /v1/tenants/{random tenant of his}/tickets?limit=50;
#        GET queue    /v1/queue?limit=50 (the open tickets of his 20 tenants);
#        GET events   a random ticket's history feed (limit 50), through the
#                     visibility policy on ticket_events;
#        GET inbox    /v1/inbox: escalations waiting for the provider side
#                     and his tickets near breach;
#        POST ticket  a small JSON body to a random tenant of his;
#   5. the SLA part, tests/bench/sla.sh (which says how): the breach sweep
#      over 1,000,000 open tickets of 500 tenants, in a database of its own
#      in the same cluster (msp_sla), as msp_gateway with the sweeper's
#      principal: its selection's plans (checked to read every tickets
#      partition by index), draining 10,000 due tickets, and one sweep with
#      nothing due against an index probe (pgbench -c1); and the working-time
#      arithmetic ($build/bench/sla_bench, from sla_bench.c: adding a year of
#      working time on acme's and globex's calendars) against msp_tz_offset
#      and a one-day add;
#   6. prints the machine, the data, the plans, the exact commands, the table
#      (report.py), the nginx workers' memory before and after each row, the
#      pool's figures, and the SLA part's sections; all of it is also
#      STATE/results.txt, kept with BENCH_KEEP=1.
#
# Reading the table: req/s is throughput, p50/p99 the latency percentiles
# (wrk's; for pgbench computed from its per-transaction log over the
# measured window).  "/floor" is the row's req/s divided by the lower of the
# two floors: the share of what nginx alone or PostgreSQL alone can do that
# the gateway achieves (the DB floor is GET ticket's transaction, so it is
# the exact floor for GET ticket and a yardstick for the others).  wrk,
# nginx and PostgreSQL share the machine's cores, so compare ratios, not
# absolute figures, across machines, and look at the load average printed
# with the machine: other work on the machine lowers every row.  non-2xx
# counts responses that were not 2xx/3xx; the statuses column is what nginx
# logged, so a 401 or 503 storm shows instead of looking fast.  Worker RSS
# must stay flat once every route has run (a total that keeps growing is a
# leak).
#
# Environment: BENCH_DURATION (seconds per measured run, 15),
# BENCH_CONNECTIONS (32), BENCH_WARMUP (seconds of unmeasured load before
# each gateway run, 15), BENCH_DB_WARMUP (the same for pgbench, whose
# connections are new, 30), BENCH_TENANTS (200), BENCH_TICKETS_PER_TENANT
# (1000), MSP_WORKERS (2), BENCH_KEEP=1 keeps the state directory (the
# stack is stopped either way); BENCH_SLA=0 skips the SLA part, whose own
# settings (BENCH_SLA_TENANTS, ...) tests/bench/sla.sh lists.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
build=${1:-build}
duration=${BENCH_DURATION:-15}
duration=${duration%s}
conns=${BENCH_CONNECTIONS:-32}
warmup=${BENCH_WARMUP:-15}
warmup=${warmup%s}
db_warmup=${BENCH_DB_WARMUP:-30}
db_warmup=${db_warmup%s}
ntenants=${BENCH_TENANTS:-200}
per_tenant=${BENCH_TICKETS_PER_TENANT:-1000}
export MSP_WORKERS=${MSP_WORKERS:-2}
sla=${BENCH_SLA:-1}
threads=2
tech=tech.bench
tech_tenants=20
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
PY=/usr/bin/python3

cd "$ROOT"
say() { printf '== %s\n' "$*"; }
die() { echo "bench: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (deploy/stack.sh runs PostgreSQL as postgres, nginx as www-data)"
[[ $ntenants -ge $tech_tenants ]] || die "BENCH_TENANTS must be at least $tech_tenants"
[[ -x $ROOT/$build/mspctl && -f $ROOT/$build/nginx/objs/ngx_http_msp_module.so ]] \
    || die "$build is not built (make BUILD=$build all)"
[[ -x $PGBENCH ]] || die "$PGBENCH is missing (Debian package postgresql-15)"
if [[ $sla == 1 ]]; then
    make --no-print-directory -C "$ROOT" BUILD="$build" "$build/bench/sla_bench" >/dev/null \
        || die "cannot build $build/bench/sla_bench"
fi
if ! command -v wrk >/dev/null; then
    say "installing wrk"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi

state=$(mktemp -d /var/tmp/msp-bench.XXXXXX)
results=$state/results
floor_pid=""     # the HTTP floor's nginx, while it runs
children=()      # what run_child started and has not yet reaped
# On any exit (end, error, ctrl-c, kill): stop what runs, stop the stack,
# remove the state directory.
exec 3>&1 4>&2   # the script's own output, for cleanup (a trap may run inside a redirection)
cleanup() {
    local rc=$?
    set +e
    exec 1>&3 2>&4
    trap '' INT TERM
    trap - EXIT
    [[ ${#children[@]} -gt 0 ]] && kill "${children[@]}" 2>/dev/null && wait "${children[@]}" 2>/dev/null
    [[ -n $floor_pid ]] && kill -QUIT "$floor_pid" 2>/dev/null
    [[ $rc -ne 0 ]] && echo "bench: stopping (status $rc); removing the stack" >&2
    "$ROOT/deploy/stack.sh" down "$state" >/dev/null 2>&1
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        echo "bench: kept $state (the stack is stopped)"
    else
        rm -rf "$state"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_child COMMAND...: runs it in the background and waits, so that ctrl-c
# or a kill interrupts the wait at once (the trap then stops the command);
# returns its status.
run_child() {
    "$@" &
    children+=($!)
    local rc=0
    wait "${children[-1]}" || rc=$?
    unset 'children[-1]'
    return "$rc"
}

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

http_port=$(free_port)
pg_port=$(free_port)
floor_port=$(free_port)

# ---- 1. the stack --------------------------------------------------------
say "starting a throwaway stack in $state (nginx :$http_port, PostgreSQL :$pg_port, $MSP_WORKERS workers)"
gateway_up=1
if ! run_child "$ROOT/deploy/stack.sh" up "$state" --http-port "$http_port" --pg-port "$pg_port" \
        --build "$build" >"$state/stack.log" 2>&1; then
    cat "$state/stack.log" >&2
    # PostgreSQL and the schema are up before nginx starts: the floors and
    # the seed can still run, the gateway rows cannot.
    [[ -f $state/env ]] || die "the stack did not start"
    gateway_up=0
    echo "bench: the gateway did not start; its rows will be empty" >&2
fi
set -a
# shellcheck source=/dev/null
. "$state/env"
set +a
mspctl=$ROOT/$build/mspctl
mkdir -p "$results"
: >"$results/rows.tsv"

# ---- 2. the data ---------------------------------------------------------
t0=$(now)
say "seeding: $ntenants tenant files, mspctl tenant apply"
$PY "$HERE/make_tenants.py" "$ROOT/tenants/acme.json" "$state/tenants" "$ntenants"
"$mspctl" tenant apply "$state"/tenants/*.json >"$state/tenant-apply.log"
say "seeding: technicians, mspctl assign ($(elapsed "$t0") so far)"
# tech.bench on the first 20 tenants, tech.g01 on the next 20, and so on
# (seed.sql makes them the assignees of their tenants' tickets).
for i in $(seq 1 "$ntenants"); do
    g=$(( (i - 1) / tech_tenants ))
    if [[ $g -eq 0 ]]; then sub=$tech; else sub=$(printf 'tech.g%02d' "$g"); fi
    printf '%s client-%04d technician L%d\n' "$sub" "$i" $(( 1 + i % 3 ))
done | xargs -P 4 -L 1 "$mspctl" assign >/dev/null
say "seeding: $per_tenant tickets per tenant, tests/bench/seed.sql ($(elapsed "$t0") so far)"
run_child psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -v per_tenant="$per_tenant" "$MSP_DATABASE_URL" \
    -f "$HERE/seed.sql"
say "seeding: their history, tests/bench/seed_history.sql in 2 sessions ($(elapsed "$t0") so far)"
for part in 0 1; do
    psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -v part=$part -v parts=2 "$MSP_DATABASE_URL" \
        -f "$HERE/seed_history.sql" &
    children+=($!)
done
for pid in "${children[@]}"; do wait "$pid" || die "seed_history.sql failed"; done
children=()
say "seeding: VACUUM (ANALYZE) ($(elapsed "$t0") so far)"
psql -X -q -v ON_ERROR_STOP=1 "$MSP_DATABASE_URL" -c "VACUUM (ANALYZE) tenants, assignments,
    ticket_counters, idempotency_keys, tickets, assets, ticket_assets, ticket_events, audit_log"
say "seeded in $(elapsed "$t0")"
psql -X -q -v ON_ERROR_STOP=1 "$MSP_DATABASE_URL" >"$results/data.txt" <<SQL
BEGIN;
\\o /dev/null
SELECT set_config('msp.sub', 'bench.report', true), set_config('msp.org', 'provider', true),
       set_config('msp.role', 'admin', true);
\\o
SELECT (SELECT count(*) FROM tenants) AS tenants,
       (SELECT count(*) FROM assignments) AS assignments,
       (SELECT count(*) FROM tickets) AS tickets,
       (SELECT count(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')) AS open_tickets,
       (SELECT count(*) FROM ticket_events) AS events,
       (SELECT count(*) FROM ticket_events WHERE kind = 'comment') AS comments,
       (SELECT count(*) FROM ticket_assets) AS ticket_assets,
       pg_size_pretty(pg_database_size(current_database())) AS database_size;
SELECT status, count(*) AS tickets, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
  FROM tickets GROUP BY 1 ORDER BY 2 DESC;
SELECT priority, count(*) AS tickets FROM tickets GROUP BY 1 ORDER BY 1;
SELECT side, count(*) AS tickets FROM tickets GROUP BY 1 ORDER BY 2 DESC;
SELECT count(*) AS "open tickets in $tech's queue ($tech_tenants tenants)"
  FROM tickets k JOIN assignments a USING (tenant_id)
 WHERE a.subject = '$tech' AND k.status NOT IN ('resolved', 'closed');
COMMIT;
SQL

# ---- what the load uses --------------------------------------------------
token=$("$mspctl" token --sub "$tech" --org provider --role technician --name "Bench Tech")
targets=""
for i in $(seq 1 "$tech_tenants"); do
    targets+=$(printf 'client-%04d:T%04d,' "$i" "$i")
done
targets=${targets%,}
export BENCH_TOKEN=$token BENCH_TARGETS=$targets BENCH_MAX_NUMBER=$per_tenant

# ---- the plans -----------------------------------------------------------
# The read statements as the gateway prepares them, run as msp_gateway with
# tech.bench's principal: the first EXPLAIN is the custom plan of the first
# executions, the second the generic plan that a prepared statement switches
# to after five executions if it costs no more.
say "explaining the read statements"
explain() { # NAME FILE ARGS
    local sql
    sql=$($PY "$HERE/sql.py" statement "$2" "$1")
    cat <<SQL
\\echo '---- $1: custom plan, then generic plan'
PREPARE $1 AS $sql;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE $1($3);
SET LOCAL plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE $1($3);
RESET plan_cache_mode;
SQL
}
{
    echo "BEGIN READ ONLY;"
    echo "\\o /dev/null"
    echo "SELECT set_config('msp.sub', '$tech', true), set_config('msp.org', 'provider', true),"
    echo "       set_config('msp.role', 'technician', true), set_config('statement_timeout', '10000ms', true);"
    echo "\\o"
    explain ticket_get services/tickets_read.c "'client-0007', 'T0007', '$(( per_tenant / 2 ))', NULL, 'true'"
    explain ticket_list services/tickets_read.c "'client-0007', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '51', NULL, NULL"
    explain queue_by_priority services/queue.c "NULL, NULL, NULL, NULL, NULL, '51', NULL"
    echo "COMMIT;"
} >"$state/explain.sql"
psql -X -q -v ON_ERROR_STOP=1 "$MSP_GATEWAY_DATABASE_URL" -f "$state/explain.sql" >"$results/plans.full.txt" 2>&1 \
    || echo "bench: EXPLAIN failed, see $results/plans.full.txt" >&2
$PY "$HERE/report.py" --plans "$results/plans.full.txt" >"$results/plans.txt"

# ---- 3. the measurements -------------------------------------------------
commands=()
wrk_run() { # KEY LABEL MODE URL ACCESS_LOG WARMUP_SECONDS
    local key=$1 label=$2 mode=$3 url=$4 log=$5 warm=$6
    # --timeout 30s: a slow answer is measured, not dropped as a timeout.
    local cmd=(wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 30s --latency -s "$HERE/wrk.lua" "$url")
    say "$label: ${warm}s warm-up, then ${cmd[*]}"
    if [[ $warm -gt 0 ]]; then
        BENCH_MODE=$mode run_child wrk -t"$threads" -c"$conns" -d"${warm}s" --timeout 30s -s "$HERE/wrk.lua" "$url" \
            >"$results/$key.warmup.out" 2>&1 || true
    fi
    # Requests still in flight when wrk stops are answered (or logged as
    # 499) after it: let them drain so that they count in neither run.
    quiesce "$log"
    local before=0
    [[ -f $log ]] && before=$(wc -l <"$log")
    BENCH_MODE=$mode run_child "${cmd[@]}" >"$results/$key.wrk.out" 2>&1 || true
    quiesce "$log"
    # The statuses nginx logged for the measured run.
    [[ -f $log ]] && tail -n +"$(( before + 1 ))" "$log" | awk '{ print $9 }' | sort | uniq -c >"$results/$key.status"
    grep -E 'Requests/sec|Non-2xx|Socket errors' "$results/$key.wrk.out" | sed 's/^/   /' || true
    printf '%s\t%s\twrk\t\n' "$key" "$label" >>"$results/rows.tsv"
    commands+=("BENCH_MODE=$mode ${cmd[*]/#$ROOT\//}   # after ${warm}s of the same, unmeasured")
}

quiesce() { # ACCESS_LOG: until nginx has logged nothing new for 1.5 s (at most 20 s)
    local log=$1 n m
    [[ -f $log ]] || return 0
    n=$(wc -l <"$log")
    for _ in $(seq 40); do
        sleep 0.5; m=$(wc -l <"$log")
        if [[ $m -eq $n ]]; then
            sleep 1; m=$(wc -l <"$log"); [[ $m -eq $n ]] && return 0
        fi
        n=$m
    done
}

rss_sample() { # LABEL
    local pid
    pid=$(cat "$state/nginx/nginx.pid" 2>/dev/null) || return 0
    ps --ppid "$pid" -o pid=,rss= | while read -r wpid rss; do
        printf '%s\t%s\t%s\n' "$1" "$wpid" "$rss"
    done >>"$results/rss.tsv"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# HTTP floor: nginx alone, configured like the gateway's nginx (same
# workers, connections and access log), answering `return 200`.
say "HTTP floor: nginx without the module on :$floor_port"
mkdir -p "$state/floor/tmp"
cat >"$state/floor/nginx.conf" <<CONF
# The HTTP floor of tests/bench/run.sh: nginx alone, no module.
worker_processes $MSP_WORKERS;
error_log $state/floor/error.log;
pid $state/floor/nginx.pid;
events { worker_connections 1024; }
http {
    access_log $state/floor/access.log;
    client_body_temp_path $state/floor/tmp/body;
    proxy_temp_path $state/floor/tmp/proxy;
    fastcgi_temp_path $state/floor/tmp/fastcgi;
    uwsgi_temp_path $state/floor/tmp/uwsgi;
    scgi_temp_path $state/floor/tmp/scgi;
    server_tokens off;
    default_type text/plain;
    server {
        listen 127.0.0.1:$floor_port;
        location / { return 200 "ok\n"; }
    }
}
CONF
/usr/sbin/nginx -p "$state/floor/" -c "$state/floor/nginx.conf" -e "$state/floor/error.log"
floor_pid=$(cat "$state/floor/nginx.pid")
wrk_run http_floor "HTTP floor: nginx return 200" floor "http://127.0.0.1:$floor_port/" "$state/floor/access.log" 2
kill -QUIT "$floor_pid"
for _ in $(seq 50); do kill -0 "$floor_pid" 2>/dev/null || break; sleep 0.1; done
floor_pid=""

# DB floor: the GET ticket transaction in pgbench (tests/bench/sql.py says
# how).  A fresh PostgreSQL connection needs seconds of CPU before its GET
# ticket is fast (each prepared statement plans over every tenant's
# partitions until it settles on a generic plan), so pgbench runs
# db_warmup + duration seconds on the same connections and only the
# transactions that end in the last `duration` seconds are counted.  The
# statement timeout bound is 60000ms, not the gateway's 10000ms: pgbench
# ends a client at its first error, and while 32 connections warm up at once
# on two cores a statement can take longer than 10 s.
$PY "$HERE/sql.py" pgbench "$state/ticket_get.pgbench.sql"
pgbench_run() { # KEY LABEL CLIENTS
    local key=$1 label=$2 clients=$3
    local cmd=("$PGBENCH" -n -M prepared -c "$clients" -j "$threads" -T "$(( db_warmup + duration ))" -P 5
        -D sub="$tech" -D org=provider -D role=technician -D timeout=60000ms
        -D tenants="$tech_tenants" -D max_number="$per_tenant"
        -f "$state/ticket_get.pgbench.sql" --log --log-prefix="$results/$key.log")
    say "$label: ${db_warmup}s warm-up, then ${duration}s measured"
    printf '%s %s %s\n' "$(now)" "$db_warmup" "$duration" >"$results/$key.window"
    run_child "${cmd[@]}" "$MSP_GATEWAY_DATABASE_URL" >"$results/$key.pgbench.out" 2>&1 || true
    grep -E '^(progress|number of failed)|aborted' "$results/$key.pgbench.out" | sed 's/^/   /' | head -40 || true
    printf '%s\t%s\tpgbench\t\n' "$key" "$label" >>"$results/rows.tsv"
    commands+=("${cmd[*]//$state/STATE} \"\$MSP_GATEWAY_DATABASE_URL\"   # counted: the transactions that end in the last ${duration}s")
}
pgbench_run db_floor "DB floor: pgbench ticket_get" "$conns"
# The gateway holds msp_pool_size connections per worker: the same
# transaction at that many connections shows what PostgreSQL does at the
# gateway's own concurrency (for reading the ratios; not a floor).
pool_size=$(awk '$1 == "msp_pool_size" { sub(";", "", $2); print $2 }' "$state/nginx/nginx.conf" 2>/dev/null || true)
if [[ -n $pool_size ]] && (( pool_size * MSP_WORKERS != conns )); then
    pool_conns=$(( pool_size * MSP_WORKERS ))
    pgbench_run db_pool "DB at the pool's $pool_conns connections" "$pool_conns"
fi

# The gateway.
base=http://127.0.0.1:$http_port
probe() { # PATH [curl args]: status and the start of the body, to show what the rows measure
    local path=$1; shift
    curl -s -o "$state/probe.body" -w '%{http_code}' -H "Authorization: Bearer $token" "$@" "$base$path" \
        >"$state/probe.status" 2>/dev/null || echo "000" >"$state/probe.status"
    printf '   %-46s %s  %s\n' "$path" "$(cat "$state/probe.status")" "$(head -c 150 "$state/probe.body" | tr '\n' ' ')"
}
gateway_rows=(
    "get_ticket|GET ticket|get|$base/"
    "get_list|GET list (limit 50)|list|$base/"
    "get_queue|GET queue (limit 50)|queue|$base/v1/queue?limit=50"
    "get_events|GET events (limit 50)|events|$base/"
    "get_inbox|GET inbox|queue|$base/v1/inbox"
    "post_ticket|POST ticket|post|$base/"
)
if [[ $gateway_up -eq 1 ]]; then
    say "the gateway answers (one request each, before the load):"
    probe /v1/health
    probe /v1/tenants/client-0001/tickets/T0001-1
    probe "/v1/tenants/client-0001/tickets?limit=2"
    probe "/v1/queue?limit=2"
    rss_sample "before the load"
    for row in "${gateway_rows[@]}"; do
        IFS='|' read -r key label mode url <<<"$row"
        wrk_run "$key" "$label" "$mode" "$url" "$state/nginx/access.log" "$warmup"
        rss_sample "after $label"
    done
    curl -s -H "Authorization: Bearer $token" "$base/v1/health" >"$results/health-after.json" 2>/dev/null || true
    # What the gateway's nginx logged at error level or worse, by level.
    grep -oE '\[(error|crit|alert|emerg)\]' "$state/nginx/error.log" 2>/dev/null | sort | uniq -c \
        >"$results/nginx-errors.txt" || true
    grep -E '\[(error|crit|alert|emerg)\]' "$state/nginx/error.log" 2>/dev/null | tail -5 \
        | cut -c1-300 >>"$results/nginx-errors.txt" || true
else
    for row in "${gateway_rows[@]}"; do
        IFS='|' read -r key label mode url <<<"$row"
        printf '%s\t%s\tskipped\tthe gateway did not start (stack.log)\n' "$key" "$label" >>"$results/rows.tsv"
    done
fi

# ---- 4. the SLA part -----------------------------------------------------
if [[ $sla == 1 ]]; then
    run_child "$HERE/sla.sh" "$state" "$build" "$results" \
        || echo "bench: the SLA part failed (its output is above)" >&2
fi

# ---- 5. the report -------------------------------------------------------
{
    echo "== machine"
    echo "   $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }')"
    echo "   $(uname -sr); $(/usr/sbin/nginx -v 2>&1); $(/usr/lib/postgresql/15/bin/postgres --version); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "   nginx workers: $MSP_WORKERS; PostgreSQL shared_buffers 256MB, max_connections 200 (deploy/stack.sh)"
    echo "   load average before the measurements: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "   (wrk, nginx and PostgreSQL share these CPUs; anything else running on the machine shows here)"
    echo
    echo "== data"
    sed 's/^/   /' "$results/data.txt"
    echo "== plans (as msp_gateway, principal $tech; full text in results/plans.full.txt)"
    sed 's/^/   /' "$results/plans.txt"
    echo
    echo "== commands"
    echo "   make BUILD=$build bench   # or: tests/bench/run.sh $build"
    echo "   MSP_WORKERS=$MSP_WORKERS deploy/stack.sh up STATE --http-port $http_port --pg-port $pg_port --build $build"
    echo "   BENCH_TOKEN=\$($build/mspctl token --sub $tech --org provider --role technician)"
    echo "   BENCH_TARGETS=client-0001:T0001,...,$(printf 'client-%04d:T%04d' $tech_tenants $tech_tenants) BENCH_MAX_NUMBER=$per_tenant"
    for c in "${commands[@]}"; do echo "   $c"; done
    echo
    echo "== results: $duration s per run, $conns connections, $threads load threads"
    $PY "$HERE/report.py" "$results"
    if [[ -s $results/health-after.json ]]; then
        echo
        echo "GET /v1/health after the load (one worker's pool):"
        echo "   $(head -c 600 "$results/health-after.json")"
    fi
    if [[ -s $results/nginx-errors.txt ]]; then
        echo
        echo "the gateway's nginx error log, error level and worse (counts, then the last lines):"
        sed 's/^/   /' "$results/nginx-errors.txt"
    fi
    if [[ -s $results/sla.txt ]]; then
        echo
        cat "$results/sla.txt"
    fi
} >"$state/results.txt"
echo
cat "$state/results.txt"
