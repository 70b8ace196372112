/*
 * queue.c - GET /v1/queue: provider staff's one list of open tickets
 * across every tenant they can see, most urgent first (sort=priority, the
 * default: priority, then oldest), oldest first (sort=age) or soonest
 * breach first (sort=breach: the tickets whose SLA clocks run, by
 * breach_at); tenant=slug narrows it to one tenant, breach_before=<RFC
 * 3339> to the tickets that breach (or did) before that instant.
 */
#include "args.h"
#include "page.h"
#include "ticket_sla.h"
#include "tickets.h"

#include <stdlib.h>
#include <string.h>

#define QUEUE_SELECT \
    "SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text," \
    " k.priority || '|' || (extract(epoch FROM k.created_at) * 1000000)::bigint" \
    "  || '|' || t.slug || '|' || k.number," \
    " " MSP_SLA_CONFIG_COLUMN \
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id" \
    " WHERE k.status NOT IN ('resolved', 'closed')" \
    "   AND ($1::text IS NULL OR t.slug = $1::text)" \
    "   AND ($7::timestamptz IS NULL OR k.breach_at < $7::timestamptz)"

#define AFTER_CREATED "timestamptz 'epoch' + $3::bigint * interval '1 microsecond'"

/* $1 tenant or NULL; $2..$5 the cursor (priority, created_at in
 * microseconds since the epoch, slug, number) or NULLs; $6 rows;
 * $7 breach_before or NULL. */
static const msp_sql_t sql_queue_by_priority = {
    "queue_by_priority",
    QUEUE_SELECT
    "   AND ($2::text IS NULL OR (k.priority, k.created_at, t.slug, k.number)"
    "        > ($2::text, " AFTER_CREATED ", $4::text, $5::integer))"
    " ORDER BY k.priority, k.created_at, t.slug, k.number LIMIT $6::integer",
    7
};

static const msp_sql_t sql_queue_by_age = {
    "queue_by_age",
    QUEUE_SELECT
    "   AND ($2::text IS NULL OR (k.created_at, t.slug, k.number)"
    "        > (" AFTER_CREATED ", $4::text, $5::integer))"
    " ORDER BY k.created_at, t.slug, k.number LIMIT $6::integer",
    7
};

/* The same key shape with breach_at in place of created_at; "B" in place
 * of the priority. */
static const msp_sql_t sql_queue_by_breach = {
    "queue_by_breach",
    "SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text,"
    " 'B|' || (extract(epoch FROM k.breach_at) * 1000000)::bigint"
    "  || '|' || t.slug || '|' || k.number,"
    " " MSP_SLA_CONFIG_COLUMN
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE k.status NOT IN ('resolved', 'closed') AND k.breach_at IS NOT NULL"
    "   AND ($1::text IS NULL OR t.slug = $1::text)"
    "   AND ($7::timestamptz IS NULL OR k.breach_at < $7::timestamptz)"
    "   AND ($2::text IS NULL OR (k.breach_at, t.slug, k.number)"
    "        > (" AFTER_CREATED ", $4::text, $5::integer))"
    " ORDER BY k.breach_at, t.slug, k.number LIMIT $6::integer",
    7
};

static msp_outcome_t
queue_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    msp_list_t *list = call->state;
    const PGresult *err = msp_first_error(res, nres);
    if (err != NULL) {
        return msp_reply_sql_error(call, reply, err);
    }
    switch (msp_ticket_sla_need(call, res[0], 2, &list->first, next)) {
    case 1:
        return MSP_NEXT;
    case -1:
        return msp_reply_out_of_memory(reply);
    }
    return msp_list_reply(call, reply, list, res[0]);
}

/* Splits "P2|1763884800123456|acme|42" into the four statement
 * parameters; -1 when it is not such a key. */
static int
split_cursor(msp_call_t *call, const char *key, const char **out)
{
    char *copy = msp_strndup(call, key, strlen(key));
    if (copy == NULL) {
        return -1;
    }
    char *save = NULL;
    for (int i = 0; i < 4; i++) {
        out[i] = strtok_r(i == 0 ? copy : NULL, "|", &save);
        if (out[i] == NULL) {
            return -1;
        }
    }
    char *end;
    if (strtok_r(NULL, "|", &save) != NULL
        || !(strcmp(out[0], "B") == 0
             || (strlen(out[0]) == 2 && out[0][0] == 'P' && out[0][1] >= '1'
                 && out[0][1] <= '4'))
        || (strtoll(out[1], &end, 10), *end != '\0')
        || (strtol(out[3], &end, 10), *end != '\0'))
    {
        return -1;
    }
    return 0;
}

msp_outcome_t
msp_queue_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = {
        "sort", "tenant", "breach_before", "limit", "after", NULL
    };

    if (!call->principal->is_provider) {
        return msp_reply_forbidden(call, reply, "The queue spans tenants and is for the "
                                   "provider's staff; list your tenant's tickets instead.");
    }
    msp_errors_t errs = { 0 };
    msp_list_t *st = msp_list_begin(call, "/v1/queue", known, &errs);
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    call->state = st;
    const char *sort = msp_args_get(&st->args, "sort");
    const msp_sql_t *sql = &sql_queue_by_priority;
    if (sort != NULL && strcmp(sort, "age") == 0) {
        sql = &sql_queue_by_age;
    } else if (sort != NULL && strcmp(sort, "breach") == 0) {
        sql = &sql_queue_by_breach;
    } else if (sort != NULL && strcmp(sort, "priority") != 0) {
        msp_errors_add(&errs, "sort", "must be one of: priority, age, breach");
    }
    const char *cursor[4] = { NULL, NULL, NULL, NULL };
    if (st->page.after != NULL
        && (split_cursor(call, st->page.after, cursor) != 0
            || (sql == &sql_queue_by_breach) != (strcmp(cursor[0], "B") == 0)))
    {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    const char *before = msp_args_get(&st->args, "breach_before");
    if (before != NULL && !msp_arg_is_rfc3339(before)) {
        msp_errors_add(&errs, "breach_before", "must be an RFC 3339 timestamp such as "
                       "2026-11-23T09:00:00Z");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }

    msp_stmt_t *s = &first->stmts[0];
    s->sql = sql;
    s->params[0] = msp_args_get(&st->args, "tenant");
    for (int i = 0; i < 4; i++) {
        s->params[1 + i] = cursor[i];
    }
    s->params[5] = st->page.fetch;
    s->params[6] = before;
    first->nstmts = 1;
    first->read_only = 1;
    first->then = queue_done;
    st->item = msp_ticket_sla_item;
    st->first = *first;
    return MSP_NEXT;
}
