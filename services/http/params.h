/*
 * params.h - path parameters: tenant slugs and ticket ids ("ACME-42").
 *
 * A malformed one names nothing that exists, so callers answer 404 just
 * as for a well-formed id the principal cannot see (no probing).
 */
#ifndef MSP_PARAMS_H
#define MSP_PARAMS_H

#include "call/call.h"

/* The i-th path parameter as a tenant slug in the arena, or NULL. */
const char *msp_param_slug(msp_call_t *call, size_t i);

/* The i-th path parameter as a ticket id: its prefix and number (as
 * decimal text), both in the arena.  -1 when malformed. */
int msp_param_ticket_id(msp_call_t *call, size_t i, const char **prefix, const char **number);

#endif
