/*
 * ticket_events.c - GET /v1/tenants/{slug}/tickets/{id}/events: a
 * ticket's history, oldest first.
 *
 * Which events a reader sees is row-level security's decision (the
 * visibility policy on ticket_events): a requester gets the public ones, a
 * tenant's IT staff public and staff, provider staff all.  This file adds
 * no filter of its own, so it cannot forget one.
 */
#include "escalations/escalations.h"
#include "http/page.h"
#include "http/params.h"
#include "auth/tenant_context.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <string.h>

/* $1 slug, $2 prefix, $3 number, $4 after (an event id) or NULL, $5 rows. */
static const msp_sql_t sql_ticket_events = {
    "ticket_events",
    "SELECT app.event_doc(e)::text, e.event_id"
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " JOIN ticket_events e ON e.tenant_id = k.tenant_id AND e.ticket_number = k.number"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer"
    "   AND ($4::bigint IS NULL OR e.event_id > $4::bigint)"
    " ORDER BY e.event_id LIMIT $5::integer",
    5
};

int
msp_cursor_is_id(const char *after)
{
    size_t n = after ? strlen(after) : 0;
    if (n == 0 || n > 18) {
        return 0;
    }
    return strspn(after, "0123456789") == n;
}

static msp_outcome_t
events_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    return msp_list_reply(call, reply, call->state, res[2]);
}

msp_outcome_t
msp_ticket_events_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/tickets/%s-%s/events",
                                                       slug, prefix, number), known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    if (list->page.after != NULL && !msp_cursor_is_id(list->page.after)) {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    for (int i = 1; i < 3; i++) {
        msp_stmt_ticket(&first->stmts[i], i == 1 ? &msp_sql_ticket_visible : &sql_ticket_events,
                        slug, prefix, number);
    }
    first->stmts[2].params[3] = list->page.after;
    first->stmts[2].params[4] = list->page.fetch;
    first->nstmts = 3;
    first->read_only = 1;
    first->then = events_done;
    return MSP_NEXT;
}
