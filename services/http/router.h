/*
 * router.h - matches a request's method and path against the API's routes.
 *
 * A route table is a list of rows: a path pattern, the methods the row
 * handles, and the service that answers them.  Patterns are literal
 * text with "{name}" placeholders that each capture one path segment:
 *
 *     "/v1/tenants/{slug}/tickets/{number}"
 *
 * A match gives one of the three answers HTTP needs:
 *
 *   MSP_MATCH_OK           a row handles this method on this path; the row
 *                          and the captured parameters are in the result;
 *   MSP_MATCH_NOT_FOUND    no pattern matches the path (404);
 *   MSP_MATCH_NOT_ALLOWED  the path exists, but not for this method (405);
 *                          the result holds the value of the Allow header.
 *
 * Matching is strict so that every resource has exactly one URL: literal
 * text compares byte for byte, "/v1/health/" is not "/v1/health", and a
 * placeholder never matches an empty segment.  HEAD is accepted wherever
 * GET is.  The first row (in table order) whose pattern and method match
 * wins; the Allow value is the union over every row whose pattern matches.
 * The same pattern may appear in several rows, one per handler (GET lists
 * tickets, POST creates one), or once with several methods.
 *
 * The path is the decoded, normalized URI without the query string.  The
 * matcher never allocates: captures point into the caller's path.
 */
#ifndef MSP_ROUTER_H
#define MSP_ROUTER_H

#include "call/call.h"

#include <stddef.h>

/* Methods, as bits so that a row and an Allow value can hold several. */
enum {
    MSP_METHOD_GET     = 1u << 0,
    MSP_METHOD_HEAD    = 1u << 1,
    MSP_METHOD_POST    = 1u << 2,
    MSP_METHOD_PUT     = 1u << 3,
    MSP_METHOD_PATCH   = 1u << 4,
    MSP_METHOD_DELETE  = 1u << 5,
    MSP_METHOD_OPTIONS = 1u << 6
};

/* What a route's service does first: validate the request and give its
 * first step, or the reply (services/call/call.h). */
typedef msp_outcome_t (*msp_start_fn)(msp_call_t *call, msp_step_t *first,
                                      msp_reply_t *reply);

/* One row of a route table: everything about a route is here. */
typedef struct msp_route {
    const char  *pattern;        /* "/v1/tenants/{slug}" */
    unsigned     methods;        /* MSP_METHOD_* bits; GET implies HEAD */
    msp_start_fn start;          /* the service that answers it */
    int          is_public;      /* may be called without a verified principal */
    const void  *data;           /* what the service needs to know of the route, or NULL */
} msp_route_t;

typedef struct {
    const msp_route_t *routes;
    size_t             n;
} msp_route_table_t;

/* The table the gateway serves (services/http/api.c). */
extern const msp_route_table_t msp_api_routes;

/* Fits every name: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS". */
#define MSP_ALLOW_MAX 64

typedef enum {
    MSP_MATCH_OK,
    MSP_MATCH_NOT_FOUND,
    MSP_MATCH_NOT_ALLOWED
} msp_match_status_t;

typedef struct {
    const msp_route_t *route;    /* the row when OK, else NULL */
    size_t      nparams;
    msp_param_t params[MSP_ROUTE_MAX_PARAMS];  /* in pattern order */

    /* Whenever the path exists (OK or NOT_ALLOWED): what it accepts. */
    unsigned    allowed;         /* MSP_METHOD_* bits, HEAD included */
    char        allow[MSP_ALLOW_MAX];  /* "GET, HEAD"; "" when not found */
} msp_match_t;

/*
 * The method bit for an HTTP method name ("GET"; names are case-sensitive),
 * or 0 for a method no route can accept.
 */
unsigned msp_method_from_name(const char *name, size_t len);

/* Matches `method` (one MSP_METHOD_* bit, or 0) and path[0..len) in table. */
msp_match_status_t msp_route_match(const msp_route_table_t *table,
                                   unsigned method, const char *path,
                                   size_t len, msp_match_t *match);

#endif
