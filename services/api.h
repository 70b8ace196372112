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

#include "call.h"

/* Nonzero when the route may be called without a verified principal. */
int msp_route_is_public(int route);

msp_outcome_t msp_api_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* The service's answer when a step's transaction could not be carried
 * out for a reason of the database's (timeout, connection lost, commit
 * failed): 503 or 504 problem+json. */
msp_outcome_t msp_api_database_failure(msp_call_t *call, msp_reply_t *reply, int timed_out);

#endif
