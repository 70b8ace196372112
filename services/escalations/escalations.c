/*
 * escalations.c - raising an escalation on a ticket, and accepting or
 * rejecting one.
 *
 * Both are two steps.  The first reads the tenant with the principal's
 * role there (tenant_context.h), locks the ticket (and the escalation)
 * and reads what the decision needs: the tenant's policy and calendar,
 * the ticket's history for its SLA clocks.  The service decides in C: the
 * role, the policy, the ticket's state, the acknowledgement deadline in business
 * time, and the clocks with the move about to be made.  The second step
 * moves the ticket with its event and audit row (app.raise_escalation,
 * app.decide_escalation) and stores the clocks, so the held time follows
 * the side that holds the ticket from the very instant it moves.
 */
#include "escalations/escalation_policy.h"
#include "escalations/escalations.h"
#include "http/json_body.h"
#include "http/params.h"
#include "http/problem.h"
#include "sla/business.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* $1 slug, $2 prefix, $3 number: locks the ticket.  The statements after
 * it in the same step read what it looks like once locked (each statement
 * has a snapshot of its own; the locking one's other columns would be as
 * they were before it waited). */
static const msp_sql_t sql_escalation_lock = {
    "escalation_ticket_lock",
    "SELECT 1 FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer"
    " FOR UPDATE OF k",
    3
};

/* sql_escalation_ticket's columns. */
enum { IN_SIDE, IN_TIER, IN_STATUS, IN_WAITING };

/* $1 slug, $2 prefix, $3 number: who holds the ticket, and the escalation
 * waiting on it. */
static const msp_sql_t sql_escalation_ticket = {
    "escalation_ticket",
    "SELECT k.side, k.tier, k.status,"
    " (SELECT x.escalation_id FROM escalations x WHERE x.tenant_id = k.tenant_id"
    "   AND x.ticket_number = k.number AND x.status = 'open' AND x.kind <> 'hierarchical')"
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer",
    3
};

/* $1 slug, $2 number, $3 kind, $4 target, $5 note, $6 assignee, $7 group,
 * $8 rule, $9 acknowledge by (Unix seconds) or NULL. */
static const msp_sql_t sql_escalation_raise = {
    "escalation_raise",
    "SELECT app.escalation_doc(x, t)::text"
    " FROM tenants t, app.raise_escalation(t.tenant_id, $2::integer, $3, $4, $5::jsonb, $6,"
    "  $7, $8, NULL, NULL, to_timestamp($9::bigint)) x"
    " WHERE t.slug = $1",
    9
};

/* sql_decision_inputs's columns. */
enum { DX_KIND, DX_TARGET, DX_STATUS, DX_FROM_SIDE, DX_TICKET_STATUS, DX_DECIDED_BY };

/* $1 slug, $2 prefix, $3 number, $4 escalation id: it and its ticket.
 * Run after sql_escalation_lock: whatever changes an escalation locks its
 * ticket first, so holding the ticket holds the escalation still. */
static const msp_sql_t sql_decision_inputs = {
    "escalation_decision_inputs",
    "SELECT x.kind, x.target, x.status, x.from_side, k.status, x.decided_by"
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " JOIN escalations x ON x.tenant_id = k.tenant_id AND x.ticket_number = k.number"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer"
    "   AND x.escalation_id = $4::bigint",
    4
};

/* $1 slug, $2 escalation id, $3 accept, $4 reason or NULL. */
static const msp_sql_t sql_escalation_decide = {
    "escalation_decide",
    "SELECT app.escalation_doc(x, t)::text"
    " FROM tenants t, app.decide_escalation(t.tenant_id, $2::bigint, $3::boolean, $4) x"
    " WHERE t.slug = $1",
    4
};

typedef struct {
    const char *slug;
    const char *number;
    const char *id;          /* the ticket's id, ACME-7, for Location */
    const char *escalation;  /* accept/reject: its id */
    const char *kind;
    const char *target;
    const char *note;        /* JSON */
    const char *assignee;
    const char *group;
    const char *reason;      /* reject */
    int         accept;
} escalation_state_t;

