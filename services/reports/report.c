/*
 * report.c - GET /v1/tenants/{slug}/reports/<report> and its drill-down
 * .../<report>/tickets: one report's figures for a period of the tenant's
 * own time as of an instant, and the tickets behind any one of them.
 * Each report is a row of the table below: the SQL functions computing
 * its figures and its rows (migrations; METRICS.md defines them), the
 * figures a drill-down may name and the splits it may filter by.
 */
#include "reports/reports.h"

#include "auth/tenant_context.h"
#include "http/args.h"
#include "http/csv.h"
#include "http/page.h"
#include "http/params.h"
#include "http/replies.h"
#include "reports/period.h"
#include "sla/clock.h"
#include "tickets/ticket_sla.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* $1 slug, $2 as_of or NULL: the tenant's zone, as_of in microseconds
 * since the epoch (a report as of now counts what was recorded in this
 * very second), and whether it is in the future. */
static const msp_sql_t sql_report_clock = {
    "report_clock",
    "SELECT t.timezone,"
    " (extract(epoch FROM coalesce($2::timestamptz, now())) * 1000000)::bigint,"
    " coalesce($2::timestamptz, now()) > now()"
    " FROM tenants t WHERE t.slug = $1",
    2
};
enum { CLOCK_TIMEZONE, CLOCK_AS_OF, CLOCK_FUTURE };

/* $1 tenant id, $2 and $3 the instants of the period (microseconds since
 * the epoch, as every instant below). */
static const msp_sql_t sql_report_volume = {
    "report_volume",
    "SELECT app.report_volume($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6))::text",
    3
};
static const msp_sql_t sql_report_sla = {
    "report_sla",
    "SELECT app.report_sla($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6))::text",
    3
};
/* $4 as_of, $5 the start of the period before. */
static const msp_sql_t sql_report_quality = {
    "report_quality",
    "SELECT app.report_quality($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6), to_timestamp($4::bigint / 1e6),"
    " to_timestamp($5::bigint / 1e6))::text",
    5
};
static const msp_sql_t sql_report_comanagement = {
    "report_comanagement",
    "SELECT app.report_comanagement($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6))::text",
    3
};
/* $2 the periods (app.report_trend), $3 as_of. */
static const msp_sql_t sql_report_trend = {
    "report_trend",
    "SELECT app.report_trend($1::uuid, $2::json, to_timestamp($3::bigint / 1e6))::text",
    3
};
/* $4 as_of: the time entries logged by then. */
static const msp_sql_t sql_report_cost = {
    "report_cost",
    "SELECT app.report_cost($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6), to_timestamp($4::bigint / 1e6))::text",
    4
};
/* $4 as_of: the tickets' categories as they stood then. */
static const msp_sql_t sql_report_failures = {
    "report_failures",
    "SELECT app.report_failures($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6), to_timestamp($4::bigint / 1e6))::text",
    4
};
static const msp_sql_t sql_report_backlog = {
    "report_backlog",
    "SELECT app.report_backlog($1::uuid, to_timestamp($2::bigint / 1e6),"
    " to_timestamp($3::bigint / 1e6))::text",
    3
};

/* $1 slug, $2 and $3 the instants counted, $4 the metric, $5..$8 the
 * split values asked for (priority, category, source, first side) or
 * NULL, $9 after ("<at in microseconds>|<number>"), $10 how many rows:
 * the tickets behind a figure, in the order they were counted. */
