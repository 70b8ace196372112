/*
 * tenants_api.h - who am I, and which tenants can I see:
 * GET /v1/me, GET /v1/tenants, GET /v1/tenants/{slug}.
 */
#ifndef MSP_TENANTS_API_H
#define MSP_TENANTS_API_H

#include "call/call.h"

msp_outcome_t msp_me_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_tenant_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_tenant_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

#endif