static const char *
value(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

/* 403 for a move the policy does not allow: the rule, and what the
 * policy does allow this role for this kind. */
static msp_outcome_t
reply_not_allowed(msp_call_t *call, msp_reply_t *reply, const json_t *policy,
                  const json_t *rule, const char *detail, const char *role, const char *kind)
{
    const json_t *allowed = json_object_get(json_object_get(json_object_get(policy, "matrix"),
                                                            role), kind);
    /* "O" shares what the policy holds; "o" takes the new empty array */
    json_t *extra = json_pack("{s:O?, s:o}", "rule", rule ? json_object_get(rule, "name") : NULL,
                              "allowed", allowed ? json_incref((json_t *) allowed)
                                                 : json_array());
    if (extra == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    msp_outcome_t out = msp_reply_problem_with(call, reply, 403, "escalation-not-allowed",
                                               "Escalation not allowed", detail, NULL, extra);
    json_decref(extra);
    return out;
}

static msp_outcome_t
reply_conflict(msp_call_t *call, msp_reply_t *reply, const char *detail)
{
    return msp_reply_problem(call, reply, 409, "conflict", "Conflict", detail, NULL);
}

/* The clocks with a move, as the next step's second statement. */
static int
add_clocks(msp_call_t *call, const PGresult *inputs, const char *kind, const char *status,
           const char *side, msp_step_t *next)
{
    escalation_state_t *st = call->state;
    msp_ticket_sla_t clocks;
    json_t *change = json_pack("[s, s?, s?, n, b, n, n]", kind, status, side, 0);
    int rc = change ? msp_ticket_sla_compute(call, inputs, change, &clocks) : -1;
    json_decref(change);
    if (rc != 0) {
        return -1;
    }
    msp_stmt_ticket_sla_store_one(&next->stmts[next->nstmts++], st->slug, st->number, &clocks);
    return 0;
}

/* ---- raising ----------------------------------------------------------- */

static msp_outcome_t
raised(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    escalation_state_t *st = call->state;
    const PGresult *err = msp_first_error(res, nres);
    const char *state = err ? PQresultErrorField(err, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strcmp(state, "23505") == 0) {
        return reply_conflict(call, reply, "Another escalation is waiting on this ticket; "
                              "it must be accepted or rejected first.");
    }
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_ticket, NULL, &early)) {
        return early;
    }
    json_t *doc = json_loads(PQgetvalue(res[0], 0, 0), 0, NULL);
    json_t *eid = json_object_get(doc, "id");
    reply->location = json_is_integer(eid)
        ? msp_printf(call, "%s/v1/tenants/%s/tickets/%s/escalations/%lld",
                     call->base_url ? call->base_url : "", st->slug, st->id,
                     (long long) json_integer_value(eid))
        : NULL;
    json_decref(doc);
    return msp_reply_json(call, reply, 201, PQgetvalue(res[0], 0, 0),
                          (size_t) PQgetlength(res[0], 0, 0));
}

/* Why a move the policy allows cannot happen to this ticket now, or NULL. */
static const char *
ticket_conflict(msp_call_t *call, const escalation_state_t *st, const PGresult *in)
{
    const char *status = value(in, IN_STATUS), *side = value(in, IN_SIDE);
    const char *tier = value(in, IN_TIER) ? value(in, IN_TIER) : "L1";
    const char *to_side, *to_tier, *to_role;
    msp_esc_target_split(st->target, &to_side, &to_tier, &to_role);

    if (strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0) {
        return msp_printf(call, "The ticket is %s; reopen it before escalating.", status);
    }
    if (strcmp(st->kind, "hierarchical") == 0) {
        return NULL;
    }
    if (strcmp(st->kind, "handoff") == 0 && strcmp(to_side, side) == 0) {
        return strcmp(side, "provider") == 0
            ? "The provider holds this ticket already; a functional escalation moves it "
              "between tiers."
            : msp_printf(call, "The ticket is held by %s already.", side);
    }
    if (strcmp(st->kind, "functional") == 0 && strcmp(to_tier, tier) <= 0) {
        return msp_printf(call, "A functional escalation goes up: the ticket is at %s.", tier);
    }
    return NULL;
}