static const msp_sql_t sql_report_volume_tickets = {
    "report_volume_tickets",
    "SELECT json_strip_nulls(json_build_object('id', t.ticket_prefix || '-' || r.ticket_number,"
    "  'at', to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "  'priority', coalesce(r.priority, 'unknown'),"
    "  'category', CASE WHEN r.metric = 'created' THEN coalesce(r.category, 'unknown') END,"
    "  'source', CASE WHEN r.metric = 'created' THEN coalesce(r.source, 'unknown') END,"
    "  'first_side', CASE WHEN r.metric = 'created' THEN coalesce(r.first_side, 'unknown') END"
    "  ))::text,"
    " (extract(epoch FROM r.at) * 1000000)::bigint || '|' || r.ticket_number"
    " FROM tenants t,"
    "  app.report_volume_rows(t.tenant_id, to_timestamp($2::bigint / 1e6),"
    "                         to_timestamp($3::bigint / 1e6)) r"
    " WHERE t.slug = $1 AND r.metric = $4"
    "   AND ($5::text IS NULL OR coalesce(r.priority, 'unknown') = $5)"
    "   AND ($6::text IS NULL OR coalesce(r.category, 'unknown') = $6)"
    "   AND ($7::text IS NULL OR coalesce(r.source, 'unknown') = $7)"
    "   AND ($8::text IS NULL OR coalesce(r.first_side, 'unknown') = $8)"
    "   AND ($9::text IS NULL OR (r.at, r.ticket_number) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::bigint))"
    " ORDER BY r.at, r.ticket_number LIMIT $10::integer",
    10
};

/* The same for the backlog: $4 open_at_start or open_at_end, $5 the age
 * bucket, $6 the side, $7 and $8 unused. */
static const msp_sql_t sql_report_backlog_tickets = {
    "report_backlog_tickets",
    "SELECT json_build_object('id', t.ticket_prefix || '-' || r.ticket_number,"
    "  'created_at', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "  'age', r.age, 'side', r.side)::text,"
    " (extract(epoch FROM r.created_at) * 1000000)::bigint || '|' || r.ticket_number"
    " FROM tenants t, app.report_open_rows(t.tenant_id, to_timestamp("
    "   CASE $4 WHEN 'open_at_start' THEN $2::bigint ELSE $3::bigint END / 1e6)) r"
    " WHERE t.slug = $1 AND ($5::text IS NULL OR r.age = $5) AND ($6::text IS NULL OR r.side = $6)"
    "   AND $7::text IS NULL AND $8::text IS NULL"
    "   AND ($9::text IS NULL OR (r.created_at, r.ticket_number) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::bigint))"
    " ORDER BY r.created_at, r.ticket_number LIMIT $10::integer",
    10
};

/* The same for SLA attainment and times: $4 "<clock>_<what>", what being
 * met, breached, running_at_end or stopped (the clocks whose times
 * count), $5 the priority, $6..$8 unused.  Column 2: for a breach still
 * running at the period's end, the document its lateness is measured
 * with (the item carries its clocks as "_sla" for report_item()). */
static const msp_sql_t sql_report_sla_tickets = {
    "report_sla_tickets",
    "SELECT json_strip_nulls(json_build_object('id', t.ticket_prefix || '-' || r.ticket_number,"
    "  'clock', r.clock, 'priority', r.priority, 'outcome', r.outcome,"
    "  'decided_at', app.rfc3339(r.at), 'due', app.rfc3339(r.due),"
    "  'late_business_seconds', r.late, 'stopped_at', app.rfc3339(r.stopped),"
    "  'business_seconds', r.elapsed,"
    "  'calendar_seconds', floor(extract(epoch FROM r.stopped - r.created_at))::bigint,"
    "  'created_at', app.rfc3339(r.created_at),"
    "  '_sla', CASE WHEN r.outcome = 'breached' AND r.stopped IS NULL THEN r.sla END))::text,"
    " (extract(epoch FROM k.key) * 1000000)::bigint || '|' || r.ticket_number,"
    " CASE WHEN r.outcome = 'breached' AND r.stopped IS NULL THEN r.sla->>'config' END"
    " FROM tenants t,"
    "  (SELECT split_part($4::text, '_', 1) AS clock,"
    "          substr($4::text, strpos($4::text, '_') + 1) AS what) m,"
    "  app.report_sla_rows(t.tenant_id, to_timestamp($2::bigint / 1e6),"
    "                      to_timestamp($3::bigint / 1e6)) r,"
    "  LATERAL (SELECT CASE m.what WHEN 'stopped' THEN r.stopped"
    "                              WHEN 'running_at_end' THEN r.created_at ELSE r.at END AS key) k"
    " WHERE t.slug = $1 AND r.clock = m.clock"
    "   AND CASE m.what WHEN 'stopped' THEN r.stopped >= to_timestamp($2::bigint / 1e6)"
    "                   WHEN 'running_at_end' THEN r.counted AND r.outcome = 'running'"
    "                   ELSE r.counted AND r.outcome = m.what END"
    "   AND ($5::text IS NULL OR r.priority = $5)"
    "   AND $6::text IS NULL AND $7::text IS NULL AND $8::text IS NULL"
    "   AND ($9::text IS NULL OR (k.key, r.ticket_number) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::bigint))"
    " ORDER BY k.key, r.ticket_number LIMIT $10::integer",
    10
};

