/*
 * api.h - the API's entry point for drivers.
 *
 * A driver matches the route (router.h), fills a msp_call_t and calls
 * msp_api_start().  The service validates the request and returns its
 * first step or, for a request it can answer without the database (bad
 * input, say), the reply.
 */
#ifndef MSP_API_H
#define MSP_API_H

#include "call/call.h"

/* Nonzero when the route may be called without a verified principal. */
int msp_route_is_public(int route);

msp_outcome_t msp_api_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

#endif
