/*
 * volume.c - GET /v1/tenants/{slug}/reports/volume: tickets created,
 * resolved, closed and reopened in a period of the tenant's own time,
 * with their splits (METRICS.md, "Volume"; app.report_volume).
 */
#include "reports/reports.h"

#include "auth/tenant_context.h"
#include "http/args.h"
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

typedef struct {
    msp_period_t period;
    const char  *slug;
    const char  *timezone;
    int64_t      start, end, as_of;
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
    s->sql = &sql_report_volume;
    s->params[0] = t.id;
    s->params[1] = msp_printf(call, "%lld", (long long) st->start);
    s->params[2] = msp_printf(call, "%lld", (long long) (st->end < st->as_of ? st->end
                                                                             : st->as_of));
    if (s->params[1] == NULL || s->params[2] == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    next->nstmts = 1;
    next->last = 1;
    next->then = volume_done;
    return MSP_NEXT;
}

msp_outcome_t
msp_report_volume_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "period", "as_of", NULL };
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
    msp_args_t args;
    msp_args_parse(call, known, &args, &errs);
    const char *period = msp_args_get(&args, "period"), *as_of = msp_args_get(&args, "as_of");
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