/* The same for quality: $4 the metric, $5 the category, $11 as_of. */
static const msp_sql_t sql_report_quality_tickets = {
    "report_quality_tickets",
    "SELECT json_strip_nulls(json_build_object('id', t.ticket_prefix || '-' || r.ticket_number,"
    "  'at', app.rfc3339(r.at), 'category', coalesce(r.category, CASE WHEN $4 IN"
    "  ('created', 'recurring', 'proactive', 'reactive') THEN 'unknown' END),"
    "  'earlier', t.ticket_prefix || '-' || r.earlier))::text,"
    " (extract(epoch FROM r.at) * 1000000)::bigint || '|' || r.ticket_number"
    " FROM tenants t,"
    "  app.report_quality_rows(t.tenant_id, to_timestamp($2::bigint / 1e6),"
    "                          to_timestamp($3::bigint / 1e6), to_timestamp($11::bigint / 1e6)) r"
    " WHERE t.slug = $1 AND r.metric = $4"
    "   AND ($5::text IS NULL OR coalesce(r.category, 'unknown') = $5)"
    "   AND $6::text IS NULL AND $7::text IS NULL AND $8::text IS NULL"
    "   AND ($9::text IS NULL OR (r.at, r.ticket_number) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::bigint))"
    " ORDER BY r.at, r.ticket_number LIMIT $10::integer",
    11
};

/* The same for co-management: $4 held, handoffs (or handoffs_<outcome>),
 * escalations or acknowledgement_timeouts; $5..$8 the holder a handoff
 * left, its target, the escalation's kind, its origin.  Rows of one
 * instant are ordered by ticket for held time, else by escalation. */
static const msp_sql_t sql_report_comanagement_tickets = {
    "report_comanagement_tickets",
    "SELECT json_strip_nulls(json_build_object('id', t.ticket_prefix || '-' || r.ticket_number,"
    "  'at', app.rfc3339(r.at), 'escalation', CASE WHEN r.metric <> 'held' THEN r.key END,"
    "  'kind', r.kind, 'origin', r.origin, 'from', r.from_holder, 'to', r.to_holder,"
    "  'outcome', r.outcome, 'seconds_to_acceptance', r.seconds,"
    "  'held_seconds', r.held->'sides', 'provider_tier_seconds', r.held->'provider_tiers'))::text,"
    " (extract(epoch FROM r.at) * 1000000)::bigint || '|' || r.key"
    " FROM tenants t,"
    "  (SELECT CASE WHEN $4 LIKE 'handoffs%' THEN 'handoff' WHEN $4 = 'escalations'"
    "               THEN 'escalation' WHEN $4 = 'acknowledgement_timeouts' THEN 'ack_timeout'"
    "               ELSE $4 END AS metric,"
    "          CASE $4 WHEN 'handoffs_open_at_end' THEN 'open'"
    "                  ELSE nullif(substr($4, 10), '') END AS outcome) m,"
    "  app.report_comanagement_rows(t.tenant_id, to_timestamp($2::bigint / 1e6),"
    "                               to_timestamp($3::bigint / 1e6)) r"
    " WHERE t.slug = $1 AND r.metric = m.metric"
    "   AND (m.metric <> 'handoff' OR m.outcome IS NULL OR r.outcome = m.outcome)"
    "   AND ($5::text IS NULL OR r.from_holder = $5) AND ($6::text IS NULL OR r.to_holder = $6)"
    "   AND ($7::text IS NULL OR r.kind = $7) AND ($8::text IS NULL OR r.origin = $8)"
    "   AND ($9::text IS NULL OR (r.at, r.key) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::bigint))"
    " ORDER BY r.at, r.key LIMIT $10::integer",
    10
};

