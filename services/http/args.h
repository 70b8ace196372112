/*
 * args.h - a request's query string, decoded.
 *
 * The API knows each route's query parameters: an unknown or repeated
 * parameter is an error the client hears about (a typo in "staus=new"
 * must not silently list every ticket).
 */
#ifndef MSP_ARGS_H
#define MSP_ARGS_H

#include <stddef.h>

#include "call/call.h"
#include "common/errors.h"

#define MSP_ARGS_MAX 16

typedef struct {
    const char *name;
    const char *value;      /* percent-decoded, NUL-terminated, in the call's arena */
} msp_arg_t;

typedef struct {
    msp_arg_t items[MSP_ARGS_MAX];
    size_t    n;
} msp_args_t;

/* Decodes call->args, accepting only the names listed (NULL-terminated).
 * Errors (unknown, repeated, badly encoded) go to errs, named by the
 * parameter.  Returns 0 when there were none. */
int msp_args_parse(msp_call_t *call, const char *const *known, msp_args_t *args,
                   msp_errors_t *errs);

/* The value of a parameter, or NULL. */
const char *msp_args_get(const msp_args_t *args, const char *name);

/* Nonzero for an RFC 3339 timestamp: 2026-11-23T09:00:00Z, with an
 * optional fraction (up to microseconds) and a Z or ±HH:MM offset. */
int msp_arg_is_rfc3339(const char *s);

/* The required "from" and "to" of a list of days (YYYY-MM-DD, "to"
 * excluded, 1 to max_days after "from") into *from and *to; what is
 * wrong goes to errs. */
void msp_date_range_arg(const msp_args_t *args, int max_days, const char **from,
                        const char **to, msp_errors_t *errs);

#endif
