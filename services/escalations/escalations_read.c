/*
 * escalations_read.c - reading escalations: a ticket's, one, those
 * waiting for the caller (GET /v1/escalations), the caller's inbox, and a
 * tenant's effective escalation policy.
 *
 * Escalations are for staff of both sides; row-level security hides them
 * from everyone else (escalations_read reads the "staff" set), and these
 * services answer other roles 403, once the tenant is known to be
 * visible, rather than with an empty list.
 */
#include "escalations/escalation_policy.h"
#include "escalations/escalations.h"
#include "http/page.h"
#include "http/params.h"
#include "sla/config.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_rules.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* How many of each the inbox shows. */
#define INBOX_ROWS "50"

/* $1 slug, $2 prefix, $3 number, $4 escalation id or NULL (all), $5 after
 * or NULL, $6 rows. */
static const msp_sql_t sql_ticket_escalations = {
    "ticket_escalations",
    "SELECT app.escalation_doc(x, t)::text, x.escalation_id"
    " FROM tenants t JOIN escalations x ON x.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND x.ticket_number = $3::integer"
    "   AND t.ticket_prefix = $2"
    "   AND ($4::bigint IS NULL OR x.escalation_id = $4::bigint)"
    "   AND ($5::bigint IS NULL OR x.escalation_id > $5::bigint)"
    " ORDER BY x.escalation_id LIMIT $6::integer",
    6
};

/* Open escalations the caller may take, in every tenant it sees by its
 * role there (app.escalation_waits_for, which says what
 * msp_esc_may_decide() does): for an admin, one walk of the open ones
 * across tenants; for the others, a walk per tenant.  $1 tenant or NULL,
 * $2 after or NULL, $3 rows. */
static const msp_sql_t sql_escalations_waiting = {
    "escalations_waiting",
    "SELECT app.escalation_doc(x, t)::text, x.escalation_id"
    " FROM ((SELECT x.tenant_id, x.escalation_id FROM escalations x"
    "         WHERE (SELECT app.sees_all()) AND x.status = 'open'"
    "           AND app.escalation_waits_for(x, 'admin', NULL)"
    "           AND ($1::text IS NULL"
    "                OR x.tenant_id = (SELECT s.tenant_id FROM tenants s WHERE s.slug = $1::text))"
    "           AND ($2::bigint IS NULL OR x.escalation_id > $2::bigint)"
    "         ORDER BY x.escalation_id LIMIT $3::integer)"
    "       UNION ALL"
    "       (SELECT w.tenant_id, w.escalation_id FROM app.principal_tenants() v"
    "         CROSS JOIN LATERAL (SELECT x.tenant_id, x.escalation_id FROM escalations x"
    "           WHERE x.tenant_id = v.tenant_id AND x.status = 'open'"
    "             AND app.escalation_waits_for(x, v.role, v.tier)"
    "             AND ($2::bigint IS NULL OR x.escalation_id > $2::bigint)"
    "           ORDER BY x.escalation_id LIMIT $3::integer) w"
    "         WHERE NOT (SELECT app.sees_all())"
    "           AND ($1::text IS NULL"
    "                OR v.tenant_id = (SELECT s.tenant_id FROM tenants s WHERE s.slug = $1::text)))"
    "      ) w"
    " JOIN escalations x ON x.tenant_id = w.tenant_id AND x.escalation_id = w.escalation_id"
    " JOIN tenants t ON t.tenant_id = x.tenant_id"
    " ORDER BY x.escalation_id LIMIT $3::integer",
    3
};

/* Open tickets assigned to the caller that breach within $1 minutes (or
 * did), soonest first. */
static const msp_sql_t sql_near_breach = {
    "near_breach",
    "SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text,"
    " k.number, " MSP_SLA_CONFIG_COLUMN
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE k.assignee = app.principal_sub() AND k.status NOT IN ('resolved', 'closed')"
    "   AND k.breach_at < now() + $1::integer * interval '1 minute'"
    " ORDER BY k.breach_at, k.tenant_id, k.number LIMIT " INBOX_ROWS,
    1
};

