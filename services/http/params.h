/*
 * params.h - path parameters: tenant slugs and ticket ids ("ACME-42").
 *
 * A malformed one names nothing that exists, so callers answer 404 just
 * as for a well-formed id the principal cannot see (no probing).
 */
#ifndef MSP_PARAMS_H
#define MSP_PARAMS_H

#include "call/call.h"

/* The path parameter the route's pattern names "{name}", or NULL. */
const msp_param_t *msp_param(const msp_call_t *call, const char *name);

/* The parameter as a tenant slug in the arena, or NULL. */
const char *msp_param_slug(msp_call_t *call, const char *name);

/* The parameter as a ticket id ("ACME-42"): its prefix and number (as
 * decimal text), both in the arena.  -1 when malformed. */
int msp_param_ticket_id(msp_call_t *call, const char *name, const char **prefix,
                        const char **number);

/* The parameter as a decimal id (an escalation's), in the arena, or NULL. */
const char *msp_param_id(msp_call_t *call, const char *name);

#endif
