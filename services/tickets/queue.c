/*
 * queue.c - GET /v1/queue: provider staff's one list of open tickets
 * across every tenant they can see, most urgent first (sort=priority, the
 * default: priority, then oldest), oldest first (sort=age) or soonest
 * breach first (sort=breach: the tickets whose SLA clocks run, by
 * breach_at); tenant=slug narrows it to one tenant, breach_before=<RFC
 * 3339> to the tickets that breach (or did) before that instant.
 */
#include "http/args.h"
#include "http/page.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/*
 * The queue reads open tickets in the order asked, by index, one of two
 * ways; both are in every statement and the database runs the one whose
 * condition holds (a one-time filter):
 *   - for a principal who sees many tenants (admins; more than 32), one
 *     walk of a global index of open work in that order, keeping the
 *     visible rows (row-level security), stopping after a page;
 *   - otherwise, and for tenant=slug, one walk per visible tenant of that
 *     tenant's index, a page from each, merged.
 * Either way a page costs about the same however many tenants exist.
 * Sort keys end with the tenant's id and the number, so the order is
 * total; the cursor is the last row's key.
 */
#define QUEUE_MANY \
    "$1::text IS NULL AND ((SELECT app.sees_all())" \
    " OR cardinality((SELECT app.tenant_ids('read'))::uuid[]) > 32)"
#define QUEUE_SCOPE \
    "unnest(CASE WHEN $1::text IS NULL THEN (SELECT app.tenant_ids('read'))::uuid[]" \
    "            ELSE ARRAY(SELECT s.tenant_id FROM tenants s WHERE s.slug = $1::text) END)"
#define QUEUE_OPEN \
    " k.status NOT IN ('resolved', 'closed')" \
    " AND ($7::timestamptz IS NULL OR k.breach_at < $7::timestamptz)"
#define AFTER_AT "timestamptz 'epoch' + $3::bigint * interval '1 microsecond'"

/* The statement: KEY the sort key's text, ORDER its columns; CURSOR the
 * condition "after the cursor", SEEK a looser one an index can start
 * from; WHERE what else the order needs. */
#define QUEUE_SQL(KEY, ORDER, CURSOR, SEEK, WHERE) \
    "SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text," \
    " " KEY " || '|' || k.tenant_id || '|' || k.number," \
    " " MSP_SLA_CONFIG_COLUMN \
    " FROM ((SELECT k.* FROM tickets k" \
    "         WHERE " QUEUE_MANY " AND" QUEUE_OPEN WHERE \
    "           AND ($2::text IS NULL OR " CURSOR ")" \
    "         ORDER BY " ORDER " LIMIT $6::integer)" \
    "       UNION ALL" \
    "       (SELECT k.* FROM " QUEUE_SCOPE " AS v (tenant_id)" \
    "         CROSS JOIN LATERAL (SELECT k.* FROM tickets k" \
    "           WHERE k.tenant_id = v.tenant_id AND" QUEUE_OPEN WHERE \
    "             AND ($2::text IS NULL OR (" SEEK " AND " CURSOR "))" \
    "           ORDER BY " ORDER " LIMIT $6::integer) k" \
    "         WHERE NOT (" QUEUE_MANY "))) k" \
    " JOIN tenants t ON t.tenant_id = k.tenant_id" \
    " ORDER BY " ORDER " LIMIT $6::integer"

/* $1 tenant or NULL; $2..$5 the cursor (priority or "B", an instant in
 * microseconds since the epoch, tenant id, number) or NULLs; $6 rows;
 * $7 breach_before or NULL. */
static const msp_sql_t sql_queue_by_priority = {
    "queue_by_priority",
    QUEUE_SQL("k.priority || '|' || (extract(epoch FROM k.created_at) * 1000000)::bigint",
              "k.priority, k.created_at, k.tenant_id, k.number",
              "(k.priority, k.created_at, k.tenant_id, k.number)"
              " > ($2::text, " AFTER_AT ", $4::uuid, $5::integer)",
              "(k.priority, k.created_at) >= ($2::text, " AFTER_AT ")", ""),
    7
};

static const msp_sql_t sql_queue_by_age = {
    "queue_by_age",
    QUEUE_SQL("k.priority || '|' || (extract(epoch FROM k.created_at) * 1000000)::bigint",
              "k.created_at, k.tenant_id, k.number",
              "(k.created_at, k.tenant_id, k.number) > (" AFTER_AT ", $4::uuid, $5::integer)",
              "k.created_at >= " AFTER_AT, ""),
    7
};

/* The tickets whose SLA clocks run, soonest breach first. */
static const msp_sql_t sql_queue_by_breach = {
    "queue_by_breach",
    QUEUE_SQL("'B|' || (extract(epoch FROM k.breach_at) * 1000000)::bigint",
              "k.breach_at, k.tenant_id, k.number",
              "(k.breach_at, k.tenant_id, k.number) > (" AFTER_AT ", $4::uuid, $5::integer)",
              "k.breach_at >= " AFTER_AT, " AND k.breach_at IS NOT NULL"),
    7
};

static msp_outcome_t
queue_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    msp_list_t *list = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    switch (msp_ticket_sla_need(call, res, nres, 0, 2, queue_done, next)) {
    case 1:
        return MSP_NEXT;
    case -1:
        return msp_reply_out_of_memory(reply);
    }
    return msp_list_reply(call, reply, list, res[0]);
}

/* Whether s is a UUID as PostgreSQL prints one. */
static int
is_uuid(const char *s)
{
    if (strlen(s) != 36) {
        return 0;
    }
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0') {
            return 0;
        }
    }
    return 1;
}

/* Splits "P2|1763884800123456|<tenant id>|42" into the four statement
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
        || (strtoll(out[1], &end, 10), *end != '\0') || !is_uuid(out[2])
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
    return MSP_NEXT;
}
