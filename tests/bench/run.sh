#!/usr/bin/env bash
# `make bench`: how fast the gateway answers, against floors measured in the
# same run on the same machine, at 1,000 tenants.  A benchmark, not a test:
# it measures and prints, and never fails because something was slow.
# About 30 minutes on 2 cores (about 3 of them the SLA part, 12 the reports).
#
#   tests/bench/run.sh BUILD_DIR        (make BUILD=DIR bench)
#
# What it does, all on 127.0.0.1 and all thrown away at the end (also on
# failure or ctrl-c):
#   1. starts a stack of its own (deploy/stack.sh: PostgreSQL 15 + nginx with
#      the module, MSP_WORKERS=2 nginx workers, a pool of 8 connections per
#      worker) in /var/tmp/msp-bench.XXXXXX;
#   2. seeds it (1-2 minutes): 1,000 tenants (files made from
#      tenants/acme.json by make_tenants.py, applied with mspctl tenant
#      apply), 500 tickets each (500,000) with their history (events,
#      comments, escalations, asset links, audit rows) and staff
#      assignments, all set-based in one transaction (seed.sql says how);
#      the open tickets' SLA clocks (mspctl sla recompute, then
#      seed_clocks.sql); VACUUM (ANALYZE).  The principals:
#        tech.t5      technician on 5 tenants (client-0001..0005)
#        tech.t50     technician on 50 (client-0001..0050)
#        lead.l200    lead on 200
#        admin.bench  provider admin (every tenant)
#   3. for the tenant-scaling rows: a database of 20 tenants with the same
#      500 tickets each (10,000; msp_t20 in the same cluster, seeded the same
#      way) and a second nginx on it;
#   4. EXPLAIN (ANALYZE, BUFFERS)s the read statements as the gateway runs
#      them (the SQL read from the C sources by sql.py; custom plan, then
#      generic plan), as msp_gateway with each principal set by the
#      gateway's own statement (app.set_principal): ticket, list, events as
#      tech.t5; the queue as tech.t5, tech.t50 and the admin; the inbox's
#      two statements as tech.t50, the lead and the admin; each with a
#      summary line (time, buffers, rows scanned, sequential scans);
#   5. measures, all at the same concurrency (wrk -t2 -c32 -d15s; pgbench
#      -c32 -j2), each run after an unmeasured warm-up of the same load:
#        HTTP floor   a second nginx without the module, `return 200`;
#        DB floor     PostgreSQL's physical floor for GET ticket: pgbench -M
#                     prepared selecting one ticket by its primary key
#                     (tenant_id, number) of one of tech.t5's 5 tenants
#                     (one script per tenant, the tenant's id a literal),
#                     as msp_bench_floor, a role made here with BYPASSRLS
#                     (the report shows it sees every ticket without a
#                     principal: row-level security does not apply);
#        GET ticket   as tech.t5, a random ticket of a random tenant of his;
#        GET list     /v1/tenants/{random tenant of his}/tickets?limit=50;
#        GET queue    /v1/queue?limit=50 as tech.t5 (5 tenants: a walk per
#                     tenant), tech.t50 (50: the global index of open work)
#                     and the admin;
#        GET events   a random ticket's history (limit 50), as tech.t5;
#        GET inbox    /v1/inbox as tech.t50 and as the lead (escalations
#                     waiting for them, their tickets near breach);
#        POST ticket  a small JSON body to a random tenant of tech.t5's;
#        PATCH ticket a new description with If-Match: * (PATCH requires
#                     If-Match; * is the API's "whatever the version"),
#        POST comment a public comment (a response: the clocks are
#                     replayed and stored with it),
#        POST escalation  a hierarchical escalation to provider:lead (any
#                     staff may raise one on an open ticket, and several may
#                     wait at once, so these do not conflict; a functional
#                     one or a handoff waits alone, one per ticket, and a
#                     15-second run would use up every eligible ticket),
#        POST time entry  15 minutes logged on a ticket (its event and
#                     audit row with it):
#                     these four as tech.t50 on a random open ticket of
#                     his 50 tenants (about 1,300), so that concurrent
#                     requests rarely queue on one ticket's row lock;
#      and, each right after its 1,000-tenant row (so that both see the
#      same machine), GET ticket, GET list and POST ticket on the 20-tenant
#      database as tech.t5 (his same 5 tenants, the same principal);
#   6. offboarding: one more tenant, client-1001, with 100,000 tickets and
#      their history, seeded into the main database after the measurements;
#      GET list's statement EXPLAINed on it; then `/usr/bin/time -v mspctl
#      tenant offboard client-1001 --export DIR`: its wall time and peak
#      RSS (mspctl streams each table's COPY, so its memory should not grow
#      with the tenant);
#   7. the reports, tests/bench/reports.py (which says how): one more
#      tenant with 100,000 tickets created in each of the 12 months before
#      this one (seed_reports.sql, which also measures the other tenants'
#      past), every tenant's report headlines stored as the timer would have; its
#      month's reports, a drill-down page and its 12-month trend,
#      and the portfolio of every tenant, each against an index scan over
#      the same tickets as msp_bench_floor;
#   7b. the assets, tests/bench/assets.py (which says how; BENCH_ASSETS=0
#      skips it): BENCH_ASSETS (100,000) devices imported into client-0004
#      with mspctl (rows/s, peak memory) and imported again, the compliance
#      report, its list, a filtered page of assets and the failures report
#      on that tenant, against floors of PostgreSQL alone;
#   8. the SLA part, tests/bench/sla.sh (which says how): the breach sweep
#      over 500,000 open tickets of 1,000 tenants in a database of its own
#      (msp_sla): one sweep with nothing due against an index probe, and
#      draining 10,000 due tickets; and the working-time arithmetic;
#   9. prints the machine, the data, the plans, the exact commands, the table
#      (report.py), the nginx workers' memory before and after each row, the
#      aims, the offboarding, and the SLA part's sections; all of it is also
#      STATE/results.txt, kept with BENCH_KEEP=1.
#
# Reading the table: req/s is throughput, p50/p99 the latency percentiles
# (wrk's; for pgbench computed from its per-transaction log over the
# measured window).  "/DB floor" is the row's req/s divided by the DB
# floor's: the share of what PostgreSQL alone does for the ideal lookup
# (one primary-key probe, no row-level security, no transaction around it,
# no JSON) that the gateway achieves for a whole request (HTTP, JWT check,
# BEGIN, principal, tenant, the statements, COMMIT, the JSON document).  It
# is the exact yardstick for GET ticket and a common one for the others.
# "/HTTP" is the same against nginx alone.  nginx, PG and wrk are the CPU
# milliseconds per request of the nginx workers, of PostgreSQL and of wrk
# during the measured run: where the time goes.  The scaling table divides
# each 1,000-tenant figure by the same row's 20-tenant figure (req/s; and
# CPU per request, which other work on the machine disturbs less): 1.0
# means the number of tenants costs nothing.  wrk, nginx and PostgreSQL
# share the machine's cores, so compare ratios, not absolute figures,
# across machines, and look at the load average printed with the machine:
# other work on the machine lowers every row.  non-2xx counts responses
# that were not 2xx/3xx; the statuses column is what nginx logged, so a
# 401, 409 or 503 storm shows instead of looking fast.  Worker RSS must
# stay flat once every route has run (a total that keeps growing is a
# leak).  The aims (GET ticket >= 0.35 of the DB floor; lists, queues,
# events and inboxes >= 0.1 with p99 < 50 ms; writes >= 0.1; scaling >=
# 0.8; the drain >= 1,000 tickets/s) are printed with the figure against
# each; nothing is asserted.
#
# Environment: BENCH_DURATION (seconds per measured run, 15),
# BENCH_CONNECTIONS (32), BENCH_WARMUP (seconds of unmeasured load before
# each run, 5), BENCH_DB_WARMUP (the same for pgbench, 5), BENCH_TENANTS
# (1000), BENCH_TICKETS_PER_TENANT (500), BENCH_SCALING_TENANTS (20; 0
# skips the scaling rows), BENCH_OFFBOARD_TICKETS (100000; 0 skips the
# offboarding), BENCH_REPORT_TICKETS (100000 a month; 0 skips the reports
# part), BENCH_REPORT_MONTHS (12), BENCH_REPORT_RUNS (3),
# MSP_WORKERS (2), BENCH_KEEP=1 keeps the state directory
# (the stack is stopped either way); BENCH_SLA=0 skips the SLA part, whose
# own settings (BENCH_SLA_TENANTS, ...) tests/bench/sla.sh lists.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
build=${1:-build}
duration=${BENCH_DURATION:-15}
duration=${duration%s}
conns=${BENCH_CONNECTIONS:-32}
warmup=${BENCH_WARMUP:-5}
warmup=${warmup%s}
db_warmup=${BENCH_DB_WARMUP:-5}
db_warmup=${db_warmup%s}
ntenants=${BENCH_TENANTS:-1000}
per_tenant=${BENCH_TICKETS_PER_TENANT:-500}
scaling_tenants=${BENCH_SCALING_TENANTS:-20}
offboard_tickets=${BENCH_OFFBOARD_TICKETS:-100000}
report_tickets=${BENCH_REPORT_TICKETS:-100000}
report_months=${BENCH_REPORT_MONTHS:-12}
asset_rows=${BENCH_ASSETS:-100000}
export MSP_WORKERS=${MSP_WORKERS:-2}
sla=${BENCH_SLA:-1}
threads=2
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
PY=/usr/bin/python3

