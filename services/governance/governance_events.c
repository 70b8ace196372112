/*
 * governance_events.c - GET /v1/tenants/{slug}/governance-events: what
 * happened to the tenant's governance records (ratings, projects, risks,
 * actions, decisions, objectives), oldest first, so that a review can
 * list what changed since the last one: `since` (RFC 3339), `record` (a
 * kind) and `record_id` (one record of it).  Each event names who did it
 * and, for a change, each field's value before and after.  For staff of
 * either side.
 */
#include "escalations/escalations.h"
#include "governance/governance.h"
#include "http/args.h"
#include "http/page.h"
#include "http/params.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_rules.h"
#include "http/replies.h"

#include <string.h>

/* $1 slug, $2 since or NULL, $3 record or NULL, $4 record id or NULL,
 * $5 after (an event id) or NULL, $6 rows. */
static const msp_sql_t sql_governance_events = {
    "governance_events",
    "SELECT json_build_object('id', e.event_id::text, 'record', e.record,"
    " 'record_id', e.record_id::text, 'occurred_at', app.rfc3339(e.occurred_at),"
    " 'actor', json_build_object('sub', e.actor_sub, 'org', e.actor_org, 'role', e.actor_role),"
    " 'kind', e.kind, 'data', e.data)::text, e.event_id"
    " FROM tenants t JOIN governance_events e ON e.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND ($2::timestamptz IS NULL OR e.occurred_at >= $2::timestamptz)"
    "   AND ($3::text IS NULL OR e.record = $3) AND ($4::bigint IS NULL OR e.record_id = $4)"
    "   AND ($5::bigint IS NULL OR e.event_id > $5::bigint)"
    " ORDER BY e.event_id LIMIT $6::integer",
    6
};

static msp_outcome_t
events_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return msp_reply_forbidden(call, reply, "The governance records' history is for staff "
                                   "of either side.");
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

msp_outcome_t
msp_governance_events_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "since", "record", "record_id", "limit", "after",
                                          NULL };
    static const char *const records[] = {
        "rating", "project", "risk", "action", "decision", "objective", NULL
    };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/governance-events",
                                                       slug), known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *since = msp_args_get(&list->args, "since");
    const char *record = msp_args_get(&list->args, "record");
    const char *record_id = msp_args_get(&list->args, "record_id");
    if (since != NULL && !msp_arg_is_rfc3339(since)) {
        msp_errors_add(&errs, "since", "must be an RFC 3339 time, e.g. 2026-03-01T00:00:00Z");
    }
    int known_record = 0;
    for (const char *const *r = records; record != NULL && *r != NULL; r++) {
        known_record |= strcmp(*r, record) == 0;
    }
    if (record != NULL && !known_record) {
        msp_errors_add(&errs, "record", "must be one of: rating, project, risk, action, "
                                        "decision, objective");
    }
    if (record_id != NULL && (record == NULL || !msp_cursor_is_id(record_id))) {
        msp_errors_add(&errs, "record_id", "must be a record's id, with record");
    }
    if (list->page.after != NULL && !msp_cursor_is_id(list->page.after)) {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_governance_events;
    s->params[0] = slug;
    s->params[1] = since;
    s->params[2] = record;
    s->params[3] = record_id;
    s->params[4] = list->page.after;
    s->params[5] = list->page.fetch;
    first->read_only = 1;
    first->then = events_read;
    return MSP_NEXT;
}
