/*
 * tickets.h - the tickets API under /v1/tenants/{slug}/tickets, and the
 * provider's cross-tenant queue.
 *
 *   tickets_read.c   GET one ticket, GET the list
 *   tickets_write.c  POST a ticket, PATCH a ticket
 *   comments.c       POST a comment
 *   queue.c          GET /v1/queue
 *   sla_explain.c    GET .../tickets/{id}/sla
 *
 * Tenant visibility is row-level security's job: every statement joins
 * tenants by slug, and a tenant the principal may not see yields no row,
 * answered 404 like a ticket that does not exist.  What the principal's
 * role there allows comes after (tenant_context.h): 403 only for what it
 * can see.
 */
#ifndef MSP_TICKETS_H
#define MSP_TICKETS_H

#include "call/call.h"

msp_outcome_t msp_ticket_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_ticket_assets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_ticket_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_ticket_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_ticket_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_comment_create_start(msp_call_t *call, msp_step_t *first,
                                       msp_reply_t *reply);
msp_outcome_t msp_sla_explain_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_queue_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* $1 slug, $2 prefix, $3 number: one row when the principal sees the
 * ticket (row-level security: a requester its own only). */
extern const msp_sql_t msp_sql_ticket_visible;

/* A statement about one ticket, whose first parameters are $1 slug,
 * $2 prefix, $3 number (ACME-42 in tenant acme): sets s to it and fills
 * those three. */
void msp_stmt_ticket(msp_stmt_t *s, const msp_sql_t *sql, const char *slug, const char *prefix,
                     const char *number);

/* Shared by the files above. */
/* 500 when a ticket's SLA clocks cannot be computed (its tenant's
 * calendar does not compile): the change is not made. */
msp_outcome_t msp_reply_sla_failure(msp_call_t *call, msp_reply_t *reply);
/* The ETag of a ticket version: "\"<version>\"". */
const char *msp_ticket_etag(msp_call_t *call, const char *version);

#endif
