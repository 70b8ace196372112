/*
 * satisfaction.c - the requester's rating of a resolved ticket:
 * POST, GET and PATCH /v1/tenants/{slug}/tickets/{id}/satisfaction, and
 * GET /v1/tenants/{slug}/satisfaction (a tenant's, by the days given).
 *
 * A ticket is rated once (1 to 5 and a comment), by its requester, from
 * its resolution until the tenant file's reporting.satisfaction_days
 * after it; the rater may change the rating until then (ETag and
 * If-Match), never after.  Staff of both sides read every rating, a
 * requester its own.  Row-level security holds all of it in the database
 * (migrations/0021); the first step here reads where the ticket stands so
 * that each refusal has its own clear answer.  The rating, its event
 * (governance_events) and its audit row are one statement.
 */
#include "escalations/escalations.h"
#include "governance/governance.h"
#include "http/idempotency.h"
#include "http/if_match.h"
#include "http/json_body.h"
#include "http/page.h"
#include "http/params.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_rules.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* $1 slug, $2 prefix, $3 number: app.rating_state's row. */
static const msp_sql_t sql_rating_state = {
    "rating_state",
    "SELECT resolved, requested, open_until, open, rated_version, rated_by"
    " FROM app.rating_state($1, $2, $3::integer)",
    3
};
enum { ST_RESOLVED, ST_REQUESTED, ST_OPEN_UNTIL, ST_OPEN, ST_VERSION, ST_RATED_BY };

/* $4 score, $5 comment, $6 Idempotency-Key or NULL. */
static const msp_sql_t sql_rate_ticket = {
    "rate_ticket",
    "SELECT version, doc::text FROM app.rate_ticket($1, $2, $3::integer, $4::integer, $5, $6)",
    6
};

/* $4 the version changed from, $5 score, $6 comment (NULL: unchanged),
 * $7 the change as JSON. */
static const msp_sql_t sql_update_rating = {
    "update_rating",
    "SELECT version, doc::text FROM app.update_rating($1, $2, $3::integer, $4::integer,"
    " $5::integer, $6, $7::jsonb)",
    7
};

/* $1 slug, $2 prefix, $3 number. */
static const msp_sql_t sql_rating = {
    "rating",
    "SELECT app.rating_doc(r, t)::text, r.version"
    " FROM tenants t JOIN satisfaction_ratings r ON r.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND r.ticket_number = $3::integer",
    3
};

/* $1 slug, $2 from, $3 to (days of the tenant's calendar, [from, to)),
 * $4 after (a ticket number) or NULL, $5 rows, $6 as_of or NULL (the
 * ratings given by then, as they stood then).  By ticket. */
static const msp_sql_t sql_tenant_ratings = {
    "tenant_ratings",
    "SELECT app.rating_doc(CASE WHEN $6::timestamptz IS NULL THEN r"
    "                      ELSE app.rating_as_of(r, $6::timestamptz) END, t)::text,"
    " r.ticket_number"
    " FROM tenants t JOIN satisfaction_ratings r ON r.tenant_id = t.tenant_id"
    " WHERE t.slug = $1"
    "   AND r.created_at >= ($2::date)::timestamp AT TIME ZONE t.timezone"
    "   AND r.created_at < ($3::date)::timestamp AT TIME ZONE t.timezone"
    "   AND ($6::timestamptz IS NULL OR r.created_at <= $6::timestamptz)"
    "   AND ($4::integer IS NULL OR r.ticket_number > $4::integer)"
    " ORDER BY r.ticket_number LIMIT $5::integer",
    6
};

static msp_outcome_t
no_rating(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "This ticket has no rating.");
}

static msp_outcome_t
conflict(msp_call_t *call, msp_reply_t *reply, const char *detail)
{
    return msp_reply_problem(call, reply, 409, "conflict", "Conflict", detail, NULL);
}

/* The 422 for a bad body. */
static msp_outcome_t
invalid(msp_call_t *call, msp_reply_t *reply, const msp_errors_t *errs)
{
    return msp_reply_invalid(call, reply, 422, "Invalid rating", errs);
}

/* A rating as written, to the rater and to a retry alike: its ETag, and
 * where to GET (and PATCH) it. */
static msp_outcome_t
reply_rating(msp_call_t *call, msp_reply_t *reply, int status, const char *doc, size_t len)
{
    json_t *parsed = json_loadb(doc, len, 0, NULL);
    json_t *version = json_object_get(parsed, "version");
    if (json_is_integer(version)) {
        reply->etag = msp_printf(call, "\"%lld\"", (long long) json_integer_value(version));
    }
    json_decref(parsed);
    return msp_reply_json(call, reply, status, doc, len);
}

/*
 * Where the ticket stands for a rating by sub (res: app.rating_state's
 * row): the refusal, with its status in *status, or NULL when sub may
 * write.  `creating`: whether a rating is to be made (else changed).
 */