static msp_outcome_t
create_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    escalation_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 2, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    const PGresult *in = res[2];
    const msp_principal_t *p = &t.as;
    /* Roles no policy can name (they do not work tickets). */
    if (msp_esc_side_of(p->role) == NULL) {
        return reply_not_allowed(call, reply, NULL, NULL, strcmp(p->role, "auditor") == 0
            ? "Auditors read; they do not escalate."
            : msp_printf(call, "A %s does not escalate; IT staff of either side do.", p->role),
            p->role, st->kind);
    }
    /* A retry of a move that went through waits like the first: 409, not
     * a refusal by the rules of the side the ticket has moved to. */
    if (strcmp(st->kind, "hierarchical") != 0 && value(in, IN_WAITING) != NULL) {
        return reply_conflict(call, reply, msp_printf(call, "Escalation %s is waiting on this "
                              "ticket; it must be accepted or rejected first.",
                              value(in, IN_WAITING)));
    }
    const PGresult *clocks_in = res[3];
    msp_sla_inputs_t clock_inputs;
    const msp_sla_config_t *cfg = msp_ticket_sla_config(clocks_in, NULL, 0);
    if (cfg == NULL || cfg->escalation == NULL
        || msp_ticket_sla_inputs(clocks_in, &clock_inputs) != 0)
    {
        return msp_reply_sla_failure(call, reply);
    }

    const char *holder = value(in, IN_SIDE);
    const json_t *rule;
    if (!msp_esc_allowed(cfg->escalation, p->role, st->kind, holder, st->target, &rule)) {
        const char *model = json_string_value(json_object_get(cfg->escalation, "model"));
        const char *detail = rule == NULL
            ? msp_printf(call, "The %s escalation policy of %s does not let %s raise %s "
                         "escalations.", model, st->slug, p->role, st->kind)
            : msp_printf(call, "Rule %s lets %s raise %s escalations on tickets held by "
                         "one of its sides \"from\" to one of its targets \"to\"; this "
                         "ticket is held by %s and the target is %s.",
                         json_string_value(json_object_get(rule, "name")), p->role,
                         st->kind, holder, st->target);
        return reply_not_allowed(call, reply, cfg->escalation, rule, detail, p->role,
                                 st->kind);
    }
    if (st->assignee != NULL && !json_is_true(json_object_get(rule, "assign"))) {
        return reply_not_allowed(call, reply, cfg->escalation, rule,
            msp_printf(call, "Rule %s does not let %s name who receives the work; leave "
                       "out \"assignee\" and the receiving side takes it.",
                       json_string_value(json_object_get(rule, "name")), p->role),
            p->role, st->kind);
    }
    const char *conflict = ticket_conflict(call, st, in);
    if (conflict != NULL) {
        return reply_conflict(call, reply, conflict);
    }

    /* The acknowledgement deadline, in the tenant's business time. */
    const char *ack = NULL;
    int moves = strcmp(st->kind, "hierarchical") != 0;
    if (moves && cfg->steps.ack_seconds > 0) {
        int64_t due = msp_business_add(cfg->calendar, clock_inputs.now,
                                       cfg->steps.ack_seconds);
        ack = due == INT64_MAX ? NULL : msp_printf(call, "%lld", (long long) due);
    }

    msp_stmt_t *s = &next->stmts[0];
    s->sql = &sql_escalation_raise;
    s->params[0] = st->slug;
    s->params[1] = st->number;
    s->params[2] = st->kind;
    s->params[3] = st->target;
    s->params[4] = st->note;
    s->params[5] = st->assignee;
    s->params[6] = st->group;
    s->params[7] = msp_printf(call, "%s", json_string_value(json_object_get(rule, "name")));
    s->params[8] = ack;
    next->nstmts = 1;
    next->last = 1;
    next->then = raised;
    if (moves) {
        const char *to_side, *to_tier, *to_role;
        msp_esc_target_split(st->target, &to_side, &to_tier, &to_role);
        if (add_clocks(call, clocks_in, "escalated", NULL,
                       strcmp(to_side, holder) != 0 ? to_side : NULL, next) != 0)
        {
            return msp_reply_sla_failure(call, reply);
        }
    }
    return MSP_NEXT;
}

