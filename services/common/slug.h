/*
 * slug.h - the tenant slug rule, the one place it is written in C.
 *
 * A slug names a tenant in its file (tenants/<slug>.json), in URLs
 * (/v1/tenants/{slug}) and in tokens (msp_org): 2 to 31 characters,
 * lower-case letters, digits and single hyphens, starting with a letter
 * and not ending with a hyphen.  Tenants are made from their files, which
 * are held to it; the tenants table's CHECK is a looser guard of the same
 * shape (^[a-z][a-z0-9-]{1,30}$).
 */
#ifndef MSP_SLUG_H
#define MSP_SLUG_H

#include <stddef.h>

#define MSP_SLUG_MIN 2
#define MSP_SLUG_MAX 31

/* NULL when s[0..len) is a slug; else what is wrong with it, as a phrase
 * that follows the field's name ("must be 2 to 31 characters"). */
const char *msp_slug_problem(const char *s, size_t len);

#endif
