/*
 * principal.c - a principal from a verified token's claims, checked.
 */
#include "auth/principal.h"
#include "common/errors.h"
#include "common/slug.h"

#include <stdio.h>
#include <string.h>

static const char *const provider_roles[] = {
    "technician", "lead", "account_manager", "admin", "auditor", "integration", NULL
};
static const char *const tenant_roles[] = {
    "it_staff", "it_leader", "requester", "auditor", "integration", NULL
};

/* Subjects and names are shown and logged: printable, bounded. */
static int
is_clean_text(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len > max) {
        return 0;
    }
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* An organisation: the provider, or a tenant by its slug. */
static int
is_org(const char *s)
{
    return strcmp(s, "provider") == 0 || msp_slug_problem(s, strlen(s)) == NULL;
}

int
msp_principal_from_claims(msp_principal_t *p, const char *sub, const char *name,
                          const char *org, const char *role, const char **why)
{
    memset(p, 0, sizeof(*p));

    if (sub == NULL || !is_clean_text(sub, MSP_SUB_MAX)) {
        *why = "claim \"sub\" is missing or invalid";
        return -1;
    }
    if (name != NULL && !is_clean_text(name, MSP_NAME_MAX)) {
        *why = "claim \"name\" is invalid";
        return -1;
    }
    if (org == NULL || !is_org(org)) {
        *why = "claim \"msp_org\" is missing or invalid";
        return -1;
    }
    p->is_provider = strcmp(org, "provider") == 0;
    if (role == NULL || !msp_in_list(role, p->is_provider ? provider_roles : tenant_roles)) {
        *why = "claim \"msp_role\" is missing or not a role of its organisation";
        return -1;
    }

    snprintf(p->sub, sizeof(p->sub), "%s", sub);
    snprintf(p->name, sizeof(p->name), "%s", name ? name : sub);
    snprintf(p->org, sizeof(p->org), "%s", org);
    snprintf(p->role, sizeof(p->role), "%s", role);
    return 0;
}

int
msp_principal_has_role(const msp_principal_t *p, const char *const *roles)
{
    return msp_in_list(p->role, roles);
}
