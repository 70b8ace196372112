#!/usr/bin/env bash
# The SLA part of `make bench` (tests/bench/run.sh runs it after the HTTP
# rows): the breach sweep over 500,000 open tickets, and the working-time
# arithmetic, each against a floor measured in the same run.  Measures and
# prints; never fails because something was slow.  About 5 minutes.
#
#   tests/bench/sla.sh STATE BUILD_DIR RESULTS_DIR
#
# STATE is a running stack of deploy/stack.sh (its env file gives the
# connection strings); BUILD_DIR has mspctl and libmsp.a.  Everything is
# written under RESULTS_DIR; the report section is RESULTS_DIR/sla.txt.
#
# The sweep has a data set of its own, in a database of its own, msp_sla, in
# the stack's cluster (dropped first if it exists; the stack's own database
# and its gateway, whose sweeper sweeps that one, are left alone):
#   - the migrations (mspctl migrate), then BENCH_SLA_TENANTS (1,000) tenant
#     files made from tenants/acme.json by make_tenants.py (mspctl tenant
#     apply);
#   - BENCH_SLA_TICKETS_PER_TENANT (500) open tickets each (seed_sla.sql:
#     500,000), every one with pending warnings and a sla_next_at, one in
#     every BENCH_SLA_DUE_EVERY (50) due now (10,000), the rest from 1 hour
#     to 30 days ahead; then VACUUM (ANALYZE).
# Then, as msp_gateway with the sweeper's principal (msp-gateway:sla-sweep,
# provider, admin, statement_timeout 10000ms; services/sla/sla_sweep.c), so that
# row-level security applies as in production:
#   1. EXPLAIN (ANALYZE, BUFFERS) of the sweep's selection (the `due` CTE
#      of app.sla_sweep as installed, SELECT ... FOR UPDATE SKIP LOCKED,
#      PREPAREd with its LIMIT as $1 as PL/pgSQL plans it: custom plan, then
#      generic plan) while 10,000 are due, and once more when none is; the
#      report checks that tickets is read by index (tickets_sla_next),
#      never by a Seq Scan;
#   2. the drain: `BEGIN; principal; SELECT app.sla_sweep(BATCH); COMMIT`
#      in one session, over and over, until a call writes nothing (the
#      module's sweeper does the same, pipelined); BATCH is
#      MSP_SLA_SWEEP_BATCH from services/sla/sla_sweep.h.  Calls, events,
#      total time, time per call and per due ticket; the first call of a
#      session also plans the selection;
#   3. with nothing due, the steady state: first VACUUM tickets, as
#      autovacuum would in time (the drain's updates leave dead entries in
#      tickets_sla_next, which every probe would otherwise step over until
#      an index scan marks them dead), then pgbench -c1 (one sweeper at a
#      time) of the module's sweep transaction, pipelined, and of its floor,
#      the same transaction with the sweep replaced by its selection alone
#      as an index probe, run as the sweep runs it once warm, from a cached
#      generic PL/pgSQL plan: bench.sla_probe(BATCH), made here (the same
#      index scan, in order, without the row locks and the work per
#      ticket); and for reference a plain SQL probe as a client's
#      prepared statement, SELECT count(*) FROM tickets WHERE sla_next_at <=
#      now(); each BENCH_SLA_WARMUP (5) seconds unmeasured, then
#      BENCH_DURATION (15).  The plans are explained once more here, with
#      nothing due.
# And the working-time arithmetic: BUILD_DIR/bench/sla_bench (sla_bench.c)
# on acme's calendar (America/New_York, split shifts, Saturday mornings, 24
# holidays) and globex's (24x7, Europe/Berlin, short-hours holidays),
# BENCH_SLA_C_SECONDS (1.5) per row.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
[[ $# -eq 3 ]] || { echo "usage: sla.sh STATE BUILD_DIR RESULTS_DIR" >&2; exit 2; }
state=$1 build=$2
out=$3/sla
duration=${BENCH_DURATION:-15}
duration=${duration%s}
warmup=${BENCH_SLA_WARMUP:-5}
warmup=${warmup%s}
ntenants=${BENCH_SLA_TENANTS:-1000}
per_tenant=${BENCH_SLA_TICKETS_PER_TENANT:-500}
due_every=${BENCH_SLA_DUE_EVERY:-50}
c_seconds=${BENCH_SLA_C_SECONDS:-1.5}
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
PY=/usr/bin/python3
db=msp_sla
sweeper_sub=msp-gateway:sla-sweep
timeout=10000ms

cd "$ROOT"
say() { printf '== %s\n' "$*"; }
die() { echo "bench sla: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

[[ -f $state/env ]] || die "$state is not a stack (no env file)"
set -a
# shellcheck source=/dev/null
. "$state/env"
set +a
mspctl=$ROOT/$build/mspctl
batch=$(awk '$1 == "#define" && $2 == "MSP_SLA_SWEEP_BATCH" { print $3 }' services/sla/sla_sweep.h)
[[ $batch =~ ^[0-9]+$ ]] || die "no MSP_SLA_SWEEP_BATCH in services/sla/sla_sweep.h"
owner_url=${MSP_DATABASE_URL%/*}/$db
gateway_url=${MSP_GATEWAY_DATABASE_URL%/*}/$db
mkdir -p "$out"
: >"$out/rows.tsv"

# Children are stopped with this script (ctrl-c, or run.sh stopping it).
children=()
trap '[[ ${#children[@]} -gt 0 ]] && kill "${children[@]}" 2>/dev/null; exit 143' TERM
trap '[[ ${#children[@]} -gt 0 ]] && kill "${children[@]}" 2>/dev/null; exit 130' INT
run_child() {
    "$@" &
    children+=($!)
    local rc=0
    wait "${children[-1]}" || rc=$?
    unset 'children[-1]'
    return "$rc"
}
# The sweeper's principal, as services/call/call.c sets it for the module.
principal="SELECT app.set_principal('$sweeper_sub', 'provider', 'admin'), set_config('statement_timeout', '$timeout', true)"

# ---- the data ------------------------------------------------------------
printf '%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >"$out/load.before"
t0=$(now)
say "sla: database $db, the migrations, $ntenants tenant files (mspctl tenant apply)"
psql -X -q -v ON_ERROR_STOP=1 "$MSP_DATABASE_URL" >/dev/null <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db WITH (FORCE);
CREATE DATABASE $db;
SQL
psql -X -q -v ON_ERROR_STOP=1 "$owner_url" >/dev/null <<SQL
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT CONNECT ON DATABASE $db TO msp_gateway;
SQL
MSP_DATABASE_URL=$owner_url run_child "$mspctl" migrate --dir "$ROOT/migrations" >"$out/migrate.log"
$PY "$HERE/make_tenants.py" "$ROOT/tenants/acme.json" "$out/tenants" "$ntenants"
MSP_DATABASE_URL=$owner_url run_child "$mspctl" tenant apply "$out"/tenants/*.json >"$out/tenant-apply.log"
say "sla: $per_tenant open tickets per tenant, one in $due_every due, tests/bench/seed_sla.sql ($(elapsed "$t0") so far)"
run_child psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -v per_tenant="$per_tenant" -v due_every="$due_every" \
    "$owner_url" -f "$HERE/seed_sla.sql"
say "sla: VACUUM (ANALYZE) ($(elapsed "$t0") so far)"
run_child psql -X -q -v ON_ERROR_STOP=1 "$owner_url" -c "VACUUM (ANALYZE) tenants, assignments, ticket_counters,
    tickets, ticket_events, escalations, audit_log"
say "sla: seeded in $(elapsed "$t0")"
printf '%s\n' "$(elapsed "$t0")" >"$out/seed.time"

# What is due, as the sweeper sees it (msp_gateway, its principal).
due_counts() {
    psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 "$gateway_url" <<SQL
BEGIN;
\\o /dev/null
$principal;
\\o
SELECT (SELECT count(*) FROM tickets WHERE sla_next_at <= now()),
       (SELECT count(*) FROM tickets k, jsonb_array_elements(k.sla_pending) a
         WHERE k.sla_next_at <= now() AND (a->>'at')::timestamptz <= now()),
       (SELECT count(*) FROM ticket_events WHERE kind IN ('sla_warning', 'sla_breached')),
       (SELECT count(*) FROM audit_log WHERE action IN ('sla.warning', 'sla.breached'));
COMMIT;
SQL
}
psql -X -q -v ON_ERROR_STOP=1 "$owner_url" >"$out/data.txt" <<SQL
BEGIN;
\\o /dev/null
SELECT app.set_principal('bench.report', 'provider', 'admin');
\\o
SELECT (SELECT count(*) FROM tenants) AS tenants,
       count(*) AS tickets,
       count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')) AS open_tickets,
       count(sla_next_at) AS with_sla_next_at,
       count(*) FILTER (WHERE sla_next_at <= now()) AS due_now,
       sum(jsonb_array_length(sla_pending)) AS pending_entries,
       min(sla_next_at) FILTER (WHERE sla_next_at > now()) - now() AS next_not_due_in,
       pg_size_pretty(pg_database_size(current_database())) AS database_size,
       pg_size_pretty(pg_relation_size('tickets_sla_next')) AS tickets_sla_next_size
  FROM tickets;
SELECT status, priority, count(*) AS tickets, count(*) FILTER (WHERE sla_next_at <= now()) AS due
  FROM tickets GROUP BY 1, 2 ORDER BY 1, 2;
COMMIT;
SQL
due_counts >"$out/counts.before"

# ---- 1. the plans --------------------------------------------------------
query=$(psql -X -q -At -v ON_ERROR_STOP=1 "$owner_url" \
    -c "SELECT prosrc FROM pg_proc WHERE oid = 'app.sla_sweep(integer)'::regprocedure" \
    | $PY "$HERE/sql.py" loop-query p_limit='$1')
printf '%s\n' "$query" >"$out/selection.sql"
explain() { # TITLE
    cat <<SQL
BEGIN;
\\o /dev/null
$principal;
\\o
PREPARE sla_select(integer) AS $query;
\\echo '---- sla_select, $1: custom plan, then generic plan'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE sla_select($batch);
SET LOCAL plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE sla_select($batch);
ROLLBACK;
SQL
}
say "sla: explaining the sweep's selection, $(cut -d' ' -f1 "$out/counts.before") tickets due"
explain "$(cut -d' ' -f1 "$out/counts.before") tickets due" >"$out/explain-due.sql"
psql -X -q -v ON_ERROR_STOP=1 "$gateway_url" -f "$out/explain-due.sql" >"$out/plans.full.txt" 2>&1 \
    || echo "bench sla: EXPLAIN failed, see $out/plans.full.txt" >&2

# ---- 2. the drain --------------------------------------------------------
# One session; each call a transaction of its own, as the module's; a line
# "call N EVENTS EPOCH" after each COMMIT.  Stops after the first call that
# writes nothing (or -1: another sweeper; none runs on this database).
max_calls=$(( $(cut -d' ' -f1 "$out/counts.before") / batch * 2 + 20 ))
{
    echo "\\set ON_ERROR_STOP on"
    echo "SELECT extract(epoch FROM clock_timestamp()) AS t \\gset"
    echo "\\echo start :t"
    for i in $(seq 1 "$max_calls"); do
        cat <<SQL
BEGIN;
$principal \\g /dev/null
SELECT n, n <= 0 AS done FROM app.sla_sweep($batch) n \\gset
COMMIT;
SELECT extract(epoch FROM clock_timestamp()) AS t \\gset
\\echo call $i :n :t
\\if :done
\\q
\\endif
SQL
    done
} >"$out/drain.sql"
say "sla: draining: app.sla_sweep($batch) until a call writes nothing"
run_child psql -X -q "$gateway_url" -f "$out/drain.sql" >"$out/drain.out" 2>&1 \
    || echo "bench sla: the drain failed, see $out/drain.out" >&2
grep -c '^call' "$out/drain.out" | xargs printf '   %s calls\n'
due_counts >"$out/counts.after"

# ---- 3. the steady state -------------------------------------------------
say "sla: VACUUM tickets"
run_child psql -X -q -v ON_ERROR_STOP=1 "$owner_url" -c "VACUUM tickets"
# The floor: the sweep's selection alone, in PL/pgSQL like the sweep, as the
# caller (row-level security applies), in this database only.  Its generic
# plan is forced: PL/pgSQL would otherwise keep choosing custom plans for it
# (the generic one, LIMIT unknown, is estimated dearer), and planning at
# each call is not a floor (the sweep's statement is cached by PL/pgSQL
# the same way: custom plans first, then the generic one if no dearer).
psql -X -q -v ON_ERROR_STOP=1 "$owner_url" >/dev/null <<'SQL'
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO msp_gateway;
CREATE FUNCTION bench.sla_probe(p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    SET plan_cache_mode = force_generic_plan
    AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        SELECT k.tenant_id, k.number, k.sla_pending
          FROM public.tickets k
         WHERE k.sla_next_at <= now()
         ORDER BY k.sla_next_at
         LIMIT p_limit
    LOOP
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
SQL
explain "none due" >"$out/explain-idle.sql"
psql -X -q -v ON_ERROR_STOP=1 "$gateway_url" -f "$out/explain-idle.sql" >>"$out/plans.full.txt" 2>&1 \
    || echo "bench sla: EXPLAIN failed, see $out/plans.full.txt" >&2
$PY "$HERE/sql.py" probe-pgbench "$out/probe.pgbench.sql"
$PY "$HERE/sql.py" sql-probe-pgbench "$out/sql-probe.pgbench.sql"
$PY "$HERE/sql.py" sweep-pgbench "$out/sweep.pgbench.sql"
commands=()
pgbench_run() { # KEY LABEL SCRIPT
    local key=$1 label=$2 script=$3
    local cmd=("$PGBENCH" -n -M prepared -c 1 -j 1 -T "$(( warmup + duration ))" -P 5
        -D sub="$sweeper_sub" -D org=provider -D role=admin -D timeout="$timeout" -D batch="$batch"
        -f "$script" --log --log-prefix="$out/$key.log")
    say "sla: $label: ${warmup}s warm-up, then ${duration}s measured"
    printf '%s %s %s\n' "$(now)" "$warmup" "$duration" >"$out/$key.window"
    run_child "${cmd[@]}" "$gateway_url" >"$out/$key.pgbench.out" 2>&1 || true
    grep -E '^(progress|number of failed)|aborted|error' "$out/$key.pgbench.out" | sed 's/^/   /' | head -20 || true
    printf '%s\t%s\tpgbench\t\n' "$key" "$label" >>"$out/rows.tsv"
    commands+=("${cmd[*]//$out/RESULTS/sla} \"\$MSP_GATEWAY_DATABASE_URL\" (database $db)   # counted: the last ${duration}s")
}
pgbench_run sla_floor "floor: bench.sla_probe($batch)" "$out/probe.pgbench.sql"
pgbench_run sla_sql_probe "plain SQL: count(*) (reference)" "$out/sql-probe.pgbench.sql"
pgbench_run sla_idle "sla_sweep($batch), nothing due" "$out/sweep.pgbench.sql"
due_counts >"$out/counts.end"
printf '%s\n' "${commands[@]}" >"$out/commands.txt"

# ---- the arithmetic ------------------------------------------------------
say "sla: working-time arithmetic, $build/bench/sla_bench"
run_child "$ROOT/$build/bench/sla_bench" --seconds "$c_seconds" tenants/acme.json tenants/globex.json \
    >"$out/sla_bench.out" 2>&1 || echo "bench sla: sla_bench failed, see $out/sla_bench.out" >&2

# ---- the report section --------------------------------------------------
{
    echo "== SLA: data (database $db: $ntenants tenants from tenants/acme.json, seeded in $(cat "$out/seed.time"))"
    echo "   load average before the SLA part: $(cat "$out/load.before"); after: $(cut -d' ' -f1-3 /proc/loadavg)"
    sed 's/^/   /' "$out/data.txt"
    echo "== SLA: commands"
    echo "   tests/bench/sla.sh STATE $build RESULTS   # run.sh runs it; BENCH_SLA=0 skips it"
    echo "   psql -v per_tenant=$per_tenant -v due_every=$due_every -f tests/bench/seed_sla.sql \"\$MSP_DATABASE_URL (database $db)\""
    echo "   drain: psql -f RESULTS/sla/drain.sql \"\$MSP_GATEWAY_DATABASE_URL (database $db)\""
    sed 's/^/   /' "$out/commands.txt"
    echo "   $build/bench/sla_bench --seconds $c_seconds tenants/acme.json tenants/globex.json"
    echo
    $PY "$HERE/report.py" --sla "$out" "$batch"
    echo
    echo "== SLA: working-time arithmetic ($build/bench/sla_bench, one core)"
    sed 's/^/   /' "$out/sla_bench.out"
} >"$3/sla.txt"
say "sla: done"