cd "$ROOT"
say() { printf '== %s\n' "$*"; }
die() { echo "bench: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (deploy/stack.sh runs PostgreSQL as postgres, nginx as www-data)"
[[ $ntenants -ge 5 ]] || die "BENCH_TENANTS must be at least 5"
[[ $scaling_tenants -eq 0 || $scaling_tenants -ge 5 ]] || die "BENCH_SCALING_TENANTS must be 0 or at least 5"
[[ -x $ROOT/$build/mspctl && -f $ROOT/$build/nginx/objs/ngx_http_msp_module.so ]] \
    || die "$build is not built (make BUILD=$build all)"
[[ -x $PGBENCH ]] || die "$PGBENCH is missing (Debian package postgresql-15)"
[[ -x /usr/bin/time ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null \
    || die "/usr/bin/time is missing (Debian package time)"
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
chmod 755 "$state"
results=$state/results
floor_pid=""     # the HTTP floor's nginx, while it runs
t20_up=0         # the 20-tenant nginx, while it runs
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
    [[ $t20_up -eq 1 ]] && "$ROOT/deploy/stack.sh" down "$state/t20" >/dev/null 2>&1
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
slug() { printf 'client-%04d' "$1"; }

http_port=$(free_port)
pg_port=$(free_port)
floor_port=$(free_port)
t20_port=$(free_port)

# ---- 1. the stack --------------------------------------------------------
say "starting a throwaway stack in $state (nginx :$http_port, PostgreSQL :$pg_port, $MSP_WORKERS workers)"
gateway_up=1
# No settling of report headlines on the timer, no review packs' schedule
# (the worker would render 3,000 packs meanwhile): they would compete with
# the measurements; the reports part stores the headlines itself, before it
# measures, and asks for the one pack it times.
if ! run_child "$ROOT/deploy/stack.sh" up "$state" --http-port "$http_port" --pg-port "$pg_port" \
        --build "$build" --settle-interval 0 --pack-interval 0 >"$state/stack.log" 2>&1; then
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
echo "$ntenants" >"$results/tenants"
superuser_psql() { # DB [psql args]: as postgres over the stack's socket
    local db=$1; shift
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$state/pg/run" -p "$pg_port" -d "$db" "$@")
}
# as_admin URL: psql reading SQL on stdin, as the schema owner acting as a
# provider admin (tab-separated, unaligned)
as_admin() {
    { echo "BEGIN;"; echo "\\o /dev/null"; echo "SELECT app.set_principal('bench.report', 'provider', 'admin');"
      echo "\\o"; cat; echo "COMMIT;"; } | psql -X -q -At -F "$(printf '\t')" -v ON_ERROR_STOP=1 "$1"
}

# seed URL TENANTS_DIR PER_TENANT [SLUG...]: applies the tenant files,
# seeds the tenants without tickets, gives their open tickets their clocks
# (of the slugs named, or of all), VACUUM (ANALYZE).
seed() {
    local url=$1 dir=$2 n=$3; shift 3
    MSP_DATABASE_URL=$url "$mspctl" tenant apply "$dir"/*.json >"$dir.apply.log"
    run_child psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -v per_tenant="$n" "$url" -f "$HERE/seed.sql"
    # The clocks, with the breach sweep's lock held from before `mspctl sla
    # recompute` until seed_clocks.sql has dropped what is due (the
    # gateway's sweeper, finding 25,000 tickets due in between, would
    # announce some of them and raise thousands of automatic escalations).
    rm -f "$dir.recompute.failed"
    # (not run_child: a command run in the background reads /dev/null, not the here-document)
    psql -X -q -o /dev/null -v ON_ERROR_STOP=1 "$url" <<SQL
SELECT pg_advisory_lock(hashtext('msp.sla_sweep'));
\\! MSP_DATABASE_URL='$url' '$mspctl' sla recompute $* >'$dir.recompute.log' 2>&1 || touch '$dir.recompute.failed'
\\i $HERE/seed_clocks.sql
SELECT pg_advisory_unlock(hashtext('msp.sla_sweep'));
SQL
    [[ ! -e $dir.recompute.failed ]] || { cat "$dir.recompute.log" >&2; die "mspctl sla recompute failed"; }
    run_child psql -X -q -v ON_ERROR_STOP=1 "$url" -c "VACUUM (ANALYZE) tenants, assignments,
        ticket_counters, idempotency_keys, tickets, assets, ticket_assets, ticket_events,
        ticket_status_changes, ticket_report_facts, escalations, audit_log"
}

# ---- 2. the data ---------------------------------------------------------
t0=$(now)
say "seeding: $ntenants tenants x $per_tenant tickets (tenant apply, seed.sql, sla recompute, seed_clocks.sql, VACUUM)"
$PY "$HERE/make_tenants.py" "$ROOT/tenants/acme.json" "$state/tenants" "$ntenants"
seed "$MSP_DATABASE_URL" "$state/tenants" "$per_tenant"
seed_time=$(elapsed "$t0")
say "seeded in $seed_time"
as_admin "$MSP_DATABASE_URL" >"$results/data.tsv" <<SQL
SELECT 'tenants', count(*) FROM tenants
UNION ALL SELECT 'assignments (tech.t5, tech.t50, lead.l200, tech.gNN)', count(*) FROM assignments
UNION ALL SELECT 'tickets', count(*) FROM tickets
UNION ALL SELECT 'open tickets', count(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')
UNION ALL SELECT 'open tickets with SLA clocks', count(*) FROM tickets
           WHERE status NOT IN ('resolved', 'closed') AND breach_at IS NOT NULL
UNION ALL SELECT 'ticket events', count(*) FROM ticket_events
UNION ALL SELECT 'comments', count(*) FROM ticket_events WHERE kind = 'comment'
UNION ALL SELECT 'asset links', count(*) FROM ticket_assets
UNION ALL SELECT 'escalations', count(*) FROM escalations
UNION ALL SELECT 'escalations waiting', count(*) FROM escalations WHERE status = 'open'
UNION ALL SELECT 'audit rows', count(*) FROM audit_log
UNION ALL SELECT 'open tickets of tech.t5''s 5 tenants', count(*) FROM tickets k
           JOIN assignments a USING (tenant_id)
          WHERE a.subject = 'tech.t5' AND k.status NOT IN ('resolved', 'closed')
UNION ALL SELECT 'open tickets of tech.t50''s 50 tenants', count(*) FROM tickets k
           JOIN assignments a USING (tenant_id)
          WHERE a.subject = 'tech.t50' AND k.status NOT IN ('resolved', 'closed');
SELECT 'database size', pg_size_pretty(pg_database_size(current_database()));
SQL

# ---- the 20-tenant database, for the tenant-scaling rows -----------------
if [[ $scaling_tenants -gt 0 && $gateway_up -eq 1 ]]; then
    t1=$(now)
    db=msp_t20
    say "scaling: database $db, $scaling_tenants tenants x $per_tenant tickets, and an nginx on it (:$t20_port)"
    psql -X -q -v ON_ERROR_STOP=1 "$MSP_DATABASE_URL" >/dev/null <<SQL
CREATE DATABASE $db;
SQL
    t20_url=${MSP_DATABASE_URL%/*}/$db
    psql -X -q -v ON_ERROR_STOP=1 "$t20_url" >/dev/null <<SQL
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT CONNECT ON DATABASE $db TO msp_gateway;
SQL
    MSP_DATABASE_URL=$t20_url run_child "$mspctl" migrate --dir "$ROOT/migrations" >"$state/t20-migrate.log"
    $PY "$HERE/make_tenants.py" "$ROOT/tenants/acme.json" "$state/tenants-t20" "$scaling_tenants"
    seed "$t20_url" "$state/tenants-t20" "$per_tenant"
    t20_seed_time=$(elapsed "$t1")
    t20_up=1
    run_child "$ROOT/deploy/stack.sh" nginx-up "$state/t20" --stack "$state" --http-port "$t20_port" \
        --build "$build" --conninfo "host=127.0.0.1 port=$pg_port dbname=$db user=msp_gateway password=$(cat "$state/secrets/gateway.pw") application_name=msp-gateway" \
        >"$state/t20-nginx.log" 2>&1 || { cat "$state/t20-nginx.log" >&2; die "the 20-tenant nginx did not start"; }
    say "scaling: seeded and started in $t20_seed_time"
    printf '%s tenants x %s tickets (database %s), seeded in %s\n' "$scaling_tenants" "$per_tenant" "$db" \
        "$t20_seed_time" >"$results/scaling.txt"
fi

# ---- what the load uses --------------------------------------------------
token() { "$mspctl" token --sub "$1" --org provider --role "$2" --name "Bench $1" --ttl 36000; }
tok_t5=$(token tech.t5 technician)
tok_t50=$(token tech.t50 technician)
tok_lead=$(token lead.l200 lead)
tok_admin=$(token admin.bench admin)
targets=""
for i in 1 2 3 4 5; do targets+=$(printf '%s:T%04d,' "$(slug "$i")" "$i"); done
targets=${targets%,}
# The open tickets of tech.t50's tenants, for the writes.
as_admin "$MSP_DATABASE_URL" <<'SQL' | tr '\t' ' ' >"$state/open-t50.txt"
SELECT t.slug, t.ticket_prefix, k.number
  FROM tickets k JOIN tenants t USING (tenant_id) JOIN assignments a USING (tenant_id)
 WHERE a.subject = 'tech.t50' AND k.status NOT IN ('resolved', 'closed')
 ORDER BY 1, 3;
SQL

# ---- the plans -----------------------------------------------------------
# The read statements as the gateway prepares them, run as msp_gateway with
# each principal set by the gateway's principal statement: the first
# EXPLAIN is the custom plan of the first executions, the second the
# generic plan that a prepared statement switches to after five executions
# if it costs no more.
say "explaining the read statements"
explain() { # NAME FILE WHO ARGS
    local sql
    sql=$($PY "$HERE/sql.py" statement "$2" "$1")
    cat <<SQL
\\echo '---- $1 as $3: custom plan, then generic plan'
PREPARE $1 AS $sql;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE $1($4);
SET LOCAL plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE $1($4);
SET LOCAL plan_cache_mode = auto;
DEALLOCATE $1;
SQL
}
as_principal() { # SUB ROLE: a read-only transaction's start, as the gateway's
    printf 'BEGIN READ ONLY;\n\\o /dev/null\nEXECUTE msp_principal(%s, %s, %s, %s);\n\\o\n' \
        "'$1'" "'provider'" "'$2'" "'10000ms'"
}
mid=$(( per_tenant / 2 ))
queue_args="NULL, NULL, NULL, NULL, NULL, '51', NULL"
{
    echo "PREPARE msp_principal AS $($PY "$HERE/sql.py" statement services/call/call.c msp_principal);"
    as_principal tech.t5 technician
    explain tenant services/auth/tenant_context.c tech.t5 "'client-0003'"
    explain ticket_get services/tickets/tickets_read.c tech.t5 "'client-0003', 'T0003', '$mid'"
    explain ticket_list services/tickets/tickets_read.c tech.t5 \
        "'client-0003', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '51', NULL"
    explain ticket_events services/tickets/ticket_events.c tech.t5 "'client-0003', 'T0003', '$mid', NULL, '51'"
    explain queue_by_priority services/tickets/queue.c "tech.t5 (5 tenants)" "$queue_args"
    echo "COMMIT;"
    as_principal tech.t50 technician
    explain queue_by_priority services/tickets/queue.c "tech.t50 (50 tenants)" "$queue_args"
    explain escalations_waiting services/escalations/escalations_read.c "tech.t50 (inbox)" "NULL, NULL, '50'"
    explain near_breach services/escalations/escalations_read.c "tech.t50 (inbox)" "'240'"
    echo "COMMIT;"
    as_principal lead.l200 lead
    explain escalations_waiting services/escalations/escalations_read.c "lead.l200 (inbox, 200 tenants)" "NULL, NULL, '50'"
    explain near_breach services/escalations/escalations_read.c "lead.l200 (inbox)" "'240'"
    echo "COMMIT;"
    as_principal admin.bench admin
    explain queue_by_priority services/tickets/queue.c "admin.bench (every tenant)" "$queue_args"
    explain escalations_waiting services/escalations/escalations_read.c "admin.bench (inbox)" "NULL, NULL, '50'"
    echo "COMMIT;"
} >"$state/explain.sql"
psql -X -q -v ON_ERROR_STOP=1 "$MSP_GATEWAY_DATABASE_URL" -f "$state/explain.sql" >"$results/plans.full.txt" 2>&1 \
    || echo "bench: EXPLAIN failed, see $results/plans.full.txt" >&2
$PY "$HERE/report.py" --plans "$results/plans.full.txt" >"$results/plans.txt"

# ---- 3. the measurements -------------------------------------------------
commands=()
wrk_run() { # KEY LABEL MODE URL ACCESS_LOG WARMUP_SECONDS (BENCH_* in the environment)
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
    local before=0 cpu0
    [[ -f $log ]] && before=$(wc -l <"$log")
    cpu0=$(cpu_ticks "${NGINX_DIR:-$state/nginx}")
    BENCH_MODE=$mode run_child /usr/bin/time -f '%U %S' -o "$results/$key.wrk.time" "${cmd[@]}" \
        >"$results/$key.wrk.out" 2>&1 || true
    quiesce "$log"
    printf '%s %s %s\n' "$cpu0" "$(cpu_ticks "${NGINX_DIR:-$state/nginx}")" "$(cat "$results/$key.wrk.time")" \
        >"$results/$key.cpu"
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

# cpu_ticks NGINX_DIR: the CPU time (user + system, in clock ticks) used so
# far by that nginx's workers, and by the PostgreSQL cluster's processes
# (the postmaster and its children; a process that has exited is not
# counted, so run.sh reads it around runs whose connections stay open).
cpu_ticks() {
    $PY - "$1/nginx.pid" "$state/pg/data/postmaster.pid" <<'PY'
import os, sys
def pid(path):
    try:
        return open(path).readline().strip()
    except OSError:
        return ""
nginx, pg = pid(sys.argv[1]), pid(sys.argv[2])
ticks = {"nginx": 0, "pg": 0}
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        stat = open(f"/proc/{p}/stat").read()
    except OSError:
        continue
    f = stat[stat.rindex(")") + 2:].split()
    used = int(f[11]) + int(f[12])
    if f[1] == nginx:
        ticks["nginx"] += used
    elif p == pg or f[1] == pg:
        ticks["pg"] += used
print(ticks["nginx"], ticks["pg"])
PY
}

proc_ticks() { # PID: its CPU time so far, in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

rss_sample() { # LABEL
    local pid
    pid=$(cat "$state/nginx/nginx.pid" 2>/dev/null) || return 0
    ps --ppid "$pid" -o pid=,rss= | while read -r wpid rss; do
        printf '%s\t%s\t%s\n' "$1" "$wpid" "$rss"
    done >>"$results/rss.tsv"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# What nginx logs from here on is the measurements' (the seeding holds an
# exclusive lock on tickets for a minute, which the SLA sweeper may time
# out on).
errors_from=$(( $(stat -c %s "$state/nginx/error.log" 2>/dev/null || echo 0) + 1 ))

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
NGINX_DIR=$state/floor wrk_run http_floor "HTTP floor: nginx return 200" floor "http://127.0.0.1:$floor_port/" "$state/floor/access.log" 2
kill -QUIT "$floor_pid"
for _ in $(seq 50); do kill -0 "$floor_pid" 2>/dev/null || break; sleep 0.1; done
floor_pid=""

# DB floor: one ticket by primary key, as a role that row-level security
# does not apply to (BYPASSRLS; made here, by the cluster's superuser).
floor_pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
superuser_psql msp -v pw="$floor_pw" >/dev/null <<'SQL'
CREATE ROLE msp_bench_floor LOGIN BYPASSRLS NOSUPERUSER NOINHERIT PASSWORD :'pw';
GRANT CONNECT ON DATABASE msp TO msp_bench_floor;
GRANT SELECT ON tickets, time_entries, assets, ticket_assets TO msp_bench_floor;
GRANT TEMPORARY ON DATABASE msp TO msp_bench_floor;
SQL
floor_url="postgresql://msp_bench_floor:$floor_pw@127.0.0.1:$pg_port/msp"
as_admin "$MSP_DATABASE_URL" >"$state/floor-tenants.tsv" <<SQL
SELECT slug, tenant_id FROM tenants WHERE slug IN ('client-0001', 'client-0002', 'client-0003',
       'client-0004', 'client-0005') ORDER BY slug;
SQL
floor_scripts=()
while IFS=$'\t' read -r s id; do
    printf -- '-- The DB floor of tests/bench/run.sh: one ticket of %s by primary key.\n\\set n random(1, :max_number)\nSELECT * FROM tickets WHERE tenant_id = '"'"'%s'"'"' AND number = :n;\n' \
        "$s" "$id" >"$state/floor-$s.sql"
    floor_scripts+=(-f "$state/floor-$s.sql")
done <"$state/floor-tenants.tsv"
# The check that row-level security does not apply to the floor's role: it
# sees every ticket with no principal set (msp_gateway, or the owner, would
# see none), and its plan is a bare index scan, no policy filter.
{
    psql -X -q -At -v ON_ERROR_STOP=1 "$floor_url" -c "SELECT 'role ' || current_user || ': bypassrls ' ||
        (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user) || ', superuser ' ||
        (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) || '; tickets it sees with no principal set: ' ||
        count(*) FROM tickets"
    psql -X -q -At -v ON_ERROR_STOP=1 "$MSP_GATEWAY_DATABASE_URL" -c "SELECT 'msp_gateway, for comparison, sees ' ||
        count(*) || ' with no principal set' FROM tickets"
    echo "its plan (the first script's statement, EXPLAIN ANALYZE, n = $mid):"
    psql -X -q -At -v ON_ERROR_STOP=1 "$floor_url" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
        $(sed -n 3p "$state/floor-client-0001.sql" | sed "s/:n/$mid/; s/;\$//")"
} >"$results/floor-check.txt" 2>&1 || echo "bench: the DB floor's check failed, see $results/floor-check.txt" >&2
pgbench_run() { # KEY LABEL CLIENTS
    local key=$1 label=$2 clients=$3
    local cmd=("$PGBENCH" -n -M prepared -c "$clients" -j "$threads" -T "$(( db_warmup + duration ))" -P 5
        -D max_number="$per_tenant" "${floor_scripts[@]}" --log --log-prefix="$results/$key.log")
    say "$label: ${db_warmup}s warm-up, then ${duration}s measured"
    printf '%s %s %s\n' "$(now)" "$db_warmup" "$duration" >"$results/$key.window"
    "${cmd[@]}" "$floor_url" >"$results/$key.pgbench.out" 2>&1 &
    children+=($!)
    # PostgreSQL's and pgbench's CPU over most of the measured window (read
    # while pgbench's connections are open): "p0 p1 t0 t1 c0 c1".
    sleep "$db_warmup"
    local c0 t0 c1 t1 b0 b1
    c0=$(cpu_ticks "$state/nginx") t0=$(now) b0=$(proc_ticks "${children[-1]}")
    sleep "$(( duration - 1 ))"
    c1=$(cpu_ticks "$state/nginx") t1=$(now) b1=$(proc_ticks "${children[-1]}")
    printf '%s %s %s %s %s %s\n' "${c0#* }" "${c1#* }" "$t0" "$t1" "$b0" "$b1" >"$results/$key.cpuwin"
    wait "${children[-1]}" || true
    unset 'children[-1]'
    grep -E '^(progress|number of failed)|aborted' "$results/$key.pgbench.out" | sed 's/^/   /' | head -40 || true
    printf '%s\t%s\tpgbench\t\n' "$key" "$label" >>"$results/rows.tsv"
    commands+=("${cmd[*]//$state/STATE} \"postgresql://msp_bench_floor@.../msp\"   # counted: the transactions that end in the last ${duration}s")
}
pgbench_run db_floor "DB floor: pgbench PK lookup" "$conns"

# The gateway.
base=http://127.0.0.1:$http_port
probe() { # TOKEN METHOD PATH [curl args]: status and the start of the body, to show what the rows measure
    local tok=$1 method=$2 path=$3; shift 3
    curl -s -o "$state/probe.body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok" "$@" "$base$path" \
        >"$state/probe.status" 2>/dev/null || echo "000" >"$state/probe.status"
    printf '   %-6s %-52s %s  %s\n' "$method" "$path" "$(cat "$state/probe.status")" \
        "$(head -c 110 "$state/probe.body" | tr '\n' ' ')"
}
open1=$(head -1 "$state/open-t50.txt" | awk '{ print "/v1/tenants/" $1 "/tickets/" $2 "-" $3 }')
export BENCH_TARGETS=$targets BENCH_MAX_NUMBER=$per_tenant BENCH_TICKETS=$state/open-t50.txt
# key|label|mode|path|token[|t20: on the 20-tenant database's nginx]
gateway_rows=(
    "get_ticket|GET ticket|get|/|$tok_t5"
    "t20_get_ticket|GET ticket, $scaling_tenants tenants|get|/|$tok_t5|t20"
    "get_list|GET list (limit 50)|list|/|$tok_t5"
    "t20_get_list|GET list (limit 50), $scaling_tenants tenants|list|/|$tok_t5|t20"
    "queue_t5|GET queue, tech 5 tenants|url|/v1/queue?limit=50|$tok_t5"
    "queue_t50|GET queue, tech 50 tenants|url|/v1/queue?limit=50|$tok_t50"
    "queue_admin|GET queue, admin|url|/v1/queue?limit=50|$tok_admin"
    "get_events|GET events (limit 50)|events|/|$tok_t5"
    "inbox_t50|GET inbox, tech 50 tenants|url|/v1/inbox|$tok_t50"
    "inbox_lead|GET inbox, lead 200 tenants|url|/v1/inbox|$tok_lead"
    "post_ticket|POST ticket|post|/|$tok_t5"
    "t20_post_ticket|POST ticket, $scaling_tenants tenants|post|/|$tok_t5|t20"
    "patch_ticket|PATCH ticket (If-Match: *)|patch|/|$tok_t50"
    "post_comment|POST comment|comment|/|$tok_t50"
    "post_escalation|POST escalation|escalate|/|$tok_t50"
    "post_time|POST time entry|time|/|$tok_t50"
)
if [[ $gateway_up -eq 1 ]]; then
    say "the gateway answers (one request each, before the load):"
    probe "$tok_t5" GET /v1/health
    probe "$tok_t5" GET /v1/tenants/client-0001/tickets/T0001-1
    probe "$tok_t5" GET "/v1/tenants/client-0001/tickets?limit=2"
    probe "$tok_t50" GET "/v1/queue?limit=2"
    probe "$tok_lead" GET /v1/inbox
    probe "$tok_t50" PATCH "$open1" -H 'Content-Type: application/json' -H 'If-Match: *' \
        -d '{"description":"Probed by the benchmark."}'
    rss_sample "before the load"
    for row in "${gateway_rows[@]}"; do
        IFS='|' read -r key label mode path tok where <<<"$row"
        if [[ $where == t20 ]]; then
            [[ $t20_up -eq 1 ]] || continue
            BENCH_TOKEN=$tok NGINX_DIR=$state/t20/nginx wrk_run "$key" "$label" "$mode" \
                "http://127.0.0.1:$t20_port$path" "$state/t20/nginx/access.log" "$warmup"
            continue
        fi
        BENCH_TOKEN=$tok wrk_run "$key" "$label" "$mode" "$base$path" "$state/nginx/access.log" "$warmup"
        rss_sample "after $label"
    done
    if [[ $t20_up -eq 1 ]]; then
        "$ROOT/deploy/stack.sh" down "$state/t20" >/dev/null 2>&1 || true
        t20_up=0
    fi
    curl -s -H "Authorization: Bearer $tok_t5" "$base/v1/health" >"$results/health-after.json" 2>/dev/null || true
    # What the gateway's nginx logged at error level or worse, by level.
    tail -c +"$errors_from" "$state/nginx/error.log" >"$results/nginx-error.log" 2>/dev/null || true
    grep -oE '\[(error|crit|alert|emerg)\]' "$results/nginx-error.log" | sort | uniq -c \
        >"$results/nginx-errors.txt" || true
    grep -E '\[(error|crit|alert|emerg)\]' "$results/nginx-error.log" | tail -5 \
        | cut -c1-300 >>"$results/nginx-errors.txt" || true
else
    for row in "${gateway_rows[@]}"; do
        IFS='|' read -r key label _ <<<"$row"
        [[ $key == t20_* ]] && continue
        printf '%s\t%s\tskipped\tthe gateway did not start (stack.log)\n' "$key" "$label" >>"$results/rows.tsv"
    done
fi

# ---- 4. offboarding ------------------------------------------------------
if [[ $offboard_tickets -gt 0 ]]; then
    big=$(slug $(( ntenants + 1 )))
    t2=$(now)
    say "offboarding: seeding $big with $offboard_tickets tickets"
    $PY "$HERE/make_tenants.py" "$ROOT/tenants/acme.json" "$state/tenants-big" 1 $(( ntenants + 1 ))
    seed "$MSP_DATABASE_URL" "$state/tenants-big" "$offboard_tickets" "$big"
    big_seed_time=$(elapsed "$t2")
    as_admin "$MSP_DATABASE_URL" >"$results/offboard-rows.tsv" <<SQL
SELECT (SELECT count(*) FROM tickets k WHERE k.tenant_id = t.tenant_id),
       (SELECT count(*) FROM ticket_events e WHERE e.tenant_id = t.tenant_id),
       (SELECT count(*) FROM audit_log a WHERE a.tenant_id = t.tenant_id),
       (SELECT count(*) FROM escalations x WHERE x.tenant_id = t.tenant_id),
       (SELECT count(*) FROM ticket_assets l WHERE l.tenant_id = t.tenant_id)
  FROM tenants t WHERE t.slug = '$big';
SQL
    # While it is there: the list's first page on a tenant this big, as the
    # gateway runs it (a page should cost the same whatever the tenant's size).
    {
        echo "PREPARE msp_principal AS $($PY "$HERE/sql.py" statement services/call/call.c msp_principal);"
        as_principal admin.bench admin
        explain ticket_list services/tickets/tickets_read.c "admin.bench, $big" \
            "'$big', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '51', NULL"
        explain ticket_list services/tickets/tickets_read.c "admin.bench, client-0003" \
            "'client-0003', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '51', NULL"
        echo "COMMIT;"
    } >"$state/explain-big.sql"
    psql -X -q -v ON_ERROR_STOP=1 "$MSP_GATEWAY_DATABASE_URL" -f "$state/explain-big.sql" \
        >"$results/plans-big.full.txt" 2>&1 || echo "bench: EXPLAIN failed, see $results/plans-big.full.txt" >&2
    say "offboarding: /usr/bin/time -v mspctl tenant offboard $big --export DIR"
    rc=0
    run_child /usr/bin/time -v -o "$results/offboard.time" "$mspctl" tenant offboard "$big" \
        --export "$state/offboard-export" >"$results/offboard.out" 2>&1 || rc=$?
    {
        IFS=$'\t' read -r ot oe oa ox ol <"$results/offboard-rows.tsv" || true
        echo "== offboarding: mspctl tenant offboard $big --export DIR"
        echo "   the tenant: $ot tickets, $oe events, $oa audit rows, $ox escalations, $ol asset links"
        echo "   (seeded after the measurements in $big_seed_time, in the main database of $ntenants tenants)"
        if [[ $rc -ne 0 ]]; then
            echo "   FAILED (status $rc):"; sed 's/^/   /' "$results/offboard.out" | tail -5
        fi
        awk -F': ' '/Elapsed \(wall clock\)/ { w = $2 } /Maximum resident set size/ { r = $2 }
                    /User time/ { u = $2 } /System time/ { s = $2 }
                    END { printf "   wall time %s; peak RSS %.1f MiB (mspctl); CPU user %s s, system %s s\n", w, r / 1024, u, s }' \
            "$results/offboard.time"
        echo "   export: $(du -sh "$state/offboard-export" 2>/dev/null | cut -f1) in $(ls "$state/offboard-export" 2>/dev/null | wc -l) files;" \
             "tickets.csv $(du -h "$state/offboard-export/tickets.csv" 2>/dev/null | cut -f1)," \
             "ticket_events.csv $(du -h "$state/offboard-export/ticket_events.csv" 2>/dev/null | cut -f1)"
        echo "   (the peak RSS is mspctl's: it streams each table's COPY to its file, so it stays"
        echo "   the same for a tenant of 1,000 tickets or of 1,000,000)"
        echo "   before it went: GET list's statement (first page, 50), EXPLAIN ANALYZE as the admin, on it"
        echo "   and on client-0003 ($per_tenant tickets seeded, plus those the POST ticket rows opened there;"
        echo "   plans in results/plans-big.full.txt):"
        $PY "$HERE/report.py" --plans "$results/plans-big.full.txt" | grep -E '^  ticket_list' | sed 's/^  /   /'
    } >"$results/offboard.txt"
    sed 's/^/   /' "$results/offboard.txt" | tail -n +2
fi

# ---- 5. the reports ------------------------------------------------------
if [[ $report_tickets -gt 0 && $gateway_up -eq 1 ]]; then
    rep=$(slug $(( ntenants + 2 )))
    t3=$(now)
    say "reports: seeding $rep with $report_tickets tickets a month for $report_months months"
    $PY "$HERE/make_tenants.py" "$ROOT/tenants/acme.json" "$state/tenants-rep" 1 $(( ntenants + 2 ))
    "$mspctl" tenant apply "$state/tenants-rep"/*.json >"$state/tenants-rep.apply.log"
    run_child psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -v slug="$rep" \
        -v per_month="$report_tickets" -v months="$report_months" "$MSP_DATABASE_URL" \
        -f "$HERE/seed_reports.sql"
    run_child psql -X -q -v ON_ERROR_STOP=1 "$MSP_DATABASE_URL" -c "VACUUM (ANALYZE) tickets,
        ticket_events, ticket_open_spans, ticket_sla_facts, ticket_status_changes,
        ticket_report_facts, escalations, ticket_assets"
    # what the module's timer would have stored by now: every tenant's
    # weeks, months and quarters that ended (METRICS.md, "Settled periods")
    t4=$(now)
    as_admin "$MSP_DATABASE_URL" >/dev/null <<SQL
DO \$\$ BEGIN
    LOOP
        EXIT WHEN app.settle_report_headlines(1000) = 0;
    END LOOP;
END \$\$;
SQL
    settle_time=$(elapsed "$t4")
    say "reports: seeded in $(elapsed "$t3") (storing the headlines: $settle_time); measuring"
    rep_period=$(as_admin "$MSP_DATABASE_URL" <<SQL
SELECT to_char(date_trunc('month', now() AT TIME ZONE timezone) - interval '1 month', 'YYYY-MM')
  FROM tenants WHERE slug = '$rep';
SQL
)
    run_child $PY "$HERE/reports.py" "$rep" "$rep_period" "$floor_url" "$mspctl" "$results" \
        || echo "bench: the reports part failed (its output is above)" >&2
    { echo "   (seeded in $(elapsed "$t3") with the measurements; tests/bench/seed_reports.sql;"
      echo "   every tenant's headlines of ended periods stored in $settle_time, as the module's"
      echo "   timer would have)"
    } >>"$results/reports.txt"
fi

# ---- 5b. the assets --------------------------------------------------------
if [[ $asset_rows -gt 0 && $gateway_up -eq 1 ]]; then
    say "assets: importing $asset_rows devices into client-0004, then reading them"
    run_child $PY "$HERE/assets.py" client-0004 "$asset_rows" "$floor_url" "$mspctl" "$results" \
        || echo "bench: the assets part failed (its output is above)" >&2
fi

# ---- 6. the SLA part -----------------------------------------------------
if [[ $sla == 1 ]]; then
    run_child "$HERE/sla.sh" "$state" "$build" "$results" \
        || echo "bench: the SLA part failed (its output is above)" >&2
fi

# ---- 7. the report -------------------------------------------------------
{
    echo "== machine"
    echo "   $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }')"
    echo "   $(uname -sr); $(/usr/sbin/nginx -v 2>&1); $(/usr/lib/postgresql/15/bin/postgres --version); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "   nginx workers: $MSP_WORKERS, msp_pool_size 8 each; PostgreSQL shared_buffers 256MB, max_connections 200 (deploy/stack.sh)"
    echo "   load average before the measurements: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "   (wrk, nginx and PostgreSQL share these CPUs; anything else running on the machine shows here)"
    echo
    echo "== data ($ntenants tenants from tenants/acme.json, $per_tenant tickets each; seeded in $seed_time)"
    awk -F'\t' 'NF == 2 { printf "   %-52s %s\n", $1, $2 }' "$results/data.tsv"
    echo
    echo "== the DB floor's role (row-level security must not apply to it)"
    sed 's/^/   /' "$results/floor-check.txt"
    echo
    echo "== plans (as msp_gateway, each principal set by app.set_principal; full text in results/plans.full.txt)"
    sed 's/^/   /' "$results/plans.txt"
    echo
    echo "== commands"
    echo "   make BUILD=$build bench   # or: tests/bench/run.sh $build"
    echo "   MSP_WORKERS=$MSP_WORKERS deploy/stack.sh up STATE --http-port $http_port --pg-port $pg_port --build $build"
    echo "   BENCH_TOKEN=\$($build/mspctl token --sub tech.t5 --org provider --role technician)   # per row: tech.t5, tech.t50, lead.l200, admin.bench"
    echo "   BENCH_TARGETS=client-0001:T0001,...,client-0005:T0005 BENCH_MAX_NUMBER=$per_tenant BENCH_TICKETS=STATE/open-t50.txt"
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
        echo "the gateway's nginx error log during the measurements, error level and worse (counts, then the last lines):"
        sed 's/^/   /' "$results/nginx-errors.txt"
    fi
    if [[ -s $results/offboard.txt ]]; then
        echo
        cat "$results/offboard.txt"
    fi
    if [[ -s $results/reports.txt ]]; then
        echo
        cat "$results/reports.txt"
    fi
    if [[ -s $results/assets.txt ]]; then
        echo
        cat "$results/assets.txt"
    fi
    if [[ -s $results/sla.txt ]]; then
        echo
        cat "$results/sla.txt"
    fi
} >"$state/results.txt"
echo
cat "$state/results.txt"
