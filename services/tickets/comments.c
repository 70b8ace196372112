/*
 * comments.c - POST /v1/tenants/{slug}/tickets/{id}/comments.
 *
 * A comment is a ticket event of kind "comment", public (the requester
 * sees it), staff (IT staff of both sides) or provider (the provider's
 * staff only); the database derives the event's visibility from it and
 * refuses to show it, or let it be written, beyond that level.  A public
 * comment by staff is a response: it may stop the first-response clock,
 * so the clocks are replayed with it and stored with it.  Two steps: the
 * ticket, the principal's role in its tenant and the clocks' inputs; then
 * the comment.
 */
#include "http/json_body.h"
#include "http/params.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_rules.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <string.h>

/* $1 slug, $2 prefix, $3 number, $4 body, $5 visibility, $6 author's
 * name.  Row-level security decides whether the principal may write it:
 * on a ticket it sees (a requester: its own), at a level it reads. */
static const msp_sql_t sql_comment_create = {
    "comment_create",
    "WITH k AS (SELECT k.tenant_id, k.number, t.ticket_prefix"
    "           FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    "           WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer),"
    " e AS (INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
    "       SELECT k.tenant_id, k.number, 'comment', jsonb_build_object('body', $4::text,"
    "        'visibility', $5::text, 'author_name', $6::text) FROM k RETURNING *),"
    " au AS (INSERT INTO audit_log (tenant_id, action, target, detail)"
    "        SELECT k.tenant_id, 'comment.create', 'ticket:' || k.ticket_prefix || '-' || k.number,"
    "         jsonb_build_object('event_id', e.event_id, 'visibility', $5::text) FROM k, e)"
    " SELECT app.comment_doc(e)::text FROM e",
    6
};

typedef struct {
    const char *slug;
    const char *number;
    const char *visibility;
    msp_step_t  create;      /* the step writing the comment, built up front */
} comment_state_t;

static msp_outcome_t
comment_created(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_ticket, NULL, &early)) {
        return early;
    }
    return msp_reply_json(call, reply, 201, PQgetvalue(res[0], 0, 0),
                          (size_t) PQgetlength(res[0], 0, 0));
}

/* The ticket, then the role: the comment is written in the next step,
 * with the clocks when it is a response. */
static msp_outcome_t
ticket_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    comment_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    if (!msp_can_comment(&t.as, st->visibility)) {
        return msp_reply_forbidden(call, reply, strcmp(t.as.role, "auditor") == 0
            ? "Auditors read; they do not comment."
            : strcmp(st->visibility, "staff") == 0
            ? "Staff comments are for IT staff; post a public comment instead."
            : "Provider comments are for the provider's staff; post a staff comment instead.");
    }
    *next = st->create;
    if (strcmp(st->visibility, "public") != 0 || !msp_comment_responds(&t.as)) {
        return MSP_NEXT;
    }
    /* A response: the clocks with it, stored in the same step. */
    msp_ticket_sla_t clocks;
    json_t *change = json_pack("[s, n, n, n, b, n, n]", "comment", 1);
    int rc = change ? msp_ticket_sla_compute(call, res[2], change, &clocks) : -1;
    json_decref(change);
    if (rc != 0) {
        return msp_reply_sla_failure(call, reply);
    }
    msp_stmt_ticket_sla_store_one(&next->stmts[next->nstmts++], st->slug, st->number, &clocks);
    return MSP_NEXT;
}

msp_outcome_t
msp_comment_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const msp_principal_t *p = call->principal;
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }

    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why;
    if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
        return msp_reply_malformed_body(call, reply, why);
    }
    const char *text = NULL, *visibility = "public";
    msp_body_string(&b, "body", 1, 1, 10000, &text);
    msp_body_enum(&b, "visibility", 0, msp_visibilities, &visibility);
    int invalid = msp_body_finish(&b);
    const char *body = invalid ? NULL : msp_strndup(call, text, strlen(text));
    msp_body_free(&b);
    if (invalid) {
        return msp_reply_invalid(call, reply, 422, "Invalid comment", &errs);
    }
    if (body == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    comment_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    st->slug = slug;
    st->number = number;
    st->visibility = visibility;
    call->state = st;

    msp_stmt_t *s = &st->create.stmts[0];
    msp_stmt_ticket(s, &sql_comment_create, slug, prefix, number);
    s->params[3] = body;
    s->params[4] = visibility;
    s->params[5] = p->name;
    st->create.nstmts = 1;
    st->create.last = 1;
    st->create.then = comment_created;

    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[first->nstmts++], &msp_sql_ticket_visible, slug, prefix,
                    number);
    if (strcmp(visibility, "public") == 0) {      /* it may be a response */
        msp_stmt_ticket_sla_inputs(&first->stmts[first->nstmts++], slug, prefix, number);
    }
    first->then = ticket_checked;
    return MSP_NEXT;
}
