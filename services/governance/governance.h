/*
 * governance.h - the governance records of a tenant: the records the
 * weekly, monthly and quarterly reviews are made of beyond the tickets.
 * So far the time logged on tickets (time_entries.c) and the requesters'
 * ratings of resolved tickets (satisfaction.c).
 */
#ifndef MSP_GOVERNANCE_H
#define MSP_GOVERNANCE_H

#include "call/call.h"

/* POST /v1/tenants/{slug}/tickets/{number}/time-entries */
msp_outcome_t msp_time_entry_create_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);

/* GET /v1/tenants/{slug}/tickets/{number}/time-entries */
msp_outcome_t msp_time_entry_list_start(msp_call_t *call, msp_step_t *first,
                                        msp_reply_t *reply);

/* GET /v1/tenants/{slug}/time-entries?from=...&to=... */
msp_outcome_t msp_tenant_time_entries_start(msp_call_t *call, msp_step_t *first,
                                            msp_reply_t *reply);

/* GET and PATCH /v1/tenants/{slug}/time-entries/{id} */
msp_outcome_t msp_time_entry_get_start(msp_call_t *call, msp_step_t *first,
                                       msp_reply_t *reply);
msp_outcome_t msp_time_entry_update_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);

/* POST, GET and PATCH /v1/tenants/{slug}/tickets/{number}/satisfaction */
msp_outcome_t msp_rating_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_rating_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_rating_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* GET /v1/tenants/{slug}/satisfaction?from=...&to=... */
msp_outcome_t msp_tenant_ratings_start(msp_call_t *call, msp_step_t *first,
                                       msp_reply_t *reply);

#endif