/* Staff of either side, auditors included, read escalations. */
static msp_outcome_t
reply_staff_only(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_forbidden(call, reply, "Escalations are for IT staff of the provider "
                               "and of the tenant.");
}

/* ---- a ticket's ------------------------------------------------------- */

typedef struct {
    msp_list_t *list;        /* NULL for one escalation */
} ticket_read_t;

static msp_outcome_t
ticket_escalations_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                        msp_reply_t *reply)
{
    (void) next;
    ticket_read_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return reply_staff_only(call, reply);
    }
    if (st->list != NULL) {
        return msp_list_reply(call, reply, st->list, res[2]);
    }
    if (PQntuples(res[2]) != 1) {
        return msp_reply_no_escalation(call, reply);
    }
    return msp_reply_json(call, reply, 200, PQgetvalue(res[2], 0, 0),
                          (size_t) PQgetlength(res[2], 0, 0));
}

static msp_outcome_t
ticket_escalations(msp_call_t *call, msp_step_t *first, msp_reply_t *reply, int one)
{
    static const char *const known[] = { "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number, *eid = NULL;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0
        || (one && (eid = msp_param_id(call, "id")) == NULL))
    {
        return msp_reply_no_ticket(call, reply);
    }
    ticket_read_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    st->list = NULL;
    call->state = st;
    const char *after = NULL, *rows = "1";
    if (!one) {
        msp_errors_t errs = { 0 };
        st->list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/tickets/%s-%s"
                                                   "/escalations", slug, prefix, number),
                                  known, &errs);
        if (st->list == NULL) {
            return msp_reply_out_of_memory(reply);
        }
        if (st->list->page.after != NULL && !msp_cursor_is_id(st->list->page.after)) {
            msp_errors_add(&errs, "after", "is not a cursor this API handed out");
        }
        if (msp_errors_any(&errs)) {
            return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
        }
        after = st->list->page.after;
        rows = st->list->page.fetch;
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[1], &msp_sql_ticket_visible, slug, prefix, number);
    msp_stmt_t *s = &first->stmts[2];
    msp_stmt_ticket(s, &sql_ticket_escalations, slug, prefix, number);
    s->params[3] = eid;
    s->params[4] = after;
    s->params[5] = rows;
    first->nstmts = 3;
    first->read_only = 1;
    first->then = ticket_escalations_done;
    return MSP_NEXT;
}

msp_outcome_t
msp_escalation_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return ticket_escalations(call, first, reply, 0);
}

msp_outcome_t
msp_escalation_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return ticket_escalations(call, first, reply, 1);
}

/* ---- waiting for the caller ------------------------------------------ */

static msp_outcome_t
waiting_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    return msp_list_reply(call, reply, call->state, res[0]);
}

/* Fills s with the waiting statement for the caller. */
static void
waiting_statement(msp_stmt_t *s, const char *tenant, const char *after, const char *rows)
{
    s->sql = &sql_escalations_waiting;
    s->params[0] = tenant;
    s->params[1] = after;
    s->params[2] = rows;
}

/* A tenant's people whose role takes no escalations (requesters,
 * auditors, machine clients) are told so; provider staff have a role per
 * tenant, and see what waits for them in each. */
static int
takes_no_escalations(const msp_principal_t *p)
{
    return !p->is_provider && msp_esc_side_of(p->role) == NULL;
}

msp_outcome_t
msp_escalations_waiting_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "tenant", "limit", "after", NULL };
    if (takes_no_escalations(call->principal)) {
        return msp_reply_forbidden(call, reply, "Escalations wait for IT staff of the "
                                   "provider or of the tenant.");
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, "/v1/escalations", known, &errs);
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
    waiting_statement(&first->stmts[0], msp_args_get(&list->args, "tenant"),
                      list->page.after, list->page.fetch);
    first->nstmts = 1;
    first->read_only = 1;
    first->then = waiting_done;
    return MSP_NEXT;
}

/* ---- the inbox --------------------------------------------------------- */

typedef struct {
    const char *within;
} inbox_t;

