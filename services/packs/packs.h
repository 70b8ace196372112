/*
 * packs.h - the review packs' routes (packs.c): ask for a tenant's
 * weekly, monthly or quarterly pack, list them, download one in a format,
 * verify its files against its signed manifest.  Rendering is the pack
 * worker's (mspctl pack worker), never nginx's.
 */
#ifndef MSP_PACKS_H
#define MSP_PACKS_H

#include "call/call.h"

/* POST /v1/tenants/{slug}/packs */
msp_outcome_t msp_pack_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
/* GET /v1/tenants/{slug}/packs */
msp_outcome_t msp_pack_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
/* GET /v1/tenants/{slug}/packs/{id} */
msp_outcome_t msp_pack_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
/* GET /v1/tenants/{slug}/packs/{id}/verify */
msp_outcome_t msp_pack_verify_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

#endif
