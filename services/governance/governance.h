/*
 * governance.h - the governance records of a tenant: the records the
 * weekly, monthly and quarterly reviews are made of beyond the tickets.
 * The time logged on tickets (time_entries.c), the requesters' ratings of
 * resolved tickets (satisfaction.c), the records the reviews keep
 * (records.c: projects, risks, actions, decisions, objectives) and the
 * history of all but time (governance_events.c).
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

/* A kind of governance record (records.c): the data of its routes. */
typedef struct msp_record_kind msp_record_kind_t;
extern const msp_record_kind_t msp_projects, msp_risks, msp_actions, msp_decisions,
    msp_objectives;

/* POST and GET /v1/tenants/{slug}/<kind>s, GET and PATCH .../<kind>s/{id},
 * for the kind their route names. */
msp_outcome_t msp_record_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_record_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_record_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_record_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* GET /v1/tenants/{slug}/governance-events */
msp_outcome_t msp_governance_events_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);

#endif
