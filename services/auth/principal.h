/*
 * principal.h - who is asking.
 *
 * A principal comes from a verified JWT's claims (sub, name, msp_org,
 * msp_role).  Which tenants it sees is not decided here: PostgreSQL's
 * row-level security decides that in every transaction, from the
 * principal the transaction sets and from the assignments table.
 */
#ifndef MSP_PRINCIPAL_H
#define MSP_PRINCIPAL_H

#include <stddef.h>

#define MSP_SUB_MAX   200
#define MSP_NAME_MAX  200
#define MSP_ORG_MAX   31            /* MSP_SLUG_MAX (common/slug.h) */

typedef struct {
    char sub[MSP_SUB_MAX + 1];
    char name[MSP_NAME_MAX + 1];
    char org[MSP_ORG_MAX + 1];    /* "provider" or a tenant slug */
    char role[32];
    int  is_provider;             /* org is "provider" */
} msp_principal_t;

/*
 * Fills p from the claims; name may be NULL (the subject stands in).
 * Returns 0, or -1 with *why naming the claim that is missing or invalid
 * (a provider role claimed by a tenant principal, say).
 */
int msp_principal_from_claims(msp_principal_t *p, const char *sub, const char *name,
                              const char *org, const char *role, const char **why);

/* Role tests used by the services' permission checks. */
int msp_principal_has_role(const msp_principal_t *p, const char *const *roles);

#endif
