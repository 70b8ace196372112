/*
 * volume.c - GET /v1/tenants/{slug}/reports/volume: tickets created,
 * resolved, closed and reopened in a period of the tenant's own time,
 * with their splits (METRICS.md, "Volume"; app.report_volume); and
 * .../volume/tickets, the tickets behind any one of those figures.
 */
#include "reports/reports.h"

#include "auth/tenant_context.h"
#include "http/args.h"
#include "http/page.h"
#include "http/params.h"
#include "http/replies.h"
#include "reports/period.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* $1 slug, $2 as_of or NULL: the tenant's zone, as_of in Unix seconds,
 * and whether it is in the future. */
static const msp_sql_t sql_report_clock = {
    "report_clock",
    "SELECT t.timezone, floor(extract(epoch FROM coalesce($2::timestamptz, now())))::bigint,"
    " coalesce($2::timestamptz, now()) > now()"
    " FROM tenants t WHERE t.slug = $1",
    2
};
enum { CLOCK_TIMEZONE, CLOCK_AS_OF, CLOCK_FUTURE };

/* $1 tenant id, $2 and $3 the instants (Unix seconds) counted. */
static const msp_sql_t sql_report_volume = {
    "report_volume",
    "SELECT app.report_volume($1::uuid, to_timestamp($2::bigint), to_timestamp($3::bigint))"
    "::text",
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
    "  app.report_volume_rows(t.tenant_id, to_timestamp($2::bigint), to_timestamp($3::bigint)) r"
    " WHERE t.slug = $1 AND r.metric = $4"
    "   AND ($5::text IS NULL OR coalesce(r.priority, 'unknown') = $5)"
    "   AND ($6::text IS NULL OR coalesce(r.category, 'unknown') = $6)"
    "   AND ($7::text IS NULL OR coalesce(r.source, 'unknown') = $7)"
    "   AND ($8::text IS NULL OR coalesce(r.first_side, 'unknown') = $8)"
    "   AND ($9::text IS NULL OR (r.at, r.ticket_number) >"
    "        (timestamptz 'epoch' + split_part($9::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($9::text, '|', 2)::integer))"
    " ORDER BY r.at, r.ticket_number LIMIT $10::integer",
    10
};

/* The figures a drill-down names, and the splits it may filter by: those
 * of created tickets, and the priority of resolved ones. */
static const char *const metrics[] = { "created", "resolved", "closed", "reopened", NULL };
static const char *const splits[] = { "priority", "category", "source", "first_side", NULL };

typedef struct {
    msp_period_t period;
    const char  *slug;
    const char  *timezone;
    int64_t      start, end, as_of;
    msp_list_t  *list;       /* the drill-down's page and filters; NULL for the figures */
} volume_state_t;

int
msp_may_read_reports(const msp_principal_t *p)
{
    return strcmp(p->role, "requester") != 0 && strcmp(p->role, "integration") != 0;
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
volume_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    volume_state_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    const msp_tz_t *tz = msp_tz_get(st->timezone);
    json_t *volume = json_loads(PQgetvalue(res[0], 0, 0), 0, NULL);
    const char *start = local_time(call, tz, st->start), *end = local_time(call, tz, st->end);
    const char *as_of = local_time(call, tz, st->as_of);
    if (volume == NULL || start == NULL || end == NULL || as_of == NULL) {
        json_decref(volume);
        return msp_reply_out_of_memory(reply);
    }
    return msp_reply_doc(call, reply, 200, json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:b}, s:s, s:o}",
        "tenant", st->slug, "report", "volume", "definitions", MSP_METRICS_VERSION,
        "timezone", st->timezone,
        "period", "name", st->period.name, "start", start, "end", end,
        "complete", st->end <= st->as_of,
        "as_of", as_of, "volume", volume));
}

static msp_outcome_t
tickets_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    (void) next;
    volume_state_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    return msp_list_reply(call, reply, st->list, res[0]);
}