/* The body: kind, to, note {summary, tried, next_action}, assignee, group.
 * Fills st; 0, or -1 when out of memory.  Errors go to errs. */
static int
read_escalation(msp_call_t *call, msp_body_t *b, escalation_state_t *st)
{
    static const char *const note_fields[] = { "summary", "tried", "next_action", NULL };
    const char *kind = NULL, *target = NULL, *assignee = NULL, *group = NULL;
    int kind_ok = msp_body_enum(b, "kind", 1, msp_esc_kinds, &kind) == 1;
    if (msp_body_string(b, "to", 1, 1, 40, &target) == 1 && kind_ok
        && !msp_esc_target_ok(kind, target))
    {
        msp_errors_add(b->errs, "to", strcmp(kind, "functional") == 0
            ? "a functional escalation goes to provider:L2 or provider:L3"
            : strcmp(kind, "handoff") == 0
            ? "a handoff goes to provider:L1, provider:L2, provider:L3, internal_it or vendor"
            : "a hierarchical escalation goes to provider:lead, provider:account_manager or "
              "internal_it:it_leader");
    }
    msp_body_string(b, "assignee", 0, 1, 200, &assignee);
    if (msp_body_string(b, "group", 0, 1, 100, &group) == 1 && kind_ok
        && strcmp(kind, "functional") != 0)
    {
        msp_errors_add(b->errs, "group", "only a functional escalation goes to a specialist "
                       "group");
    }

    /* The warm handoff: every part of the note, each error named. */
    msp_body_t nb;
    json_t *note = json_object();
    if (msp_body_object(b, "note", 0, "note.", &nb) == 1) {
        for (int i = 0; note_fields[i] != NULL; i++) {
            const char *text;
            if (msp_body_string(&nb, note_fields[i], 1, 1, 4000, &text) == 1) {
                json_object_set_new(note, note_fields[i], json_string(text));
            }
        }
        msp_body_finish(&nb);
        msp_body_free(&nb);
    } else if (!msp_body_has(b, "note")) {
        for (int i = 0; note_fields[i] != NULL; i++) {
            msp_errors_add(b->errs, msp_printf(call, "note.%s", note_fields[i]), "is required");
        }
    }
    char *note_text = json_dumps(note, JSON_COMPACT);
    json_decref(note);
    st->note = note_text ? msp_strndup(call, note_text, strlen(note_text)) : NULL;
    free(note_text);
    /* kind and target point into static lists once checked; copy the rest. */
    st->kind = kind;
    st->target = target ? msp_strndup(call, target, strlen(target)) : NULL;
    st->assignee = assignee ? msp_strndup(call, assignee, strlen(assignee)) : NULL;
    st->group = group ? msp_strndup(call, group, strlen(group)) : NULL;
    return st->note == NULL || (target && !st->target) || (assignee && !st->assignee)
           || (group && !st->group) ? -1 : 0;
}

static escalation_state_t *
state_new(msp_call_t *call, const char *slug, const char *number)
{
    escalation_state_t *st = msp_alloc(call, sizeof(*st));
    if (st != NULL) {
        memset(st, 0, sizeof(*st));
        st->slug = slug;
        st->number = number;
        call->state = st;
    }
    return st;
}

msp_outcome_t
msp_escalation_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    escalation_state_t *st = state_new(call, slug, number);
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    st->id = msp_printf(call, "%s-%s", prefix, number);

    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why;
    if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
        return msp_reply_malformed_body(call, reply, why);
    }
    int oom = read_escalation(call, &b, st);
    int invalid = msp_body_finish(&b);
    msp_body_free(&b);
    if (invalid) {
        return msp_reply_invalid(call, reply, 422, "Invalid escalation", &errs);
    }
    if (oom != 0 || st->id == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[1], &sql_escalation_lock, slug, prefix, number);
    msp_stmt_ticket(&first->stmts[2], &sql_escalation_ticket, slug, prefix, number);
    msp_stmt_ticket_sla_inputs(&first->stmts[3], slug, prefix, number);
    first->nstmts = 4;
    first->then = create_checked;
    return MSP_NEXT;
}