static const char *
refusal(msp_call_t *call, const PGresult *res, const char *sub, int creating, int *status)
{
    int rated = !PQgetisnull(res, 0, ST_VERSION);
    *status = 409;
    if (creating) {
        if (*PQgetvalue(res, 0, ST_REQUESTED) != 't') {
            *status = 403;
            return "A ticket is rated by its requester.";
        }
        if (rated) {
            return "This ticket is rated already; its rater may change the rating with PATCH "
                   "(If-Match) while it is open.";
        }
        if (*PQgetvalue(res, 0, ST_RESOLVED) != 't') {
            return "The ticket is not resolved: it is rated once it is.";
        }
    } else {
        if (!rated) {
            *status = 404;
            return "This ticket has no rating.";
        }
        if (strcmp(PQgetvalue(res, 0, ST_RATED_BY), sub) != 0) {
            *status = 403;
            return "A rating is changed by the one who gave it.";
        }
    }
    if (*PQgetvalue(res, 0, ST_OPEN) != 't') {
        return msp_printf(call, creating ? "The time to rate this ticket ended at %s."
                                          : "The time to change this rating ended at %s.",
                                 PQgetvalue(res, 0, ST_OPEN_UNTIL));
    }
    return NULL;
}

/* The reply for a refusal. */
static msp_outcome_t
refuse(msp_call_t *call, msp_reply_t *reply, int status, const char *why)
{
    return status == 409 ? conflict(call, reply, why)
         : status == 404 ? no_rating(call, reply)
         : msp_reply_forbidden(call, reply, why);
}

/* ---- POST: rate ------------------------------------------------------- */

typedef struct {
    msp_step_t rate;           /* the step writing the rating, built up front */
    char       request_sha[MSP_SHA256_HEX_LEN + 1];
} rate_state_t;

static msp_outcome_t
rated(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    if (nres > 0 && PQresultStatus(res[0]) == PGRES_TUPLES_OK && PQntuples(res[0]) == 0) {
        /* refused in the statement: a twin rated it, or the window closed, since */
        return conflict(call, reply, "The ticket could not be rated: it was rated, or its "
                                     "window closed, meanwhile.");
    }
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, no_rating, NULL, &early)) {
        return early;
    }
    return reply_rating(call, reply, 201, PQgetvalue(res[0], 0, 1),
                        (size_t) PQgetlength(res[0], 0, 1));
}

static msp_outcome_t
rating_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    rate_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    if (call->idempotency_key != NULL) {
        const char *stored;
        size_t stored_len;
        switch (msp_idempotency_claimed(call, reply, res[2], res[3], st->request_sha, &stored,
                                        &stored_len, &early)) {
        case MSP_KEY_OURS:
            break;
        case MSP_KEY_STORED:
            return reply_rating(call, reply, 201, stored, stored_len);
        default:
            return early;
        }
    }
    if (strcmp(t.as.role, "auditor") == 0) {
        return msp_reply_forbidden(call, reply, "Auditors read; they do not rate tickets.");
    }
    int status;
    const char *why = refusal(call, res[1], t.as.sub, 1, &status);
    if (why != NULL) {
        return refuse(call, reply, status, why);
    }
    *next = st->rate;
    return MSP_NEXT;
}

/* Reads score (required on a create) and comment; 0, or -1 with errs. */
static int
read_rating(msp_body_t *b, int creating, long long *score, const char **comment)
{
    msp_body_integer(b, "score", creating, 1, 5, score);
    msp_body_string(b, "comment", 0, 0, 2000, comment);
    return msp_body_finish(b) ? -1 : 0;
}

msp_outcome_t
msp_rating_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
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
    long long score = 0;
    const char *comment = "";
    int bad = read_rating(&b, 1, &score, &comment);
    const char *comment_copy = bad ? NULL : msp_strndup(call, comment, strlen(comment));
    msp_body_free(&b);
    if (bad) {
        return invalid(call, reply, &errs);
    }
    rate_state_t *st = msp_alloc(call, sizeof(*st));
    const char *score_text = msp_printf(call, "%lld", score);
    if (st == NULL || comment_copy == NULL || score_text == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;

    msp_stmt_t *s = &st->rate.stmts[0];
    msp_stmt_ticket(s, &sql_rate_ticket, slug, prefix, number);
    s->params[3] = score_text;
    s->params[4] = comment_copy;
    s->params[5] = call->idempotency_key;
    st->rate.nstmts = 1;
    st->rate.last = 1;
    st->rate.then = rated;

    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[first->nstmts++], &sql_rating_state, slug, prefix, number);
    const char *path = msp_printf(call, "/v1/tenants/%s/tickets/%s-%s/satisfaction",
                                  slug, prefix, number);
    if (msp_step_idempotency(call, first, slug, path, st->request_sha) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    first->then = rating_checked;
    return MSP_NEXT;
}

/* ---- GET: one ticket's rating ---------------------------------------- */

static msp_outcome_t
rating_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)
        || !msp_results_found(call, reply, res, nres, 2, no_rating, NULL, &early))
    {
        return early;
    }
    reply->etag = msp_printf(call, "\"%s\"", PQgetvalue(res[2], 0, 1));
    return msp_reply_json(call, reply, 200, PQgetvalue(res[2], 0, 0),
                          (size_t) PQgetlength(res[2], 0, 0));
}