static msp_outcome_t
clock_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    volume_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_may_read_reports(&t.as)) {
        return msp_reply_forbidden(call, reply, "Reports are for IT staff of the provider "
                                   "and of the tenant, and auditors.");
    }
    const PGresult *clock = res[1];
    st->timezone = msp_strndup(call, PQgetvalue(clock, 0, CLOCK_TIMEZONE),
                               (size_t) PQgetlength(clock, 0, CLOCK_TIMEZONE));
    const msp_tz_t *tz = st->timezone ? msp_tz_get(st->timezone) : NULL;
    if (tz == NULL) {
        return msp_reply_problem(call, reply, 500, "internal", "Internal error",
                                 "The tenant's time zone could not be read.", NULL);
    }
    st->as_of = strtoll(PQgetvalue(clock, 0, CLOCK_AS_OF), NULL, 10);
    msp_period_bounds(&st->period, tz, &st->start, &st->end);

    msp_errors_t errs = { 0 };
    if (strcmp(PQgetvalue(clock, 0, CLOCK_FUTURE), "t") == 0) {
        msp_errors_add(&errs, "as_of", "must not be in the future");
    } else if (st->start > st->as_of) {
        msp_errors_add(&errs, "period", "starts after as_of: there is nothing to report yet");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid report", &errs);
    }

    memset(next, 0, sizeof(*next));
    msp_stmt_t *s = &next->stmts[0];
    const char *from = msp_printf(call, "%lld", (long long) st->start);
    const char *to = msp_printf(call, "%lld", (long long) (st->end < st->as_of ? st->end
                                                                             : st->as_of));
    if (from == NULL || to == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    if (st->list == NULL) {
        s->sql = &sql_report_volume;
        s->params[0] = t.id;
        s->params[1] = from;
        s->params[2] = to;
        next->then = volume_done;
    } else {
        const msp_args_t *args = &st->list->args;
        s->sql = &sql_report_volume_tickets;
        s->params[0] = st->slug;
        s->params[1] = from;
        s->params[2] = to;
        s->params[3] = msp_args_get(args, "metric");
        for (int i = 0; splits[i] != NULL; i++) {
            s->params[4 + i] = msp_args_get(args, splits[i]);
        }
        s->params[8] = st->list->page.after;
        s->params[9] = st->list->page.fetch;
        next->then = tickets_done;
    }
    next->nstmts = 1;
    next->last = 1;
    return MSP_NEXT;
}

/* "<microseconds>|<number>", as sql_report_volume_tickets hands out. */
static int
is_cursor(const char *after)
{
    char *end;
    long long us = strtoll(after, &end, 10);
    if (*end != '|' || us < 0 || end == after) {
        return 0;
    }
    const char *n = end + 1;
    long number = strtol(n, &end, 10);
    return *end == '\0' && end != n && number >= 1 && number <= 2147483647L;
}

/* Both routes: the period, as_of, and for the tickets the metric, the
 * split filters and the page. */
static msp_outcome_t
volume_begin(msp_call_t *call, msp_step_t *first, msp_reply_t *reply, int tickets)
{
    static const char *const known[] = { "period", "as_of", NULL };
    static const char *const known_tickets[] = {
        "period", "as_of", "metric", "priority", "category", "source", "first_side",
        "limit", "after", NULL
    };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    volume_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    st->slug = slug;
    call->state = st;

    msp_errors_t errs = { 0 };
    msp_args_t figures_args;
    const msp_args_t *args = &figures_args;
    if (tickets) {
        st->list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/reports/volume/tickets",
                                                   slug), known_tickets, &errs);
        if (st->list == NULL) {
            return msp_reply_out_of_memory(reply);
        }
        args = &st->list->args;
        const char *metric = msp_args_get(args, "metric");
        if (metric == NULL) {
            msp_errors_add(&errs, "metric", "is required: one of created, resolved, closed, "
                           "reopened");
        } else if (!msp_in_list(metric, metrics)) {
            msp_errors_add(&errs, "metric", "must be one of: created, resolved, closed, "
                           "reopened");
        }
        if (st->list->page.after != NULL && !is_cursor(st->list->page.after)) {
            msp_errors_add(&errs, "after", "is not a cursor this API handed out");
        }
    } else {
        msp_args_parse(call, known, &figures_args, &errs);
    }
    const char *period = msp_args_get(args, "period"), *as_of = msp_args_get(args, "as_of");
    const char *why;
    if (period == NULL) {
        msp_errors_add(&errs, "period", "is required: a day (2026-03-08), an ISO week "
                       "(2026-W10), a month (2026-03), a quarter (2026-Q1) or a range of days "
                       "(2026-03-01..2026-04-01)");
    } else if (msp_period_parse(period, &st->period, &why) != 0) {
        msp_errors_add(&errs, "period", "%s", why);
    }
    if (as_of != NULL && !msp_arg_is_rfc3339(as_of)) {
        msp_errors_add(&errs, "as_of", "must be an RFC 3339 timestamp such as "
                       "2026-04-01T00:00:00Z");
    }
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
    return volume_begin(call, first, reply, 0);
}

msp_outcome_t
msp_report_volume_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return volume_begin(call, first, reply, 1);
}