/* The same for failures: $4 tickets, $5..$8 the model, department, site
 * and category of the devices and tickets, $11 as_of.  A ticket is listed
 * once, with those of its devices that match. */
static const msp_sql_t sql_report_failures_tickets = {
    "report_failures_tickets",
    "SELECT json_build_object('id', t.ticket_prefix || '-' || r.ticket_number,"
    "  'at', app.rfc3339(r.at), 'category', r.category,"
    "  'asset_ids', json_agg(r.asset_id ORDER BY r.asset_id))::text,"
    " (extract(epoch FROM r.at) * 1000000)::bigint || '|' || r.ticket_number"
    " FROM tenants t,"
    "  app.report_failure_rows(t.tenant_id, to_timestamp($2::bigint / 1e6),"
    "                          to_timestamp($3::bigint / 1e6), to_timestamp($11::bigint / 1e6)) r"
    " WHERE t.slug = $1 AND $4 = 'tickets'"
    "   AND ($5::text IS NULL OR r.model = $5) AND ($6::text IS NULL OR r.department = $6)"
    "   AND ($7::text IS NULL OR r.site = $7) AND ($8::text IS NULL OR r.category = $8)"
    "   AND ($9::text IS NULL OR (r.at, r.ticket_number) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::bigint))"
    " GROUP BY t.ticket_prefix, r.ticket_number, r.at, r.category"
    " ORDER BY r.at, r.ticket_number LIMIT $10::integer",
    11
};

#define REPORT_SPLITS 4

/* A report: its figures, its drill-down, the figures a drill-down names
 * and the splits it may filter by (at most REPORT_SPLITS, in the order of
 * the drill-down statement's $5..$8). */
typedef struct {
    const char      *name;
    const msp_sql_t *figures;
    const msp_sql_t *tickets;
    const char      *metrics[9];
    const char      *splits[REPORT_SPLITS + 1];
    int              sla_column;    /* of the drill-down's rows: the tenant document
                                       an item's clocks need, or 0 */
    int              periods;       /* how many periods its figures span, the one
                                       asked for last: 1 but for the trend */
    int              contract;      /* shows the contract's terms: only for those
                                       who see them (msp_sees_contract) */
} report_kind_t;


static const report_kind_t reports[] = {
    { "volume", &sql_report_volume, &sql_report_volume_tickets,
      { "created", "resolved", "closed", "reopened", NULL },
      { "priority", "category", "source", "first_side", NULL }, 0, 1, 0 },
    { "backlog", &sql_report_backlog, &sql_report_backlog_tickets,
      { "open_at_start", "open_at_end", NULL },
      { "age", "side", NULL }, 0, 1, 0 },
    { "sla", &sql_report_sla, &sql_report_sla_tickets,
      { "response_met", "response_breached", "response_running_at_end", "response_stopped",
        "resolution_met", "resolution_breached", "resolution_running_at_end",
        "resolution_stopped", NULL },
      { "priority", NULL }, 2, 1, 0 },
    { "quality", &sql_report_quality, &sql_report_quality_tickets,
      { "resolved", "first_contact", "reopened", "created", "recurring", "proactive",
        "reactive", NULL },
      { "category", NULL }, 0, 1, 0 },
    { "comanagement", &sql_report_comanagement, &sql_report_comanagement_tickets,
      { "held", "handoffs", "handoffs_accepted", "handoffs_rejected", "handoffs_withdrawn",
        "handoffs_open_at_end", "escalations", "acknowledgement_timeouts", NULL },
      { "from", "to", "kind", "origin", NULL }, 0, 1, 0 },
    /* no drill-down of its own: each period's figures have their report's */
    { "trend", &sql_report_trend, NULL, { NULL }, { NULL }, 0, MSP_REPORT_MAX_PERIODS, 0 },
    /* its drill-down is the tenant's time entries (GET .../time-entries) */
    { "cost", &sql_report_cost, NULL, { NULL }, { NULL }, 0, 1, 1 },
    { "failures", &sql_report_failures, &sql_report_failures_tickets,
      { "tickets", NULL },
      { "model", "department", "site", "category", NULL }, 0, 1, 0 },
};

