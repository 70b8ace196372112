/*
 * tickets_write.c - POST /v1/tenants/{slug}/tickets and PATCH .../{id}.
 *
 * A change is one statement: the ticket row, its history event and its
 * audit row are written together or not at all.  A POST with an
 * Idempotency-Key first claims the key (a retry, or a concurrent twin,
 * waits on it and then gets the stored first response); a PATCH first
 * locks the row, so that the If-Match check, the lifecycle rule and the
 * update see the same version.
 */
#include "escalations/escalation_policy.h"
#include "http/idempotency.h"
#include "http/if_match.h"
#include "http/json_body.h"
#include "http/params.h"
#include "common/sha256.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_rules.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKET_CHANGE_FIELDS \
    "title, description, category, impact, urgency, status, assignee"

/* The SLA columns a write sets, from msp_ticket_sla_t's parameters $N..$N+5. */
#define SLA_COLUMNS "sla, response_due, resolution_due, breach_at, sla_pending, sla_next_at"
#define SLA_VALUES(a, b, c, d, e, f) \
    "$" #a "::jsonb, to_timestamp($" #b "::bigint), to_timestamp($" #c "::bigint)," \
    " to_timestamp($" #d "::bigint), $" #e "::jsonb, to_timestamp($" #f "::bigint)"

/* sql_ticket_create's parameters: slot i is $(i + 1). */
enum {
    CREATE_SLUG, CREATE_TITLE, CREATE_DESCRIPTION, CREATE_CATEGORY, CREATE_IMPACT,
    CREATE_URGENCY, CREATE_PRIORITY, CREATE_REQUESTER, CREATE_ASSETS,
    CREATE_CLOCKS,                                        /* $10..$15 */
    CREATE_KEY = CREATE_CLOCKS + MSP_TICKET_SLA_PARAMS,   /* or NULL */
    CREATE_SIDE,                                          /* the side it goes to */
    CREATE_BUSINESS_IMPACT,                /* why the priority was raised, or NULL */
    CREATE_NPARAMS
};

/* Returns the number, version and document; no row when the tenant is
 * not visible. */
static const msp_sql_t sql_ticket_create = {
    "ticket_create",
    "WITH t AS (SELECT * FROM tenants WHERE slug = $1),"
    " k AS (INSERT INTO tickets (tenant_id, title, description, category, created_category,"
    "        impact, urgency, priority, business_impact, requester, side, " SLA_COLUMNS ")"
    "       SELECT t.tenant_id, $2, $3, $4, $4, $5, $6, $7, $18::jsonb, $8, $17, "
    "        " SLA_VALUES(10, 11, 12, 13, 14, 15) " FROM t RETURNING *),"
    " a AS (INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)"
    "       SELECT k.tenant_id, k.number, unnest($9::bigint[]) FROM k),"
    " e AS (INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
    "       SELECT k.tenant_id, k.number, 'created', jsonb_build_object('title', k.title,"
    "        'priority', k.priority, 'status', k.status, 'side', k.side,"
    "        'category', k.category, 'requester', k.requester,"
    "        'asset_ids', $9::bigint[], 'business_impact', k.business_impact) FROM k),"
    " au AS (INSERT INTO audit_log (tenant_id, action, target, detail)"
    "        SELECT k.tenant_id, 'ticket.create', 'ticket:' || t.ticket_prefix || '-' || k.number,"
    "         jsonb_strip_nulls(jsonb_build_object('priority', k.priority,"
    "          'business_impact', k.business_impact)) FROM k, t),"
    " d AS (SELECT k.number, k.version, app.ticket_doc(k, t, $9::bigint[])::text AS doc"
    "       FROM k, t),"
    " i AS (UPDATE idempotency_keys x SET response_status = 201,"
    "        response_body = (SELECT doc FROM d)"
    "       FROM t WHERE x.tenant_id = t.tenant_id AND x.subject = app.principal_sub()"
    "        AND x.key = $16)"
    " SELECT number, version, doc FROM d",
    CREATE_NPARAMS
};

/* sql_ticket_lock's columns. */
enum {
    LOCK_VERSION, LOCK_STATUS, LOCK_TITLE, LOCK_DESCRIPTION, LOCK_CATEGORY, LOCK_IMPACT,
    LOCK_URGENCY, LOCK_SIDE, LOCK_TIER, LOCK_ASSIGNEE, LOCK_DOC, LOCK_FLOOR
};