/* ---- accepting and rejecting ------------------------------------------- */

static msp_outcome_t
decided(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    const PGresult *err = msp_first_error(res, nres);
    const char *state = err ? PQresultErrorField(err, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strcmp(state, "55000") == 0) {
        return reply_conflict(call, reply, "The escalation was decided meanwhile.");
    }
    return msp_reply_document(call, reply, res, nres, 0, msp_reply_no_ticket);
}

static msp_outcome_t
decision_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                 msp_reply_t *reply)
{
    escalation_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 2, msp_reply_no_escalation, &t, &early)) {
        return early;
    }
    const PGresult *in = res[2];
    if (strcmp(t.as.role, "auditor") == 0) {
        return msp_reply_forbidden(call, reply, "Auditors read; they do not decide "
                                   "escalations.");
    }
    const char *kind = value(in, DX_KIND), *target = value(in, DX_TARGET);
    if (strcmp(value(in, DX_STATUS), "open") != 0) {
        return reply_conflict(call, reply, msp_printf(call, "The escalation was %s already "
                              "by %s.", value(in, DX_STATUS), value(in, DX_DECIDED_BY)));
    }
    const char *why;
    if (!msp_esc_may_decide(t.as.role, t.tier, kind, target, value(in, DX_FROM_SIDE), &why))
    {
        return msp_reply_forbidden(call, reply, why);
    }

    msp_stmt_t *s = &next->stmts[0];
    s->sql = &sql_escalation_decide;
    s->params[0] = st->slug;
    s->params[1] = st->escalation;
    s->params[2] = st->accept ? "true" : "false";
    s->params[3] = st->reason;
    next->nstmts = 1;
    next->last = 1;
    next->then = decided;
    if (strcmp(kind, "hierarchical") != 0) {
        /* Accepted, a new ticket becomes assigned; rejected, it goes back. */
        int becomes_assigned = st->accept && strcmp(value(in, DX_TICKET_STATUS), "new") == 0;
        const char *back = st->accept ? NULL : value(in, DX_FROM_SIDE);
        if (add_clocks(call, res[3], st->accept ? "escalation_accepted" : "escalation_rejected",
                       becomes_assigned ? "assigned" : NULL, back, next) != 0)
        {
            return msp_reply_sla_failure(call, reply);
        }
    }
    return MSP_NEXT;
}

/* Accepting and rejecting share the checks; accept says which. */
static msp_outcome_t
decide_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply, int accept)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    const char *eid = msp_param_id(call, "id");
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0 || eid == NULL) {
        return msp_reply_no_escalation(call, reply);
    }
    escalation_state_t *st = state_new(call, slug, number);
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    st->escalation = eid;
    st->accept = accept;

    /* accept takes no body (or {}); reject takes the reason. */
    msp_errors_t errs = { 0 };
    if (call->body_len > 0 || !st->accept) {
        msp_body_t b;
        const char *why, *reason = NULL;
        if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
            return msp_reply_malformed_body(call, reply, why);
        }
        if (!st->accept) {
            msp_body_string(&b, "reason", 1, 1, 4000, &reason);
        }
        int invalid = msp_body_finish(&b);
        st->reason = reason ? msp_strndup(call, reason, strlen(reason)) : NULL;
        msp_body_free(&b);
        if (invalid) {
            return msp_reply_invalid(call, reply, 422, st->accept ? "Invalid acceptance"
                                                                  : "Invalid rejection", &errs);
        }
        if (reason != NULL && st->reason == NULL) {
            return msp_reply_out_of_memory(reply);
        }
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[1], &sql_escalation_lock, slug, prefix, number);
    msp_stmt_ticket(&first->stmts[2], &sql_decision_inputs, slug, prefix, number);
    first->stmts[2].params[3] = eid;
    msp_stmt_ticket_sla_inputs(&first->stmts[3], slug, prefix, number);
    first->nstmts = 4;
    first->then = decision_checked;
    return MSP_NEXT;
}

msp_outcome_t
msp_escalation_accept_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return decide_start(call, first, reply, 1);
}

msp_outcome_t
msp_escalation_reject_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return decide_start(call, first, reply, 0);
}
