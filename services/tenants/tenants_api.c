/*
 * tenants_api.c - GET /v1/me, GET /v1/tenants and GET /v1/tenants/{slug}.
 */
#include "tenants/tenants_api.h"

#include "http/args.h"
#include "http/page.h"
#include "http/params.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <string.h>

/* A tenant as the API shows it.  Contract terms are commercial: only the
 * provider's admins and account managers and the tenant's IT leaders see
 * them, by the principal's role in that tenant. */
#define TENANT_DOC \
    "json_build_object('slug', t.slug, 'name', t.name, 'ticket_prefix', t.ticket_prefix," \
    " 'timezone', t.timezone, 'co_management_model', t.co_management_model," \
    " 'calendar', t.calendar, 'holidays', t.holidays, 'sla_policy', t.sla_policy," \
    " 'escalation_policy', t.escalation_policy," \
    " 'contract', CASE WHEN app.role_in(t.tenant_id) IN ('admin', 'account_manager'," \
    "   'it_leader') THEN t.contract END)"

/* Each visible tenant with the principal's role there (a provider
 * assignment's role and tier, or its own). */
static const msp_sql_t sql_me_tenants = {
    "me_tenants",
    "SELECT coalesce(json_agg(json_build_object('slug', t.slug, 'name', t.name,"
    "  'role', app.role_in(t.tenant_id), 'tier', app.tier_in(t.tenant_id))"
    "  ORDER BY t.slug), '[]')::text"
    " FROM tenants t",
    0
};

/* $1 after (slug) or NULL, $2 rows. */
static const msp_sql_t sql_tenant_list = {
    "tenant_list",
    "SELECT " TENANT_DOC "::text, t.slug FROM tenants t"
    " WHERE ($1::text IS NULL OR t.slug > $1::text) ORDER BY t.slug LIMIT $2::integer",
    2
};

/* $1 slug. */
static const msp_sql_t sql_tenant_get = {
    "tenant_get",
    "SELECT " TENANT_DOC "::text FROM tenants t WHERE t.slug = $1",
    1
};

static msp_outcome_t
me_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    const msp_principal_t *p = call->principal;
    json_error_t jerr;
    json_t *tenants = json_loads(PQgetvalue(res[0], 0, 0), 0, &jerr);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o?}", "sub", p->sub, "name", p->name,
                            "org", p->org, "role", p->role, "tenants", tenants);
    return msp_reply_doc(call, reply, 200, doc);
}

msp_outcome_t
msp_me_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    (void) call;
    (void) reply;
    first->stmts[0].sql = &sql_me_tenants;
    first->nstmts = 1;
    first->read_only = 1;
    first->last = 1;
    first->then = me_done;
    return MSP_NEXT;
}

static msp_outcome_t
tenant_list_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                 msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    return msp_list_reply(call, reply, call->state, res[0]);
}

msp_outcome_t
msp_tenant_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "limit", "after", NULL };
    msp_errors_t errs = { 0 };
    msp_list_t *st = msp_list_begin(call, "/v1/tenants", known, &errs);
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    call->state = st;
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    msp_stmt_t *s = &first->stmts[0];
    s->sql = &sql_tenant_list;
    s->params[0] = st->page.after;
    s->params[1] = st->page.fetch;
    first->nstmts = 1;
    first->read_only = 1;
    first->last = 1;
    first->then = tenant_list_done;
    return MSP_NEXT;
}

static msp_outcome_t
tenant_get_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                msp_reply_t *reply)
{
    (void) next;
    return msp_reply_document(call, reply, res, nres, 0, msp_reply_no_tenant);
}

msp_outcome_t
msp_tenant_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_stmt_t *s = &first->stmts[0];
    s->sql = &sql_tenant_get;
    s->params[0] = slug;
    first->nstmts = 1;
    first->read_only = 1;
    first->last = 1;
    first->then = tenant_get_done;
    return MSP_NEXT;
}
