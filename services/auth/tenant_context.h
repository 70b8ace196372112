/*
 * tenant_context.h - the tenant a request names, and who the principal is
 * there.
 *
 * Every tenant-scoped route starts its first step with msp_sql_tenant:
 * the tenant named by the slug, if the principal may see it, with the
 * principal's role there (app.role_in: a provider assignment's role, a
 * tenant person's own, admin for the provider's admins).  It runs in the
 * same round trip as the route's own statements.  Its answer comes first
 * in every decision: a tenant the principal cannot see is 404 whatever
 * else the request says (no probing), and only then may the role there
 * make it 403.  Statements that would write run in a later step, after
 * that check; row-level security refuses them anyway.  In a transaction
 * that writes, it also passes the tenant's gate (app.enter_tenant), which
 * an offboarding closes.
 */
#ifndef MSP_TENANT_CONTEXT_H
#define MSP_TENANT_CONTEXT_H

#include "call/call.h"

typedef struct {
    const char      *id;        /* uuid, in the arena */
    const char      *prefix;    /* its ticket prefix, ACME */
    const char      *tier;      /* a provider assignment's tier, or NULL */
    msp_principal_t  as;        /* the principal with its role in this tenant */
} msp_tenant_t;

/* $1 slug: one row (tenant id, ticket prefix, role, tier) when visible. */
extern const msp_sql_t msp_sql_tenant;

/* Makes msp_sql_tenant for slug the step's first statement (the others
 * move up one). */
void msp_step_tenant(msp_step_t *step, const char *slug);

/*
 * Reads msp_sql_tenant's result into *t (copies in the arena).  Returns 1
 * when the tenant is visible, 0 when it is not (or the statement did not
 * run: answer 404), -1 when out of memory.
 */
int msp_tenant_read(msp_call_t *call, const PGresult *res, msp_tenant_t *t);

#endif
