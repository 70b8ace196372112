/*
 * api.h - the API's entry point for drivers.
 *
 * A driver matches the request in msp_api_routes (router.h), fills a
 * msp_call_t with the row and calls msp_api_start().  The row's service
 * validates the request and returns its first step or, for a request it
 * can answer without the database (bad input, say), the reply.
 */
#ifndef MSP_API_H
#define MSP_API_H

#include "call/call.h"
#include "http/router.h"

msp_outcome_t msp_api_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

#endif