typedef struct {
    const report_kind_t *kind;
    msp_period_t period;
    const char  *slug;
    const char  *timezone;
    int64_t      start, end;     /* Unix seconds */
    int64_t      as_of_us;       /* microseconds */
    msp_list_t  *list;       /* the drill-down's page and filters; NULL for the figures */
    int          csv;        /* the reply as CSV (http/csv.h) */
} report_state_t;

/* The reply, as JSON or as the CSV asked for. */
static msp_outcome_t
report_reply(msp_call_t *call, msp_reply_t *reply, msp_outcome_t outcome)
{
    const report_state_t *st = call->state;
    return st->csv ? msp_csv_reply(call, reply, outcome) : outcome;
}

int
msp_may_read_reports(const msp_principal_t *p)
{
    return strcmp(p->role, "requester") != 0 && strcmp(p->role, "integration") != 0;
}

int
msp_sees_contract(const msp_principal_t *p)
{
    static const char *const roles[] = { "admin", "account_manager", "it_leader", NULL };
    return msp_principal_has_role(p, roles);
}

/* An instant in the tenant's local time, RFC 3339, in the arena. */
static const char *
local_time(msp_call_t *call, const msp_tz_t *tz, int64_t t)
{
    char buf[32];
    msp_tz_format_local(tz, t, buf, sizeof(buf));
    return msp_strndup(call, buf, strlen(buf));
}

static msp_outcome_t
figures_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    report_state_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    const msp_tz_t *tz = msp_tz_get(st->timezone);
    json_t *figures = json_loads(PQgetvalue(res[0], 0, 0), 0, NULL);
    const char *start = local_time(call, tz, st->start), *end = local_time(call, tz, st->end);
    const char *as_of = local_time(call, tz, st->as_of_us / 1000000);
    if (figures == NULL || start == NULL || end == NULL || as_of == NULL) {
        json_decref(figures);
        return msp_reply_out_of_memory(reply);
    }
    if (st->csv && st->kind->periods > 1) {
        /* a run of periods is a table: a row per period */
        return report_reply(call, reply, msp_reply_doc(call, reply, 200,
                                                       json_pack("{s:o}", "items", figures)));
    }
    return report_reply(call, reply, msp_reply_doc(call, reply, 200, json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:b}, s:s, s:o}",
        "tenant", st->slug, "report", st->kind->name, "definitions", MSP_METRICS_VERSION,
        "timezone", st->timezone,
        "period", "name", st->period.name, "start", start, "end", end,
        "complete", st->end * 1000000 <= st->as_of_us,
        "as_of", as_of, st->kind->name, figures)));
}

/* A drill-down's item as shown: a breach still running at the end of what
 * the report counts is late by its clock's business time past the target
 * then, measured with the calendar its clocks were measured with (none
 * when that document is no longer the tenant's). */
