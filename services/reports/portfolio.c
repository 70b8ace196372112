/*
 * portfolio.c - GET /v1/reports/portfolio: for the provider's leads,
 * account managers and admins, one row per tenant they see with the
 * headline metrics (the trend's, METRICS.md) of a period of each tenant's
 * own time, sorted as asked.  Two round trips: the time zones of the
 * tenants seen, then every row, with each zone's period bounds computed
 * here as every report computes them.
 */
#include "reports/reports.h"

#include "http/args.h"
#include "http/csv.h"
#include "http/replies.h"
#include "reports/period.h"
#include "sla/tz.h"

#include <stdlib.h>
#include <string.h>

/* $1 as_of or NULL: as_of in microseconds and as RFC 3339, whether it is
 * in the future, and the time zones of the tenants the principal sees. */
static const msp_sql_t sql_portfolio_zones = {
    "portfolio_zones",
    "SELECT (extract(epoch FROM coalesce($1::timestamptz, now())) * 1000000)::bigint,"
    " app.rfc3339(coalesce($1::timestamptz, now())),"
    " coalesce($1::timestamptz, now()) > now(),"
    " (SELECT coalesce(json_agg(DISTINCT t.timezone), '[]') FROM tenants t)::text",
    1
};
enum { ZONES_AS_OF, ZONES_AS_OF_TEXT, ZONES_FUTURE, ZONES_LIST };

/* $1 {zone: period}, $2 as_of, $3 the sort key, $4 descending. */
static const msp_sql_t sql_portfolio = {
    "portfolio",
    "SELECT app.report_portfolio($1::json, to_timestamp($2::bigint / 1e6), $3,"
    " $4::boolean)::text",
    4
};

/* What the rows may be sorted by: the tenant, or a headline metric. */
static const char *const sort_keys[] = {
    "tenant", "name", "created", "resolved", "net_change", "open_at_end",
    "response_attainment", "resolution_attainment", "resolution_median_business_seconds",
    "resolution_p90_business_seconds", "first_contact_resolution_rate", "reopen_rate",
    "recurrence_rate", NULL
};

typedef struct {
    msp_period_t period;
    const char  *sort;       /* as asked: a key, "-" first for descending */
    const char  *as_of;      /* RFC 3339 */
    int          csv;
} portfolio_t;

static msp_outcome_t
rows_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
          msp_reply_t *reply)
{
    (void) next;
    portfolio_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    json_t *rows = json_loads(PQgetvalue(res[0], 0, 0), 0, NULL);
    if (rows == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    msp_outcome_t out = msp_reply_doc(call, reply, 200, json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o}", "report", "portfolio",
        "definitions", MSP_METRICS_VERSION, "period", st->period.name, "as_of", st->as_of,
        "sort", st->sort, "items", rows));
    return st->csv ? msp_csv_reply(call, reply, out) : out;
}

static msp_outcome_t
zones_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    portfolio_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    int64_t as_of = strtoll(PQgetvalue(res[0], 0, ZONES_AS_OF), NULL, 10);
    st->as_of = msp_strndup(call, PQgetvalue(res[0], 0, ZONES_AS_OF_TEXT),
                            (size_t) PQgetlength(res[0], 0, ZONES_AS_OF_TEXT));
    msp_errors_t errs = { 0 };
    if (strcmp(PQgetvalue(res[0], 0, ZONES_FUTURE), "t") == 0) {
        msp_errors_add(&errs, "as_of", "must not be in the future");
        return msp_reply_invalid(call, reply, 400, "Invalid report", &errs);
    }

    /* each zone's period, as the tenants' own reports bound it */
    json_t *zones = json_loads(PQgetvalue(res[0], 0, ZONES_LIST), 0, NULL);
    json_t *periods = json_object();
    size_t i;
    json_t *zone;
    int early_start = 0, unreadable = 0;
    json_array_foreach(zones, i, zone) {
        const msp_tz_t *tz = msp_tz_get(json_string_value(zone));
        json_t *run = tz ? msp_report_periods(&st->period, 1, tz, as_of) : NULL;
        json_t *one = json_array_get(run, 0);
        unreadable |= tz == NULL;
        early_start |= json_integer_value(json_object_get(one, "from")) > as_of;
        json_object_set(periods, json_string_value(zone), one);
        json_decref(run);
    }
    int complete = json_object_size(periods) == json_array_size(zones);
    json_decref(zones);
    if (unreadable || early_start) {
        json_decref(periods);
        if (unreadable) {
            return msp_reply_problem(call, reply, 500, "internal", "Internal error",
                                     "A tenant's time zone could not be read.", NULL);
        }
        msp_errors_add(&errs, "period", "starts after as_of for some tenants: there is "
                       "nothing to report yet");
        return msp_reply_invalid(call, reply, 400, "Invalid report", &errs);
    }
    const char *arg = complete ? msp_json_text(call, periods, JSON_COMPACT) : NULL;
    json_decref(periods);
    const char *micros = msp_printf(call, "%lld", (long long) as_of);
    if (arg == NULL || micros == NULL || st->as_of == NULL) {
        return msp_reply_out_of_memory(reply);
    }

    memset(next, 0, sizeof(*next));
    msp_stmt_t *s = &next->stmts[0];
    s->sql = &sql_portfolio;
    s->params[0] = arg;
    s->params[1] = micros;
    s->params[2] = st->sort[0] == '-' ? st->sort + 1 : st->sort;
    s->params[3] = st->sort[0] == '-' ? "true" : "false";
    next->nstmts = 1;
    next->read_only = 1;
    next->last = 1;
    next->then = rows_done;
    return MSP_NEXT;
}

msp_outcome_t
msp_report_portfolio_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "period", "as_of", "sort", "format", NULL };
    static const char *const roles[] = { "lead", "account_manager", "admin", NULL };

    const msp_principal_t *p = call->principal;
    if (!p->is_provider || !msp_in_list(p->role, roles)) {
        return msp_reply_forbidden(call, reply, "The portfolio spans tenants and is for the "
                                   "provider's leads, account managers and admins; read a "
                                   "tenant's reports instead.");
    }
    portfolio_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;

    msp_errors_t errs = { 0 };
    msp_args_t args;
    msp_args_parse(call, known, &args, &errs);
    msp_report_check_args(call, &args, &st->period, &st->csv, &errs);
    st->sort = msp_args_get(&args, "sort");
    st->sort = st->sort ? st->sort : "tenant";
    if (!msp_in_list(st->sort[0] == '-' ? st->sort + 1 : st->sort, sort_keys)) {
        msp_errors_add(&errs, "sort", "must be tenant, name or a headline metric (created, "
                       "resolution_attainment, reopen_rate...: see the README), with - "
                       "before it to sort descending");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid report", &errs);
    }

    msp_stmt_t *s = &first->stmts[0];
    s->sql = &sql_portfolio_zones;
    s->params[0] = msp_args_get(&args, "as_of");
    first->nstmts = 1;
    first->read_only = 1;
    first->then = zones_read;
    return MSP_NEXT;
}
