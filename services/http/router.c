/*
 * router.c - matching a request's method and path against the route table.
 */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* In the order an Allow value lists them. */
static const struct {
    unsigned    bit;
    const char *name;
} method_names[] = {
    { MSP_METHOD_GET,     "GET" },
    { MSP_METHOD_HEAD,    "HEAD" },
    { MSP_METHOD_POST,    "POST" },
    { MSP_METHOD_PUT,     "PUT" },
    { MSP_METHOD_PATCH,   "PATCH" },
    { MSP_METHOD_DELETE,  "DELETE" },
    { MSP_METHOD_OPTIONS, "OPTIONS" },
};

#define NMETHODS (sizeof(method_names) / sizeof(method_names[0]))

unsigned
msp_method_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < NMETHODS; i++) {
        if (strlen(method_names[i].name) == len
            && memcmp(method_names[i].name, name, len) == 0)
        {
            return method_names[i].bit;
        }
    }
    return 0;
}

/* What a row accepts: HEAD comes free with GET. */
static unsigned
accepted_methods(const msp_route_t *route)
{
    unsigned methods = route->methods;

    if (methods & MSP_METHOD_GET) {
        methods |= MSP_METHOD_HEAD;
    }
    return methods;
}

/* Writes "GET, HEAD, ..." for the bits in `methods`. */
static void
format_allow(unsigned methods, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NMETHODS; i++) {
        if (methods & method_names[i].bit) {
            int n = snprintf(buf + used, size - used, "%s%s",
                             used ? ", " : "", method_names[i].name);
            if (n < 0 || (size_t) n >= size - used) {
                return;   /* cannot happen: MSP_ALLOW_MAX fits all names */
            }
            used += (size_t) n;
        }
    }
}

/*
 * A captured segment must be non-empty and free of control bytes.  The
 * path is percent-decoded, so "%00" or "%0A" can reach us; no slug or
 * number contains them, and letting them through would hand services a
 * value that C strings, SQL text or logs would each read differently.
 */
static int
param_acceptable(const char *s, size_t len)
{
    if (len == 0) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/*
 * Matches one pattern against the whole path, capturing placeholders into
 * params.  Returns the number of captures plus one on a match (so that a
 * pattern without placeholders still reports success), or 0.
 */
static size_t
match_pattern(const char *pattern, const char *path, size_t len,
              msp_param_t *params)
{
    const char *p = pattern;
    size_t      at = 0;
    size_t      n = 0;

    while (*p != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close == NULL || n == MSP_ROUTE_MAX_PARAMS) {
                return 0;         /* a malformed pattern matches nothing */
            }

            size_t start = at;
            while (at < len && path[at] != '/') {
                at++;
            }
            if (!param_acceptable(path + start, at - start)) {
                return 0;
            }
            params[n].data = path + start;
            params[n].len = at - start;
            n++;

            p = close + 1;
            continue;
        }

        if (at == len || path[at] != *p) {
            return 0;
        }
        at++;
        p++;
    }

    return at == len ? n + 1 : 0;
}

msp_match_status_t
msp_route_match(const msp_route_table_t *table, unsigned method,
                const char *path, size_t len, msp_match_t *match)
{
    memset(match, 0, sizeof(*match));

    int found = 0;

    for (size_t i = 0; i < table->n; i++) {
        const msp_route_t *route = &table->routes[i];
        msp_param_t        params[MSP_ROUTE_MAX_PARAMS];
        size_t             matched = match_pattern(route->pattern, path, len,
                                                   params);
        if (matched == 0) {
            continue;
        }

        unsigned accepted = accepted_methods(route);
        match->allowed |= accepted;

        if (!found && method != 0 && (accepted & method)) {
            found = 1;
            match->route = route;
            match->nparams = matched - 1;
            memcpy(match->params, params,
                   match->nparams * sizeof(params[0]));
        }
    }

    format_allow(match->allowed, match->allow, sizeof(match->allow));

    if (found) {
        return MSP_MATCH_OK;
    }
    return match->allowed ? MSP_MATCH_NOT_ALLOWED : MSP_MATCH_NOT_FOUND;
}
