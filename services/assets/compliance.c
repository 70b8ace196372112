/*
 * compliance.c - GET /v1/tenants/{slug}/reports/compliance: how many of
 * the tenant's devices fail each compliance check (METRICS.md, "Asset
 * compliance"), each count with the link to its devices; and GET
 * .../reports/compliance/assets?check=...: those devices, in keyset pages.
 *
 * The checks are judged at `as_of` (default now) against the assets as
 * they stood then (app.assets_at): the report's links carry its as_of, so
 * a count and its list agree, whenever asked.  For those who read reports.
 */
#include "assets/assets.h"
#include "auth/tenant_context.h"
#include "escalations/escalations.h"
#include "http/args.h"
#include "http/page.h"
#include "http/params.h"
#include "http/replies.h"
#include "reports/reports.h"

#include <string.h>

/* As app.compliance_checks() lists them. */
static const char *const checks[] = {
    "unencrypted", "not_enrolled", "not_patched", "warranty_ending", "not_seen",
    "retired_assigned", "out_of_warranty", "past_refresh_age", "refresh_due", NULL
};

static const msp_sql_t sql_report_compliance = {
    "report_compliance",
    "SELECT app.report_compliance($1, coalesce($2::timestamptz, now()))::text",
    2
};

static const msp_sql_t sql_compliance_assets = {
    "compliance_assets",
    "SELECT doc, id FROM app.compliance_assets($1, $2, coalesce($3::timestamptz, now()),"
    " $4::bigint, $5::integer)",
    5
};

static msp_outcome_t
not_reader(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_forbidden(call, reply, "Reports are for the IT staff of both sides and "
                               "auditors.");
}

/* The report, each check given the path of its devices. */
static msp_outcome_t
report_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_may_read_reports(&t.as)) {
        return not_reader(call, reply);
    }
    json_t *doc = json_loadb(PQgetvalue(res[1], 0, 0), (size_t) PQgetlength(res[1], 0, 0), 0,
                             NULL);
    const char *as_of = json_string_value(json_object_get(doc, "as_of"));
    size_t i;
    json_t *check;
    json_array_foreach(json_object_get(doc, "checks"), i, check) {
        const char *path = msp_printf(call, "/v1/tenants/%s/reports/compliance/assets"
                                      "?check=%s&as_of=%s", msp_param_slug(call, "slug"),
                                      json_string_value(json_object_get(check, "check")), as_of);
        json_object_set_new(check, "assets", path ? json_string(path) : json_null());
    }
    return msp_reply_doc(call, reply, 200, doc);
}

/* as_of, when given, must be a time. */
static int
read_as_of(const msp_args_t *args, msp_errors_t *errs, const char **as_of)
{
    *as_of = msp_args_get(args, "as_of");
    if (*as_of != NULL && !msp_arg_is_rfc3339(*as_of)) {
        msp_errors_add(errs, "as_of", "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z");
        return -1;
    }
    return 0;
}

msp_outcome_t
msp_report_compliance_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "as_of", NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_args_t args;
    const char *as_of;
    msp_args_parse(call, known, &args, &errs);
    read_as_of(&args, &errs, &as_of);
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_report_compliance;
    s->params[0] = slug;
    s->params[1] = as_of;
    first->read_only = 1;
    first->then = report_read;
    return MSP_NEXT;
}

static msp_outcome_t
assets_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_may_read_reports(&t.as)) {
        return not_reader(call, reply);
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

msp_outcome_t
msp_report_compliance_assets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "check", "as_of", "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/reports/"
                                                       "compliance/assets", slug), known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *check = msp_args_get(&list->args, "check"), *as_of;
    if (check == NULL || !msp_in_list(check, checks)) {
        char names[240];
        msp_join(checks, names, sizeof(names));
        msp_errors_add(&errs, "check", "is required: one of %s", names);
    }
    read_as_of(&list->args, &errs, &as_of);
    if (list->page.after != NULL && !msp_cursor_is_id(list->page.after)) {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_compliance_assets;
    s->params[0] = slug;
    s->params[1] = check;
    s->params[2] = as_of;
    s->params[3] = list->page.after;
    s->params[4] = list->page.fetch;
    first->read_only = 1;
    first->then = assets_read;
    return MSP_NEXT;
}