static char *
report_item(msp_call_t *call, const char *json, size_t len)
{
    report_state_t *st = call->state;
    json_t *item = json_loadb(json, len, 0, NULL);
    json_t *sla = json_object_get(item, "_sla");
    if (sla != NULL) {
        const char *clock = json_string_value(json_object_get(item, "clock"));
        const char *sha = json_string_value(json_object_get(sla, "config"));
        const msp_sla_config_t *cfg = sha ? msp_sla_config_find(sha) : NULL;
        int64_t until = st->end * 1000000 < st->as_of_us ? st->end : st->as_of_us / 1000000;
        json_t *view = cfg && clock ? msp_sla_view(sla, cfg, until) : NULL;
        const json_t *c = json_object_get(view, clock);
        json_int_t elapsed = json_integer_value(json_object_get(c, "elapsed_seconds"));
        json_int_t target = json_integer_value(json_object_get(c, "target_seconds"));
        json_object_set_new(item, "late_business_seconds",
                            c ? json_integer(elapsed - target) : json_null());
        json_decref(view);
        json_object_del(item, "_sla");
    }
    char *out = msp_json_text(call, item, JSON_COMPACT);
    json_decref(item);
    return out;
}

static msp_outcome_t
tickets_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    report_state_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    if (st->kind->sla_column) {
        int more = msp_ticket_sla_need(call, res, nres, 0, st->kind->sla_column, tickets_done,
                                       next);
        if (more != 0) {
            return more > 0 ? MSP_NEXT : msp_reply_out_of_memory(reply);
        }
        st->list->item = report_item;
    }
    return report_reply(call, reply, msp_list_reply(call, reply, st->list, res[0]));
}

json_t *
msp_report_periods(const msp_period_t *last, int n, const msp_tz_t *tz, int64_t as_of_us)
{
    msp_period_t p[MSP_REPORT_MAX_PERIODS + 1];
    if (n < 1 || n > MSP_REPORT_MAX_PERIODS) {
        return NULL;
    }
    p[n] = *last;
    for (int i = n; i > 0; i--) {
        msp_period_previous(&p[i], &p[i - 1]);     /* p[0]: the one before the run */
    }
    json_t *run = json_array();
    int64_t start, end, before;
    msp_period_bounds(&p[0], tz, &before, &end);
    for (int i = 1; i <= n; i++) {
        char a[32], b[32];
        msp_period_bounds(&p[i], tz, &start, &end);
        msp_tz_format_local(tz, start, a, sizeof(a));
        msp_tz_format_local(tz, end, b, sizeof(b));
        int64_t to = end * 1000000 < as_of_us ? end * 1000000 : as_of_us;
        json_array_append_new(run, json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I}",
                                             "period", p[i].name, "start", a, "end", b,
                                             "complete", end * 1000000 <= as_of_us,
                                             "from", (json_int_t) start * 1000000,
                                             "to", (json_int_t) to,
                                             "before", (json_int_t) before * 1000000));
        before = start;
    }
    if (json_array_size(run) != (size_t) n) {
        json_decref(run);
        return NULL;
    }
    return run;
}

