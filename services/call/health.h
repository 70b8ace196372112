/*
 * health.h - GET /v1/health: is the gateway up, can it reach PostgreSQL,
 * and how busy is its pool.  No authentication: load balancers call it.
 */
#ifndef MSP_HEALTH_H
#define MSP_HEALTH_H

#include "call/call.h"

msp_outcome_t msp_health_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

#endif
