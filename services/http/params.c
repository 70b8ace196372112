/*
 * params.c - path parameters: tenant slugs and ticket ids.
 */
#include "http/params.h"
#include "http/router.h"
#include "common/slug.h"

#include <string.h>

const msp_param_t *
msp_param(const msp_call_t *call, const char *name)
{
    /* The captures are in the order of the pattern's placeholders. */
    size_t n = 0, len = strlen(name);
    for (const char *p = call->route ? strchr(call->route->pattern, '{') : NULL; p != NULL;
         p = strchr(p + 1, '{'), n++) {
        if (strncmp(p + 1, name, len) == 0 && p[1 + len] == '}') {
            return n < call->nparams ? &call->params[n] : NULL;
        }
    }
    return NULL;
}

const char *
msp_param_slug(msp_call_t *call, const char *name)
{
    const msp_param_t *param = msp_param(call, name);
    if (param == NULL) {
        return NULL;
    }
    const char *s = param->data;
    size_t len = param->len;
    if (msp_slug_problem(s, len) != NULL) {
        return NULL;
    }
    return msp_strndup(call, s, len);
}

int
msp_param_ticket_id(msp_call_t *call, const char *name, const char **prefix, const char **number)
{
    const msp_param_t *param = msp_param(call, name);
    if (param == NULL) {
        return -1;
    }
    const char *s = param->data;
    size_t len = param->len;
    const char *dash = memchr(s, '-', len);
    if (dash == NULL) {
        return -1;
    }
    size_t plen = (size_t) (dash - s), nlen = len - plen - 1;

    /* Prefix: ^[A-Z][A-Z0-9]{1,9}$; number: 1 to 2147483647, no leading 0. */
    if (plen < 2 || plen > 10 || s[0] < 'A' || s[0] > 'Z') {
        return -1;
    }
    for (size_t k = 1; k < plen; k++) {
        if (!((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9'))) {
            return -1;
        }
    }
    if (nlen < 1 || nlen > 10 || dash[1] == '0') {
        return -1;
    }
    long long n = 0;
    for (size_t k = 1; k <= nlen; k++) {
        if (dash[k] < '0' || dash[k] > '9') {
            return -1;
        }
        n = n * 10 + (dash[k] - '0');
    }
    if (n > 2147483647LL) {
        return -1;
    }
    *prefix = msp_strndup(call, s, plen);
    *number = msp_strndup(call, dash + 1, nlen);
    return *prefix && *number ? 0 : -1;
}

const char *
msp_param_id(msp_call_t *call, const char *name)
{
    const msp_param_t *param = msp_param(call, name);
    if (param == NULL || param->len > 18) {
        return NULL;
    }
    for (size_t j = 0; j < param->len; j++) {
        if (param->data[j] < '0' || param->data[j] > '9') {
            return NULL;
        }
    }
    return msp_strndup(call, param->data, param->len);
}