static msp_outcome_t
clock_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    report_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_may_read_reports(&t.as)) {
        return msp_reply_forbidden(call, reply, "Reports are for IT staff of the provider "
                                   "and of the tenant, and auditors.");
    }
    if (st->kind->contract && !msp_sees_contract(&t.as)) {
        return msp_reply_forbidden(call, reply, "This report shows the contract's terms: it is "
                                   "for the provider's account managers and admins and the "
                                   "tenant's IT leader.");
    }
    const PGresult *clock = res[1];
    st->timezone = msp_strndup(call, PQgetvalue(clock, 0, CLOCK_TIMEZONE),
                               (size_t) PQgetlength(clock, 0, CLOCK_TIMEZONE));
    const msp_tz_t *tz = st->timezone ? msp_tz_get(st->timezone) : NULL;
    if (tz == NULL) {
        return msp_reply_problem(call, reply, 500, "internal", "Internal error",
                                 "The tenant's time zone could not be read.", NULL);
    }
    st->as_of_us = strtoll(PQgetvalue(clock, 0, CLOCK_AS_OF), NULL, 10);
    msp_period_bounds(&st->period, tz, &st->start, &st->end);

    msp_errors_t errs = { 0 };
    if (strcmp(PQgetvalue(clock, 0, CLOCK_FUTURE), "t") == 0) {
        msp_errors_add(&errs, "as_of", "must not be in the future");
    } else if (st->start * 1000000 > st->as_of_us) {
        msp_errors_add(&errs, "period", "starts after as_of: there is nothing to report yet");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid report", &errs);
    }

    memset(next, 0, sizeof(*next));
    msp_stmt_t *s = &next->stmts[0];
    int64_t end_us = st->end * 1000000;
    const char *from = msp_printf(call, "%lld", (long long) st->start * 1000000);
    const char *to = msp_printf(call, "%lld", (long long) (end_us < st->as_of_us ? end_us
                                                                                : st->as_of_us));
    msp_period_t before;
    int64_t before_start, before_end;
    msp_period_previous(&st->period, &before);
    msp_period_bounds(&before, tz, &before_start, &before_end);
    const char *as_of = msp_printf(call, "%lld", (long long) st->as_of_us);
    const char *prior = msp_printf(call, "%lld", (long long) before_start * 1000000);
    if (from == NULL || to == NULL || as_of == NULL || prior == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    if (st->list == NULL && st->kind->periods > 1) {
        s->sql = st->kind->figures;
        s->params[0] = t.id;
        json_t *run = msp_report_periods(&st->period, st->kind->periods, tz, st->as_of_us);
        /* the report's own period becomes the whole run */
        st->start = json_integer_value(json_object_get(json_array_get(run, 0), "from"))
                    / 1000000;
        s->params[1] = msp_json_text(call, run, JSON_COMPACT);
        json_decref(run);
        s->params[2] = as_of;
        if (s->params[1] == NULL) {
            return msp_reply_out_of_memory(reply);
        }
        next->then = figures_done;
    } else if (st->list == NULL) {
        /* the statements that need them take as_of and the period before */
        s->sql = st->kind->figures;
        s->params[0] = t.id;
        s->params[1] = from;
        s->params[2] = to;
        s->params[3] = as_of;
        s->params[4] = prior;
        next->then = figures_done;
    } else {
        const msp_args_t *args = &st->list->args;
        s->sql = st->kind->tickets;
        s->params[0] = st->slug;
        s->params[1] = from;
        s->params[2] = to;
        s->params[3] = msp_args_get(args, "metric");
        for (int i = 0; st->kind->splits[i] != NULL; i++) {
            s->params[4 + i] = msp_args_get(args, st->kind->splits[i]);
        }
        s->params[8] = st->list->page.after;
        s->params[9] = st->list->page.fetch;
        s->params[10] = as_of;
        next->then = tickets_done;
    }
    next->nstmts = 1;
    /* a drill-down whose items need a calendar may take one step more */
    next->last = st->list == NULL || !st->kind->sla_column;
    return MSP_NEXT;
}

/* "<microseconds>|<number>", as the drill-down statements hand out (the
 * number a ticket's, or an escalation's). */
static int
is_cursor(const char *after)
{
    char *end;
    long long us = strtoll(after, &end, 10);
    if (*end != '|' || us < 0 || end == after) {
        return 0;
    }
    const char *n = end + 1;
    long long number = strtoll(n, &end, 10);
    return *end == '\0' && end != n && number >= 1 && number < LLONG_MAX;
}