msp_outcome_t
msp_rating_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[1], &msp_sql_ticket_visible, slug, prefix, number);
    msp_stmt_ticket(&first->stmts[2], &sql_rating, slug, prefix, number);
    first->nstmts = 3;
    first->read_only = 1;
    first->then = rating_read;
    return MSP_NEXT;
}

/* ---- PATCH: change it while it is open ------------------------------- */

typedef struct {
    const char *if_match;
    msp_step_t  update;        /* the step changing it, built up front */
} change_state_t;

static msp_outcome_t
stale_rating(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_stale(call, reply, "the rating");
}

static msp_outcome_t
rating_changed(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, stale_rating, NULL, &early)) {
        return early;
    }
    return reply_rating(call, reply, 200, PQgetvalue(res[0], 0, 1),
                        (size_t) PQgetlength(res[0], 0, 1));
}

static msp_outcome_t
rating_found(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    change_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    int status;
    const char *why = refusal(call, res[1], t.as.sub, 0, &status);
    if (why != NULL) {
        return refuse(call, reply, status, why);
    }
    const char *version = PQgetvalue(res[1], 0, ST_VERSION);
    if (msp_if_match(st->if_match, version) != 1) {
        reply->etag = msp_printf(call, "\"%s\"", version);
        return stale_rating(call, reply);
    }
    /* the results go when this returns: the next step keeps a copy */
    const char *from = msp_strndup(call, version, strlen(version));
    if (from == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    *next = st->update;
    next->stmts[0].params[3] = from;
    return MSP_NEXT;
}

msp_outcome_t
msp_rating_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    if (call->if_match == NULL) {
        return msp_reply_if_match_required(call, reply, "the rating");
    }
    if (msp_if_match(call->if_match, NULL) < 0) {
        return msp_reply_bad_if_match(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why;
    if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
        return msp_reply_malformed_body(call, reply, why);
    }
    long long score = 0;
    const char *comment = NULL;
    int has_score = msp_body_has(&b, "score");
    int bad = read_rating(&b, 0, &score, &comment);
    if (!bad && !has_score && comment == NULL) {
        msp_errors_add(&errs, "", "name at least one of score, comment");
        bad = 1;
    }
    /* the change as JSON, for the event and the audit row */
    json_t *change = bad ? NULL : json_object();
    if (change != NULL) {
        json_object_set_new(change, "score", has_score ? json_integer(score) : NULL);
        json_object_set_new(change, "comment", comment ? json_string(comment) : NULL);
    }
    char *change_text = change ? json_dumps(change, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(change);
    const char *comment_copy = comment ? msp_strndup(call, comment, strlen(comment)) : NULL;
    const char *change_copy = change_text ? msp_strndup(call, change_text, strlen(change_text))
                                          : NULL;
    free(change_text);
    msp_body_free(&b);
    if (bad) {
        return invalid(call, reply, &errs);
    }
    change_state_t *st = msp_alloc(call, sizeof(*st));
    const char *score_text = has_score ? msp_printf(call, "%lld", score) : NULL;
    if (st == NULL || change_copy == NULL || (comment && comment_copy == NULL)
        || (has_score && score_text == NULL))
    {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    st->if_match = call->if_match;
    call->state = st;

    msp_stmt_t *s = &st->update.stmts[0];
    msp_stmt_ticket(s, &sql_update_rating, slug, prefix, number);
    s->params[4] = score_text;
    s->params[5] = comment_copy;
    s->params[6] = change_copy;
    st->update.nstmts = 1;
    st->update.last = 1;
    st->update.then = rating_changed;

    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[first->nstmts++], &sql_rating_state, slug, prefix, number);
    first->then = rating_found;
    return MSP_NEXT;
}

/* ---- GET: a tenant's ratings ----------------------------------------- */

static msp_outcome_t
tenant_ratings_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                    msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return msp_reply_forbidden(call, reply, "A tenant's ratings are for staff of either "
                                   "side; a requester reads its own on its tickets.");
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

/* The ratings given from "from" to "to" (days of the tenant's calendar,
 * the second excluded, at most 366 apart), by ticket, a page at a time. */
msp_outcome_t
msp_tenant_ratings_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "from", "to", "as_of", "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/satisfaction",
                                                       slug), known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *from, *to;
    msp_date_range_arg(&list->args, 366, &from, &to, &errs);
    if (list->page.after != NULL && !msp_cursor_is_id(list->page.after)) {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    const char *as_of = msp_args_get(&list->args, "as_of");
    if (as_of != NULL && !msp_arg_is_rfc3339(as_of)) {
        msp_errors_add(&errs, "as_of", "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_tenant_ratings;
    s->params[0] = slug;
    s->params[1] = from;
    s->params[2] = to;
    s->params[3] = list->page.after;
    s->params[4] = list->page.fetch;
    s->params[5] = as_of;
    first->read_only = 1;
    first->then = tenant_ratings_done;
    return MSP_NEXT;
}
