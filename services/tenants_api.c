#include "tenants_api.h"

#include "args.h"
#include "page.h"
#include "params.h"
#include "tickets.h"

#include <string.h>

/* A tenant as the API shows it.  Contract terms are commercial: only the
 * provider's admins and account managers and the tenant's IT leaders see
 * them ($n true). */
#define TENANT_DOC(show_contract) \
    "json_build_object('slug', t.slug, 'name', t.name, 'ticket_prefix', t.ticket_prefix," \
    " 'timezone', t.timezone, 'co_management_model', t.co_management_model," \
    " 'calendar', t.calendar, 'holidays', t.holidays, 'sla_policy', t.sla_policy," \
    " 'escalation_policy', t.escalation_policy," \
    " 'contract', CASE WHEN " show_contract " THEN t.contract END)"

/* $1 role claimed, $2 subject: each visible tenant with the principal's
 * role there (a provider assignment's role and tier, or the claim's). */
static const msp_sql_t sql_me_tenants = {
    "me_tenants",
    "SELECT coalesce(json_agg(json_build_object('slug', t.slug, 'name', t.name,"
    "  'role', coalesce(a.role, $1::text), 'tier', a.tier) ORDER BY t.slug), '[]')::text"
    " FROM tenants t LEFT JOIN assignments a"
    "   ON a.tenant_id = t.tenant_id AND a.subject = $2::text",
    2
};

/* $1 after (slug) or NULL, $2 rows, $3 show contract. */
static const msp_sql_t sql_tenant_list = {
    "tenant_list",
    "SELECT " TENANT_DOC("$3::boolean") "::text, t.slug FROM tenants t"
    " WHERE ($1::text IS NULL OR t.slug > $1::text) ORDER BY t.slug LIMIT $2::integer",
    3
};

/* $1 slug, $2 show contract. */
static const msp_sql_t sql_tenant_get = {
    "tenant_get",
    "SELECT " TENANT_DOC("$2::boolean") "::text FROM tenants t WHERE t.slug = $1",
    2
};

static const char *
shows_contract(const msp_principal_t *p)
{
    static const char *const roles[] = { "admin", "account_manager", "it_leader", NULL };
    return msp_principal_has_role(p, roles) ? "true" : "false";
}

static msp_outcome_t
me_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    const PGresult *err = msp_first_error(res, nres);
    if (err != NULL) {
        return msp_reply_sql_error(call, reply, err);
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
    (void) reply;
    msp_stmt_t *s = &first->stmts[0];
    s->sql = &sql_me_tenants;
    s->params[0] = call->principal->role;
    s->params[1] = call->principal->sub;
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
    const PGresult *err = msp_first_error(res, nres);
    if (err != NULL) {
        return msp_reply_sql_error(call, reply, err);
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
    s->params[2] = shows_contract(call->principal);
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
    const PGresult *err = msp_first_error(res, nres);
    if (err != NULL) {
        return msp_reply_sql_error(call, reply, err);
    }
    if (PQntuples(res[0]) != 1) {
        return msp_reply_no_tenant(call, reply);
    }
    return msp_reply_json(call, reply, 200, PQgetvalue(res[0], 0, 0),
                          (size_t) PQgetlength(res[0], 0, 0));
}

msp_outcome_t
msp_tenant_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, 0);
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_stmt_t *s = &first->stmts[0];
    s->sql = &sql_tenant_get;
    s->params[0] = slug;
    s->params[1] = shows_contract(call->principal);
    first->nstmts = 1;
    first->read_only = 1;
    first->last = 1;
    first->then = tenant_get_done;
    return MSP_NEXT;
}