void
msp_report_check_args(const msp_call_t *call, const msp_args_t *args, msp_period_t *period,
                      int *csv, msp_errors_t *errs)
{
    static const char *const formats[] = { "json", "csv", NULL };
    const char *text = msp_args_get(args, "period"), *as_of = msp_args_get(args, "as_of");
    const char *format = msp_args_get(args, "format");
    const char *why;
    if (format != NULL && !msp_in_list(format, formats)) {
        msp_errors_add(errs, "format", "must be json or csv");
    }
    *csv = msp_csv_wanted(call, format);
    if (text == NULL) {
        msp_errors_add(errs, "period", "is required: a day (2026-03-08), an ISO week "
                       "(2026-W10), a month (2026-03), a quarter (2026-Q1) or a range of days "
                       "(2026-03-01..2026-04-01)");
    } else if (msp_period_parse(text, period, &why) != 0) {
        msp_errors_add(errs, "period", "%s", why);
    }
    if (as_of != NULL && !msp_arg_is_rfc3339(as_of)) {
        msp_errors_add(errs, "as_of", "must be an RFC 3339 timestamp such as "
                       "2026-04-01T00:00:00Z");
    }
}

/* Every report's two routes: the period, as_of, and for the tickets the
 * metric, the split filters and the page. */
static msp_outcome_t
report_begin(msp_call_t *call, msp_step_t *first, msp_reply_t *reply,
             const report_kind_t *kind, int tickets)
{
    static const char *const known[] = { "period", "as_of", "format", NULL };
    const char *known_tickets[5 + REPORT_SPLITS + 3] = { "period", "as_of", "format", "metric" };
    size_t n = 4;
    for (int i = 0; kind->splits[i] != NULL; i++) {
        known_tickets[n++] = kind->splits[i];
    }
    known_tickets[n++] = "limit";
    known_tickets[n++] = "after";
    known_tickets[n] = NULL;
    char metric_list[240];
    msp_join(kind->metrics, metric_list, sizeof(metric_list));
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    report_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    st->slug = slug;
    st->kind = kind;
    call->state = st;

    msp_errors_t errs = { 0 };
    msp_args_t figures_args;
    const msp_args_t *args = &figures_args;
    if (tickets) {
        st->list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/reports/%s/tickets",
                                                   slug, kind->name), known_tickets, &errs);
        if (st->list == NULL) {
            return msp_reply_out_of_memory(reply);
        }
        args = &st->list->args;
        const char *metric = msp_args_get(args, "metric");
        if (metric == NULL) {
            msp_errors_add(&errs, "metric", "is required: one of %s", metric_list);
        } else if (!msp_in_list(metric, kind->metrics)) {
            msp_errors_add(&errs, "metric", "must be one of: %s", metric_list);
        }
        if (st->list->page.after != NULL && !is_cursor(st->list->page.after)) {
            msp_errors_add(&errs, "after", "is not a cursor this API handed out");
        }
    } else {
        msp_args_parse(call, known, &figures_args, &errs);
    }
    msp_report_check_args(call, args, &st->period, &st->csv, &errs);
    const char *as_of = msp_args_get(args, "as_of");
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid report", &errs);
    }

    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[1];
    s->sql = &sql_report_clock;
    s->params[0] = slug;
    s->params[1] = as_of;
    first->nstmts = 2;
    first->read_only = 1;
    first->then = clock_read;
    return MSP_NEXT;
}

msp_outcome_t
msp_report_volume_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[0], 0);
}

msp_outcome_t
msp_report_volume_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[0], 1);
}

msp_outcome_t
msp_report_backlog_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[1], 0);
}

msp_outcome_t
msp_report_backlog_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[1], 1);
}

msp_outcome_t
msp_report_quality_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[3], 0);
}

msp_outcome_t
msp_report_quality_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[3], 1);
}

msp_outcome_t
msp_report_sla_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[2], 0);
}

msp_outcome_t
msp_report_sla_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[2], 1);
}

msp_outcome_t
msp_report_comanagement_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[4], 0);
}

msp_outcome_t
msp_report_comanagement_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[4], 1);
}

msp_outcome_t
msp_report_trend_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[5], 0);
}

msp_outcome_t
msp_report_cost_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[6], 0);
}

msp_outcome_t
msp_report_failures_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[7], 0);
}

msp_outcome_t
msp_report_failures_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return report_begin(call, first, reply, &reports[7], 1);
}
