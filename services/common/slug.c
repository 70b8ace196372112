/*
 * slug.c - the tenant slug rule (slug.h).
 */
#include "common/slug.h"

static int
is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

const char *
msp_slug_problem(const char *s, size_t len)
{
    if (len < MSP_SLUG_MIN || len > MSP_SLUG_MAX) {
        return "must be 2 to 31 characters";
    }
    if (!is_lower(s[0])) {
        return "must start with a lower-case letter";
    }
    for (size_t i = 1; i < len; i++) {
        if (!is_lower(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '-') {
            return "may contain only lower-case letters, digits and '-'";
        }
        if (s[i] == '-' && s[i - 1] == '-') {
            return "must not contain '--'";
        }
    }
    if (s[len - 1] == '-') {
        return "must not end with '-'";
    }
    return NULL;
}
