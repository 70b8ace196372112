/*
 * packs.h - the review packs' routes (packs.c): ask for a tenant's
 * weekly, monthly or quarterly pack, list them, download one in a format,
 * verify its files against its signed manifest; and the provider's
 * portfolio packs.  Rendering is the pack
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

/* The portfolio packs: an account manager's (lead's, admin's) pack of all
 * the tenants they see.  POST and GET /v1/portfolio-packs; GET
 * /v1/portfolio-packs/{id} and .../verify are msp_pack_get_start and
 * msp_pack_verify_start on routes whose data is &msp_portfolio_packs. */
msp_outcome_t msp_portfolio_pack_create_start(msp_call_t *call, msp_step_t *first,
                                              msp_reply_t *reply);
msp_outcome_t msp_portfolio_pack_list_start(msp_call_t *call, msp_step_t *first,
                                            msp_reply_t *reply);
typedef struct msp_pack_scope msp_pack_scope_t;
extern const msp_pack_scope_t msp_portfolio_packs;

#endif
