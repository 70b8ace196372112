/*
 * tickets_read.c - GET /v1/tenants/{slug}/tickets/{id}, its assets, and the
 * list.
 */
#include "http/args.h"
#include "http/page.h"
#include "http/params.h"
#include "tickets/ticket_rules.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* $1 slug, $2 prefix, $3 number.  Which tickets and comments show is
 * row-level security's decision (a requester's own tickets; the
 * visibility policy on ticket_events). */
static const msp_sql_t sql_ticket_get = {
    "ticket_get",
    "SELECT k.version,"
    " app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text,"
    " (SELECT coalesce(json_agg(app.comment_doc(e) ORDER BY e.event_id), '[]')"
    "    FROM ticket_events e"
    "   WHERE e.tenant_id = k.tenant_id AND e.ticket_number = k.number"
    "     AND e.kind = 'comment')::text,"
    " " MSP_SLA_CONFIG_COLUMN
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer",
    3
};

/* The filters of the tickets list: $1 slug; $2..$7 (NULL: any) status[],
 * priority[], assignee, side[], category, updated_since; $10 breach_before
 * or NULL.  The tenant's id is also given to the tickets as a value (a
 * subquery), so that their scan is a range of the tenant's index already
 * in the order asked, stopping after a page, rather than every ticket of
 * the tenant sorted. */
#define TICKET_LIST_FILTERS \
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id" \
    " WHERE t.slug = $1" \
    "   AND k.tenant_id = (SELECT s.tenant_id FROM tenants s WHERE s.slug = $1)" \
    "   AND ($2::text[] IS NULL OR k.status = ANY ($2::text[]))" \
    "   AND ($3::text[] IS NULL OR k.priority = ANY ($3::text[]))" \
    "   AND ($4::text IS NULL OR k.assignee = $4::text)" \
    "   AND ($5::text[] IS NULL OR k.side = ANY ($5::text[]))" \
    "   AND ($6::text IS NULL OR k.category = $6::text)" \
    "   AND ($7::timestamptz IS NULL OR k.updated_at >= $7::timestamptz)" \
    "   AND ($10::timestamptz IS NULL OR k.breach_at < $10::timestamptz)"

/* Newest first: $8 after (a number), $9 how many rows. */
static const msp_sql_t sql_ticket_list = {
    "ticket_list",
    "SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text, k.number,"
    " " MSP_SLA_CONFIG_COLUMN
    TICKET_LIST_FILTERS
    "   AND ($8::integer IS NULL OR k.number < $8::integer)"
    " ORDER BY k.number DESC LIMIT $9::integer",
    10
};

/* Soonest breach first, only tickets whose clocks run: $8 after
 * ("<breach_at in microseconds>|<number>"), $9 how many rows. */
static const msp_sql_t sql_ticket_list_by_breach = {
    "ticket_list_by_breach",
    "SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text,"
    " (extract(epoch FROM k.breach_at) * 1000000)::bigint || '|' || k.number,"
    " " MSP_SLA_CONFIG_COLUMN
    TICKET_LIST_FILTERS
    "   AND k.breach_at IS NOT NULL"
    "   AND ($8::text IS NULL OR (k.breach_at, k.number) >"
    "        (timestamptz 'epoch' + split_part($8::text, '|', 1)::bigint * interval '1 microsecond',"
    "         split_part($8::text, '|', 2)::integer))"
    " ORDER BY k.breach_at, k.number LIMIT $9::integer",
    10
};

static msp_outcome_t
ticket_get_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                msp_reply_t *reply)
{
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, NULL, &early)) {
        return early;
    }
    switch (msp_ticket_sla_need(call, res, nres, 1, 3, ticket_get_done, next)) {
    case 1:
        return MSP_NEXT;
    case -1:
        return msp_reply_out_of_memory(reply);
    }
    /* The ticket's document with its comments as one more member. */
    const char *doc = msp_ticket_sla_item(call, PQgetvalue(res[1], 0, 1),
                                          (size_t) PQgetlength(res[1], 0, 1));
    if (doc == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    char *body = msp_printf(call, "%.*s,\"comments\":%s}", (int) strlen(doc) - 1, doc,
                            PQgetvalue(res[1], 0, 2));
    if (body == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    reply->etag = msp_ticket_etag(call, PQgetvalue(res[1], 0, 0));
    return msp_reply_json(call, reply, 200, body, strlen(body));
}

msp_outcome_t
msp_ticket_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[first->nstmts++], &sql_ticket_get, slug, prefix, number);
    first->read_only = 1;
    first->then = ticket_get_done;
    return MSP_NEXT;
}

/* $1 slug, $2 prefix, $3 number: the ticket's assets as one page, in id
 * order (a ticket names at most 20).  Row-level security shows a
 * requester those of their own tickets only. */