/* $1 slug, $2 prefix, $3 number: the row, locked for the update. */
static const msp_sql_t sql_ticket_lock = {
    "ticket_lock",
    "SELECT k.version, k.status, k.title, k.description, k.category, k.impact, k.urgency,"
    " k.side, k.tier, k.assignee,"
    " app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text,"
    " k.business_impact ->> 'priority'"
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer"
    " FOR UPDATE OF k",
    3
};

/* sql_ticket_update's parameters: slot i is $(i + 1).  The fields take
 * their new values; CHANGES is the change as JSON. */
enum {
    UPDATE_SLUG, UPDATE_NUMBER, UPDATE_VERSION, UPDATE_TITLE, UPDATE_DESCRIPTION,
    UPDATE_CATEGORY, UPDATE_IMPACT, UPDATE_URGENCY, UPDATE_PRIORITY, UPDATE_STATUS,
    UPDATE_SIDE, UPDATE_TIER, UPDATE_ASSIGNEE, UPDATE_CHANGES,
    UPDATE_CLOCKS,                                        /* $15..$20 */
    UPDATE_NPARAMS = UPDATE_CLOCKS + MSP_TICKET_SLA_PARAMS
};

static const msp_sql_t sql_ticket_update = {
    "ticket_update",
    "WITH t AS (SELECT * FROM tenants WHERE slug = $1),"
    " k AS (UPDATE tickets k SET title = $4, description = $5, category = $6, impact = $7,"
    "        urgency = $8, priority = $9, status = $10, side = $11, tier = $12,"
    "        assignee = $13, version = k.version + 1, updated_at = now(),"
    "        (" SLA_COLUMNS ") = (" SLA_VALUES(15, 16, 17, 18, 19, 20) "),"
    "        resolved_at = CASE WHEN $10 = 'resolved' AND k.status <> 'resolved' THEN now()"
    "                           WHEN $10 IN ('resolved', 'closed') THEN k.resolved_at END,"
    "        closed_at = CASE WHEN $10 = 'closed' THEN coalesce(k.closed_at, now()) END"
    "       FROM t WHERE k.tenant_id = t.tenant_id AND k.number = $2::integer"
    "        AND k.version = $3::integer RETURNING k.*),"
    " e AS (INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
    "       SELECT k.tenant_id, k.number, 'updated', $14::jsonb FROM k),"
    " au AS (INSERT INTO audit_log (tenant_id, action, target, detail)"
    "        SELECT k.tenant_id, 'ticket.update', 'ticket:' || t.ticket_prefix || '-' || k.number,"
    "         $14::jsonb FROM k, t)"
    " SELECT k.version, app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text"
    " FROM k, t",
    UPDATE_NPARAMS
};

/* ---- POST ---------------------------------------------------------- */

typedef struct {
    const char *slug;
    msp_step_t  create;           /* the step creating it, built up front */
    char        request_sha[MSP_SHA256_HEX_LEN + 1];
} create_state_t;

/* The tenant, then who may open a ticket there and for whom: 0 when the
 * request may go on, else the reply is made. */
static int
may_create(msp_call_t *call, const PGresult *tenant_res, msp_reply_t *reply,
           msp_outcome_t *out)
{
    create_state_t *st = call->state;
    msp_tenant_t t;
    switch (msp_tenant_read(call, tenant_res, &t)) {
    case 0:
        *out = msp_reply_no_tenant(call, reply);
        return -1;
    case -1:
        *out = msp_reply_out_of_memory(reply);
        return -1;
    }
    if (!msp_can_create_ticket(&t.as)) {
        *out = msp_reply_forbidden(call, reply, "Auditors read; they do not open tickets.");
        return -1;
    }
    const char *requester = st->create.stmts[0].params[CREATE_REQUESTER];
    if (msp_sees_own_tickets_only(&t.as) && strcmp(requester, t.as.sub) != 0) {
        msp_errors_t errs = { 0 };
        msp_errors_add(&errs, "requester", "a requester opens tickets for themselves only");
        *out = msp_reply_invalid(call, reply, 422, "Invalid ticket", &errs);
        return -1;
    }
    return 0;
}

/* A document as the create stored it: shown as of its creation, to the
 * creator and to a retry alike. */
