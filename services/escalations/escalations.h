/*
 * escalations.h - escalations, warm handoffs and what waits for whom.
 *
 *   escalations.c       POST .../tickets/{id}/escalations, .../{eid}/accept
 *                       and /reject
 *   escalations_read.c  GET a ticket's escalations and one of them,
 *                       GET /v1/escalations, GET /v1/inbox,
 *                       GET /v1/tenants/{slug}/escalation-policy
 *   ticket_events.c     GET .../tickets/{id}/events, the history feed
 *
 * Who may move what where is escalation_policy.c's; the database moves the
 * ticket, writes the event and the audit row (app.raise_escalation,
 * app.decide_escalation) and keeps escalations to staff of both sides.
 */
#ifndef MSP_ESCALATIONS_H
#define MSP_ESCALATIONS_H

#include "call/call.h"

msp_outcome_t msp_escalation_create_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);
msp_outcome_t msp_escalation_accept_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);
msp_outcome_t msp_escalation_reject_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);
msp_outcome_t msp_escalation_list_start(msp_call_t *call, msp_step_t *first,
                                        msp_reply_t *reply);
msp_outcome_t msp_escalation_get_start(msp_call_t *call, msp_step_t *first,
                                       msp_reply_t *reply);
msp_outcome_t msp_escalations_waiting_start(msp_call_t *call, msp_step_t *first,
                                            msp_reply_t *reply);
msp_outcome_t msp_inbox_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_escalation_policy_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);
msp_outcome_t msp_ticket_events_start(msp_call_t *call, msp_step_t *first,
                                      msp_reply_t *reply);

/* Whether a list cursor is a row id (decimal digits). */
int msp_cursor_is_id(const char *after);


#endif