static const msp_sql_t sql_ticket_assets = {
    "ticket_assets",
    "SELECT json_build_object('items', coalesce(json_agg(app.asset_doc(to_jsonb(a.*))"
    "  ORDER BY a.asset_id), '[]'),"
    "  'next_cursor', NULL)::text"
    " FROM tenants t JOIN ticket_assets x ON x.tenant_id = t.tenant_id"
    " JOIN assets a ON a.tenant_id = x.tenant_id AND a.asset_id = x.asset_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND x.ticket_number = $3::integer",
    3
};

static msp_outcome_t
ticket_assets_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                   msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    /* Through jansson: compact, as every other document. */
    return msp_reply_doc(call, reply, 200, json_loads(PQgetvalue(res[2], 0, 0), 0, NULL));
}

msp_outcome_t
msp_ticket_assets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[1], &msp_sql_ticket_visible, slug, prefix, number);
    msp_stmt_ticket(&first->stmts[2], &sql_ticket_assets, slug, prefix, number);
    first->nstmts = 3;
    first->read_only = 1;
    first->then = ticket_assets_done;
    return MSP_NEXT;
}

/* "new,assigned" -> "{new,assigned}" after checking each value against
 * the allowed list; NULL (with an error) when one is not allowed. */
static const char *
enum_list(msp_call_t *call, const char *value, const char *name, const char *const *allowed,
          msp_errors_t *errs)
{
    size_t len = strlen(value);
    char *out = msp_alloc(call, len + 3);
    if (out == NULL) {
        return NULL;
    }
    char *o = out;
    *o++ = '{';
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t) (comma - p) : strlen(p);
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) {
            ok = strlen(*a) == n && memcmp(*a, p, n) == 0;
        }
        if (!ok) {
            char list[160];
            msp_join(allowed, list, sizeof(list));
            msp_errors_add(errs, name, "values must be among: %s", list);
            return NULL;
        }
        memcpy(o, p, n);
        o += n;
        if (comma == NULL) {
            break;
        }
        *o++ = ',';
        p = comma + 1;
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

static msp_outcome_t
ticket_list_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                 msp_reply_t *reply)
{
    msp_list_t *list = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    switch (msp_ticket_sla_need(call, res, nres, 1, 2, ticket_list_done, next)) {
    case 1:
        return MSP_NEXT;
    case -1:
        return msp_reply_out_of_memory(reply);
    }
    return msp_list_reply(call, reply, list, res[1]);
}

msp_outcome_t
msp_ticket_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = {
        "status", "priority", "assignee", "side", "category", "updated_since",
        "breach_before", "sort", "limit", "after", NULL
    };
    static const char *const priorities[] = { "P1", "P2", "P3", "P4", NULL };

    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *st = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/tickets", slug),
                                    known, &errs);
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    call->state = st;

    const char *v, *status = NULL, *priority = NULL, *side = NULL, *since = NULL;
    if ((v = msp_args_get(&st->args, "status")) != NULL) {
        status = enum_list(call, v, "status", msp_statuses, &errs);
    }
    if ((v = msp_args_get(&st->args, "priority")) != NULL) {
        priority = enum_list(call, v, "priority", priorities, &errs);
    }
    if ((v = msp_args_get(&st->args, "side")) != NULL) {
        side = enum_list(call, v, "side", msp_sides, &errs);
    }
    if ((since = msp_args_get(&st->args, "updated_since")) != NULL && !msp_arg_is_rfc3339(since)) {
        msp_errors_add(&errs, "updated_since", "must be an RFC 3339 timestamp such as "
                       "2026-11-23T09:00:00Z");
    }
    const char *before = msp_args_get(&st->args, "breach_before");
    if (before != NULL && !msp_arg_is_rfc3339(before)) {
        msp_errors_add(&errs, "breach_before", "must be an RFC 3339 timestamp such as "
                       "2026-11-23T09:00:00Z");
    }
    const char *sort = msp_args_get(&st->args, "sort");
    int by_breach = sort != NULL && strcmp(sort, "breach") == 0;
    if (sort != NULL && !by_breach && strcmp(sort, "number") != 0) {
        msp_errors_add(&errs, "sort", "must be one of: number, breach");
    }
    char *end = NULL;
    if (st->page.after != NULL) {
        const char *a = st->page.after;
        if (by_breach) {
            long long us = strtoll(a, &end, 10);
            a = *end == '|' && us >= 0 ? end + 1 : "x";
        }
        long n = strtol(a, &end, 10);
        if (*end != '\0' || n < 1 || n > 2147483647L) {
            msp_errors_add(&errs, "after", "is not a cursor this API handed out");
        }
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }

    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[1];
    s->sql = by_breach ? &sql_ticket_list_by_breach : &sql_ticket_list;
    s->params[0] = slug;
    s->params[1] = status;
    s->params[2] = priority;
    s->params[3] = msp_args_get(&st->args, "assignee");
    s->params[4] = side;
    s->params[5] = msp_args_get(&st->args, "category");
    s->params[6] = since;
    s->params[7] = st->page.after;
    s->params[8] = st->page.fetch;
    s->params[9] = before;
    first->nstmts = 2;
    first->read_only = 1;
    first->then = ticket_list_done;
    st->item = msp_ticket_sla_item;
    return MSP_NEXT;
}