/* A JSON array of column 0 of every row, each through item (or as is). */
static char *
rows_array(msp_call_t *call, const PGresult *rows,
           char *(*item)(msp_call_t *call, const char *json, size_t len))
{
    size_t cap = 3, n = (size_t) PQntuples(rows);
    const char **parts = msp_alloc(call, (n + 1) * sizeof(*parts));
    if (parts == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = PQgetvalue(rows, (int) i, 0);
        size_t len = (size_t) PQgetlength(rows, (int) i, 0);
        parts[i] = item ? item(call, v, len) : v;
        if (parts[i] == NULL) {
            return NULL;
        }
        cap += strlen(parts[i]) + 1;
    }
    char *out = msp_alloc(call, cap), *o = out;
    if (out == NULL) {
        return NULL;
    }
    *o++ = '[';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(parts[i]);
        if (i > 0) {
            *o++ = ',';
        }
        memcpy(o, parts[i], len);
        o += len;
    }
    *o++ = ']';
    *o = '\0';
    return out;
}

static msp_outcome_t
inbox_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    inbox_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    switch (msp_ticket_sla_need(call, res, nres, 1, 2, inbox_done, next)) {
    case 1:
        return MSP_NEXT;
    case -1:
        return msp_reply_out_of_memory(reply);
    }
    const char *waiting = rows_array(call, res[0], NULL);
    const char *near = rows_array(call, res[1], msp_ticket_sla_item);
    char *body = waiting && near
        ? msp_printf(call, "{\"escalations\":%s,\"near_breach\":%s,\"within\":%s}", waiting,
                     near, st->within)
        : NULL;
    if (body == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    return msp_reply_json(call, reply, 200, body, strlen(body));
}

msp_outcome_t
msp_inbox_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "within", NULL };
    if (takes_no_escalations(call->principal)) {
        return msp_reply_forbidden(call, reply, "The inbox is for IT staff of the provider "
                                   "or of the tenant.");
    }
    msp_errors_t errs = { 0 };
    msp_args_t args;
    inbox_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    st->within = "240";
    if (msp_args_parse(call, known, &args, &errs) == 0) {
        const char *w = msp_args_get(&args, "within");
        char *end = NULL;
        long minutes = w ? strtol(w, &end, 10) : 240;
        if (w != NULL && (*w < '0' || *w > '9' || *end != '\0' || minutes < 1
                          || minutes > 10080))
        {
            msp_errors_add(&errs, "within", "must be a number of minutes from 1 to 10080");
        } else if (w != NULL) {
            st->within = msp_printf(call, "%ld", minutes);
        }
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    if (st->within == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    call->state = st;
    waiting_statement(&first->stmts[0], NULL, NULL, INBOX_ROWS);
    first->stmts[1].sql = &sql_near_breach;
    first->stmts[1].params[0] = st->within;
    first->nstmts = 2;
    first->read_only = 1;
    first->then = inbox_done;
    return MSP_NEXT;
}

/* ---- the policy -------------------------------------------------------- */

static msp_outcome_t
policy_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return msp_reply_forbidden(call, reply, "The escalation policy is for IT staff of the "
                                   "provider and of the tenant.");
    }
    const msp_sla_config_t *cfg = msp_ticket_sla_config(res[1], NULL, 0);
    if (cfg == NULL || cfg->escalation == NULL) {
        return msp_reply_problem(call, reply, 500, "internal", "Internal error",
                                 "The tenant's escalation policy could not be read.", NULL);
    }
    json_t *out = json_deep_copy(cfg->escalation);
    if (out == NULL || json_object_set_new(out, "tenant", json_string(call->state)) != 0) {
        json_decref(out);
        return msp_reply_out_of_memory(reply);
    }
    return msp_reply_doc(call, reply, 200, out);
}

msp_outcome_t
msp_escalation_policy_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    call->state = (void *) slug;
    msp_step_tenant(first, slug);
    msp_stmt_tenant_sla_inputs(&first->stmts[1], slug);
    first->nstmts = 2;
    first->read_only = 1;
    first->then = policy_done;
    return MSP_NEXT;
}