static msp_outcome_t
reply_created(msp_call_t *call, msp_reply_t *reply, const char *slug, const char *stored,
              size_t stored_len, const char *version)
{
    const char *doc = msp_ticket_sla_doc(call, stored, stored_len, 0);
    json_t *parsed = doc ? json_loads(doc, 0, NULL) : NULL;
    if (parsed == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    /* The id is the document's; the Location is where to GET it. */
    const char *id = json_string_value(json_object_get(parsed, "id"));
    reply->location = id ? msp_printf(call, "%s/v1/tenants/%s/tickets/%s",
                                      call->base_url ? call->base_url : "", slug, id)
                         : NULL;
    if (version == NULL) {
        json_t *v = json_object_get(parsed, "version");
        version = json_is_integer(v) ? msp_printf(call, "%lld", (long long) json_integer_value(v))
                                     : NULL;
    }
    reply->etag = version ? msp_ticket_etag(call, version) : NULL;
    json_decref(parsed);
    return msp_reply_json(call, reply, 201, doc, strlen(doc));
}

static msp_outcome_t
ticket_created(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    (void) next;
    create_state_t *st = call->state;
    const PGresult *err = msp_first_error(res, nres);
    const char *state = err ? PQresultErrorField(err, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strcmp(state, "23503") == 0) {
        msp_errors_t errs = { 0 };
        msp_errors_add(&errs, "asset_ids", "names an asset this tenant does not have");
        return msp_reply_invalid(call, reply, 422, "Invalid ticket", &errs);
    }
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    return reply_created(call, reply, st->slug, PQgetvalue(res[0], 0, 2),
                         (size_t) PQgetlength(res[0], 0, 2), PQgetvalue(res[0], 0, 1));
}

/* The business impact of the ticket's assets (app.business_impact, NULL
 * when it names none): the priority raised to its service's floor, and
 * why, stored with it. */
static int
raise_priority(msp_call_t *call, const PGresult *impact)
{
    create_state_t *st = call->state;
    msp_stmt_t *s = &st->create.stmts[0];
    if (impact == NULL || PQntuples(impact) != 1 || PQgetisnull(impact, 0, 0)) {
        return 0;
    }
    json_t *why = json_loads(PQgetvalue(impact, 0, 0), 0, NULL);
    const char *floor = json_string_value(json_object_get(why, "priority"));
    s->params[CREATE_PRIORITY] = msp_priority_at_least(s->params[CREATE_PRIORITY], floor);
    json_decref(why);
    s->params[CREATE_BUSINESS_IMPACT] = msp_strndup(call, PQgetvalue(impact, 0, 0),
                                                    (size_t) PQgetlength(impact, 0, 0));
    return s->params[CREATE_BUSINESS_IMPACT] == NULL ? -1 : 0;
}

/* Where the ticket goes (the escalation policy's intake for its
 * category), its priority with its business impact, and its clocks from
 * its tenant's calendar and policy: all are stored by the INSERT itself. */
static msp_outcome_t
create_with_clocks(msp_call_t *call, const PGresult *inputs, const PGresult *impact,
                   msp_step_t *next, msp_reply_t *reply)
{
    create_state_t *st = call->state;
    if (PQntuples(inputs) != 1) {
        return msp_reply_no_tenant(call, reply);
    }
    if (raise_priority(call, impact) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    const msp_sla_config_t *cfg = msp_ticket_sla_config(inputs, NULL, 0);
    if (cfg == NULL || cfg->escalation == NULL) {
        return msp_reply_sla_failure(call, reply);
    }
    const char *side = msp_esc_intake_side(cfg->escalation,
                                           st->create.stmts[0].params[CREATE_CATEGORY]);
    msp_ticket_sla_t clocks;
    json_t *created = json_pack("[s, s, s, s, b, n, n]", "created", "new", side,
                                st->create.stmts[0].params[CREATE_PRIORITY], 0);
    int rc = created ? msp_ticket_sla_compute(call, inputs, created, &clocks) : -1;
    json_decref(created);
    if (rc != 0) {
        return msp_reply_sla_failure(call, reply);
    }
    *next = st->create;
    msp_ticket_sla_bind(&next->stmts[0], CREATE_CLOCKS, &clocks);
    /* side lives in the worker's cached configuration: keep a copy. */
    if ((next->stmts[0].params[CREATE_SIDE] = msp_strndup(call, side, strlen(side))) == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    return MSP_NEXT;
}

static msp_outcome_t
clocks_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    msp_outcome_t out;
    if (may_create(call, res[0], reply, &out) != 0
        || !msp_results_found(call, reply, res, nres, -1, NULL, NULL, &out))
    {
        return out;
    }
    return create_with_clocks(call, res[1], nres > 2 ? res[2] : NULL, next, reply);
}

static msp_outcome_t
key_claimed(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    create_state_t *st = call->state;
    msp_outcome_t out;
    if (may_create(call, res[0], reply, &out) != 0
        || !msp_results_found(call, reply, res, nres, -1, NULL, NULL, &out))
    {
        return out;
    }
    const char *stored;
    size_t stored_len;
    switch (msp_idempotency_claimed(call, reply, res[1], res[2], st->request_sha, &stored,
                                    &stored_len, &out)) {
    case MSP_KEY_OURS:
        return create_with_clocks(call, res[3], nres > 4 ? res[4] : NULL, next, reply);
    case MSP_KEY_STORED:
        return reply_created(call, reply, st->slug, stored, stored_len, NULL);
    default:
        return out;
    }
}

/* $1 slug, $2 the asset ids: the business impact of a ticket on them. */
static const msp_sql_t sql_business_impact = {
    "business_impact",
    "SELECT app.business_impact($1, $2::bigint[])::text",
    2
};

/* Appends the lookup of the business impact to the step, for a ticket
 * that names assets (most name none, and pay nothing for it). */
static void
business_impact_stmt(msp_step_t *step, const char *slug, const char *assets, size_t nassets)
{
    if (nassets == 0) {
        return;
    }
    msp_stmt_t *s = &step->stmts[step->nstmts++];
    s->sql = &sql_business_impact;
    s->params[0] = slug;
    s->params[1] = assets;
}

static const char *
category_of(msp_body_t *b)
{
    const char *category = "general";
    if (msp_body_string(b, "category", 0, 1, 40, &category) == 1) {
        int ok = category[0] >= 'a' && category[0] <= 'z';
        for (const char *c = category; ok && *c; c++) {
            ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
        }
        if (!ok) {
            msp_errors_add(b->errs, "category",
                           "must be lower-case letters, digits and '_', starting with a letter");
        }
    }
    return category;
}

msp_outcome_t
msp_ticket_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const msp_principal_t *p = call->principal;
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    if (call->idempotency_key != NULL && !msp_idempotency_key_valid(call->idempotency_key)) {
        return msp_reply_bad_idempotency_key(call, reply);
    }

    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why;
    if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
        return msp_reply_malformed_body(call, reply, why);
    }

    const char *title = NULL, *description = "", *impact = NULL, *urgency = NULL;
    const char *requester = p->sub;
    long long assets[20];
    size_t nassets = 0;
    msp_body_string(&b, "title", 1, 1, 200, &title);
    msp_body_string(&b, "description", 0, 0, 20000, &description);
    const char *category = category_of(&b);
    msp_body_enum(&b, "impact", 1, msp_levels, &impact);
    msp_body_enum(&b, "urgency", 1, msp_levels, &urgency);
    msp_body_string(&b, "requester", 0, 1, 200, &requester);
    msp_body_id_array(&b, "asset_ids", 20, assets, &nassets);

    if (msp_body_finish(&b)) {
        msp_outcome_t out = msp_reply_invalid(call, reply, 422, "Invalid ticket", &errs);
        msp_body_free(&b);
        return out;
    }

    /* Copy what the statements need out of the body before freeing it. */
    create_state_t *st = msp_alloc(call, sizeof(*st));
    /* "{", up to 20 digits and a comma per id, "}", NUL. */
    char *asset_list = msp_alloc(call, 3 + nassets * 21);
    if (st == NULL || asset_list == NULL) {
        msp_body_free(&b);
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;
    st->slug = slug;

    char *a = asset_list;
    *a++ = '{';
    for (size_t i = 0; i < nassets; i++) {
        a += sprintf(a, "%s%lld", i ? "," : "", assets[i]);
    }
    strcpy(a, "}");

    msp_stmt_t *s = &st->create.stmts[0];
    s->sql = &sql_ticket_create;
    s->params[CREATE_SLUG] = slug;
    s->params[CREATE_TITLE] = msp_strndup(call, title, strlen(title));
    s->params[CREATE_DESCRIPTION] = msp_strndup(call, description, strlen(description));
    s->params[CREATE_CATEGORY] = msp_strndup(call, category, strlen(category));
    s->params[CREATE_IMPACT] = impact;
    s->params[CREATE_URGENCY] = urgency;
    s->params[CREATE_PRIORITY] = msp_priority(impact, urgency);
    s->params[CREATE_REQUESTER] = msp_strndup(call, requester, strlen(requester));
    s->params[CREATE_ASSETS] = asset_list;
    s->params[CREATE_KEY] = call->idempotency_key;
    st->create.nstmts = 1;
    st->create.last = 1;
    st->create.then = ticket_created;
    msp_body_free(&b);
    if (s->params[CREATE_TITLE] == NULL || s->params[CREATE_DESCRIPTION] == NULL
        || s->params[CREATE_CATEGORY] == NULL || s->params[CREATE_REQUESTER] == NULL)
    {
        return msp_reply_out_of_memory(reply);
    }

    msp_step_tenant(first, slug);
    if (call->idempotency_key == NULL) {
        msp_stmt_tenant_sla_inputs(&first->stmts[1], slug);
        first->nstmts = 2;
        business_impact_stmt(first, slug, asset_list, nassets);
        first->then = clocks_read;
        return MSP_NEXT;
    }

    /* The request's identity for its key: method, slug and body (the
     * slug alone stands for the path, as when keys were first stored). */
    if (msp_idempotency_request(call, slug, st->request_sha) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    msp_stmt_idempotency(first, 1, slug, call->idempotency_key, st->request_sha);
    msp_stmt_tenant_sla_inputs(&first->stmts[3], slug);
    first->nstmts = 4;
    business_impact_stmt(first, slug, asset_list, nassets);
    first->then = key_claimed;
    return MSP_NEXT;
}

/* ---- PATCH --------------------------------------------------------- */

enum { F_TITLE, F_DESCRIPTION, F_CATEGORY, F_IMPACT, F_URGENCY, F_STATUS, F_SIDE, F_TIER,
       F_ASSIGNEE, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "title", "description", "category", "impact", "urgency", "status", "side", "tier",
    "assignee"
};

typedef struct {
    const char *slug;
    const char *number;
    const char *if_match;          /* the header: "*", or the ETag the client read */
    int         given[F_COUNT];    /* present in the body */
    const char *value[F_COUNT];    /* new value (NULL for a null tier/assignee) */
} update_state_t;


static msp_outcome_t
ticket_updated(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    if (PQntuples(res[0]) != 1) {
        /* The row was locked since the first step: this cannot happen. */
        return msp_reply_problem(call, reply, 500, NULL, NULL,
                                 "The ticket changed unexpectedly.", NULL);
    }
    const char *doc = msp_ticket_sla_doc(call, PQgetvalue(res[0], 0, 1),
                                         (size_t) PQgetlength(res[0], 0, 1), 0);
    if (doc == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    reply->etag = msp_ticket_etag(call, PQgetvalue(res[0], 0, 0));
    return msp_reply_json(call, reply, 200, doc, strlen(doc));
}

/* Each field's column in sql_ticket_lock's result, and its parameter in
 * sql_ticket_update's. */
static const int lock_column[F_COUNT] = {
    LOCK_TITLE, LOCK_DESCRIPTION, LOCK_CATEGORY, LOCK_IMPACT, LOCK_URGENCY, LOCK_STATUS,
    LOCK_SIDE, LOCK_TIER, LOCK_ASSIGNEE
};
static const int update_slot[F_COUNT] = {
    UPDATE_TITLE, UPDATE_DESCRIPTION, UPDATE_CATEGORY, UPDATE_IMPACT, UPDATE_URGENCY,
    UPDATE_STATUS, UPDATE_SIDE, UPDATE_TIER, UPDATE_ASSIGNEE
};

static msp_outcome_t
ticket_locked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
              msp_reply_t *reply)
{
    update_state_t *st = call->state;
    /* Seen first, then the role there: only those who may change the
     * ticket lock it (row-level security keeps the others' FOR UPDATE
     * from finding it). */
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    if (!msp_can_update_ticket(&t.as)) {
        return msp_reply_forbidden(call, reply, "This role may read tickets and comment on "
                                   "them but not change them.");
    }
    const PGresult *row = res[2], *inputs = res[3];
    if (PQntuples(row) != 1) {
        return msp_reply_no_ticket(call, reply);
    }
    const char *version = PQgetvalue(row, 0, LOCK_VERSION);
    if (msp_if_match(st->if_match, version) != 1) {
        reply->etag = msp_ticket_etag(call, version);
        return msp_reply_stale(call, reply, "the ticket");
    }

    /* Start from the current values; apply what the body gives. */
    const char *old[F_COUNT], *now[F_COUNT];
    for (int f = 0; f < F_COUNT; f++) {
        old[f] = PQgetisnull(row, 0, lock_column[f]) ? NULL : PQgetvalue(row, 0, lock_column[f]);
        now[f] = st->given[f] ? st->value[f] : old[f];
    }
    /* Giving work to someone moves a new ticket to assigned. */
    if (st->given[F_ASSIGNEE] && now[F_ASSIGNEE] != NULL && !st->given[F_STATUS]
        && strcmp(old[F_STATUS], "new") == 0)
    {
        now[F_STATUS] = "assigned";
    }
    const char *why;
    if (!msp_status_transition_ok(old[F_STATUS], now[F_STATUS], &why)) {
        msp_errors_t errs = { 0 };
        msp_errors_add(&errs, "status", "cannot go from %s to %s: %s", old[F_STATUS],
                       now[F_STATUS], why);
        return msp_reply_invalid(call, reply, 422, "Invalid status change", &errs);
    }

    json_t *changes = json_object();
    for (int f = 0; f < F_COUNT; f++) {
        int same = (old[f] == NULL && now[f] == NULL)
                   || (old[f] != NULL && now[f] != NULL && strcmp(old[f], now[f]) == 0);
        if (!same) {
            json_object_set_new(changes, field_names[f],
                                json_pack("{s:s?, s:s?}", "from", old[f], "to", now[f]));
        }
    }
    /* The priority follows impact and urgency, never below its business
     * impact's floor; its history drives the SLA. */
    const char *floor = PQgetisnull(row, 0, LOCK_FLOOR) ? NULL : PQgetvalue(row, 0, LOCK_FLOOR);
    const char *old_priority = msp_priority_at_least(msp_priority(old[F_IMPACT], old[F_URGENCY]),
                                                     floor);
    const char *new_priority = msp_priority_at_least(msp_priority(now[F_IMPACT], now[F_URGENCY]),
                                                     floor);
    int new_priority_given = json_object_size(changes) > 0
                             && strcmp(old_priority, new_priority) != 0;
    if (new_priority_given) {
        json_object_set_new(changes, "priority",
                            json_pack("{s:s, s:s}", "from", old_priority, "to", new_priority));
    }
    if (json_object_size(changes) == 0) {
        json_decref(changes);      /* nothing changes: the ticket as it is */
        reply->etag = msp_ticket_etag(call, version);
        msp_sla_inputs_t in;
        const char *shown = msp_ticket_sla_inputs(inputs, &in) != 0
                            || msp_ticket_sla_config(inputs, NULL, 0) == NULL ? NULL
            : msp_ticket_sla_doc(call, PQgetvalue(row, 0, LOCK_DOC),
                                 (size_t) PQgetlength(row, 0, LOCK_DOC), in.now);
        if (shown == NULL) {
            return msp_reply_sla_failure(call, reply);
        }
        return msp_reply_json(call, reply, 200, shown, strlen(shown));
    }
    char *changes_text = json_dumps(changes, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(changes);
    const char *changes_param = changes_text ? msp_strndup(call, changes_text,
                                                           strlen(changes_text)) : NULL;
    free(changes_text);

    /* Copy the values out of the result, which the driver frees. */
    msp_stmt_t *s = &next->stmts[0];
    s->sql = &sql_ticket_update;
    s->params[UPDATE_SLUG] = st->slug;
    s->params[UPDATE_NUMBER] = st->number;
    s->params[UPDATE_VERSION] = msp_strndup(call, version, strlen(version));
    for (int f = 0; f < F_COUNT; f++) {
        s->params[update_slot[f]] = now[f] ? msp_strndup(call, now[f], strlen(now[f])) : NULL;
    }
    s->params[UPDATE_PRIORITY] = new_priority;
    s->params[UPDATE_CHANGES] = changes_param;
    if (changes_param == NULL || s->params[UPDATE_VERSION] == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    /* The clocks with this change, stored by the update itself; the
     * history entry is the one its event will make. */
    msp_ticket_sla_t clocks;
    json_t *change = json_pack("[s, o, o, o, b, n, n]", "updated",
        strcmp(old[F_STATUS], now[F_STATUS]) != 0 ? json_string(now[F_STATUS]) : json_null(),
        json_null(),                  /* the side moves by escalation only */
        new_priority_given ? json_string(new_priority) : json_null(), 0);
    int rc = change ? msp_ticket_sla_compute(call, inputs, change, &clocks) : -1;
    json_decref(change);
    if (rc != 0) {
        return msp_reply_sla_failure(call, reply);
    }
    msp_ticket_sla_bind(s, UPDATE_CLOCKS, &clocks);
    next->nstmts = 1;
    next->last = 1;
    next->then = ticket_updated;
    return MSP_NEXT;
}

msp_outcome_t
msp_ticket_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    if (call->if_match == NULL) {
        return msp_reply_if_match_required(call, reply, "the ticket");
    }
    update_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;
    st->slug = slug;
    st->number = number;
    st->if_match = call->if_match;
    if (msp_if_match(st->if_match, NULL) < 0) {
        return msp_reply_bad_if_match(call, reply);
    }

    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why;
    if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
        return msp_reply_malformed_body(call, reply, why);
    }

    const char **v = st->value;
    st->given[F_TITLE] = msp_body_string(&b, "title", 0, 1, 200, &v[F_TITLE]) == 1;
    st->given[F_DESCRIPTION] = msp_body_string(&b, "description", 0, 0, 20000,
                                               &v[F_DESCRIPTION]) == 1;
    if (msp_body_has(&b, "category")) {
        v[F_CATEGORY] = category_of(&b);
        st->given[F_CATEGORY] = 1;
    }
    st->given[F_IMPACT] = msp_body_enum(&b, "impact", 0, msp_levels, &v[F_IMPACT]) == 1;
    st->given[F_URGENCY] = msp_body_enum(&b, "urgency", 0, msp_levels, &v[F_URGENCY]) == 1;
    st->given[F_STATUS] = msp_body_enum(&b, "status", 0, msp_statuses, &v[F_STATUS]) == 1;
    /* Work changes hands with a note, or not at all. */
    if (msp_body_has(&b, "side")) {
        msp_errors_add(&errs, "side", "moves only with an escalation (a handoff): "
                       "POST .../tickets/{id}/escalations");
    }
    if (msp_body_has(&b, "tier")) {
        msp_errors_add(&errs, "tier", "moves only with an escalation (a functional one): "
                       "POST .../tickets/{id}/escalations");
    }
    st->given[F_ASSIGNEE] = msp_body_nullable_string(&b, "assignee", 1, 200,
                                                     &v[F_ASSIGNEE]) == 1;

    int invalid = msp_body_finish(&b);
    int any = 0;
    for (int f = 0; f < F_COUNT; f++) {
        any |= st->given[f];
        /* The body is freed below: keep copies. */
        if (st->given[f] && v[f] != NULL) {
            v[f] = msp_strndup(call, v[f], strlen(v[f]));
        }
    }
    msp_body_free(&b);
    if (!invalid && !any) {
        msp_errors_add(&errs, "", "nothing to change: give at least one of "
                       TICKET_CHANGE_FIELDS);
        invalid = 1;
    }
    if (invalid) {
        return msp_reply_invalid(call, reply, 422, "Invalid change", &errs);
    }

    msp_step_tenant(first, slug);
    const msp_sql_t *const by_id[] = { &msp_sql_ticket_visible, &sql_ticket_lock };
    for (int i = 0; i < 2; i++) {
        msp_stmt_ticket(&first->stmts[1 + i], by_id[i], slug, prefix, number);
    }
    msp_stmt_ticket_sla_inputs(&first->stmts[3], slug, prefix, number);
    first->nstmts = 4;
    first->then = ticket_locked;
    return MSP_NEXT;
}
