/*
 * tenant_context.c - the tenant a request names, and the principal's role
 * there.
 */
#include "auth/tenant_context.h"

#include <stdio.h>
#include <string.h>

const msp_sql_t msp_sql_tenant = {
    "tenant",
    "SELECT t.tenant_id, t.ticket_prefix, app.role_in(t.tenant_id), app.tier_in(t.tenant_id)"
    " FROM tenants t WHERE t.slug = $1 AND app.enter_tenant(t.tenant_id)",
    1
};

void
msp_step_tenant(msp_step_t *step, const char *slug)
{
    memmove(&step->stmts[1], &step->stmts[0], (size_t) step->nstmts * sizeof(step->stmts[0]));
    memset(&step->stmts[0], 0, sizeof(step->stmts[0]));
    step->stmts[0].sql = &msp_sql_tenant;
    step->stmts[0].params[0] = slug;
    step->nstmts++;
}

int
msp_tenant_read(msp_call_t *call, const PGresult *res, msp_tenant_t *t)
{
    memset(t, 0, sizeof(*t));
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 2)) {
        return 0;
    }
    const char *role = PQgetvalue(res, 0, 2);
    if (call->principal == NULL || strlen(role) >= sizeof(t->as.role)) {
        return 0;
    }
    t->id = msp_strndup(call, PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0));
    t->prefix = msp_strndup(call, PQgetvalue(res, 0, 1), (size_t) PQgetlength(res, 0, 1));
    t->tier = PQgetisnull(res, 0, 3) ? NULL
            : msp_strndup(call, PQgetvalue(res, 0, 3), (size_t) PQgetlength(res, 0, 3));
    t->as = *call->principal;
    snprintf(t->as.role, sizeof(t->as.role), "%s", role);
    return t->id && t->prefix && (t->tier || PQgetisnull(res, 0, 3)) ? 1 : -1;
}
