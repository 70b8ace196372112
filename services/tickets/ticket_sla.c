/*
 * ticket_sla.c - the SLA clocks in the tickets API.
 */
#include "tickets/ticket_sla.h"

#include "http/replies.h"
#include "tickets/tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The columns of a tenant document the clocks and the escalation policy
 * are compiled from, in tenant_columns()'s order, with the tenant as t. */
#define TENANT_COLUMNS \
    "t.document_sha256, t.timezone, t.calendar::text, t.holidays::text, t.sla_policy::text," \
    " t.co_management_model, t.escalation_policy::text"

/* The inputs statements' columns. */
enum { IN_NUMBER, IN_TENANT, IN_HISTORY = IN_TENANT + 7, IN_NOW };
#define NOW_SECONDS "floor(extract(epoch FROM now()))::bigint"

static const msp_sql_t sql_ticket_sla_inputs = {
    "ticket_sla_inputs",
    "SELECT k.number, " TENANT_COLUMNS ","
    " app.ticket_sla_history(k.tenant_id, k.number)::text, " NOW_SECONDS
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer",
    3
};

static const msp_sql_t sql_tenant_sla_inputs = {
    "tenant_sla_inputs",
    "SELECT NULL::integer, " TENANT_COLUMNS ", '[]', " NOW_SECONDS
    " FROM tenants t WHERE t.slug = $1",
    1
};

/* One ticket's clocks: $1 slug, $2 number, $3..$8 msp_ticket_sla_t's
 * parameters.  What a request stores: one row, found by primary key. */
static const msp_sql_t sql_ticket_sla_store_one = {
    "ticket_sla_store_one",
    "UPDATE tickets k SET sla = $3::jsonb, response_due = to_timestamp($4::bigint),"
    " resolution_due = to_timestamp($5::bigint), breach_at = to_timestamp($6::bigint),"
    " sla_pending = $7::jsonb, sla_next_at = to_timestamp($8::bigint)"
    " FROM tenants t WHERE t.slug = $1 AND k.tenant_id = t.tenant_id AND k.number = $2::integer",
    8
};

/* Many tickets' clocks: $1 slug, $2 an array of msp_ticket_sla_record()s.
 * What a recompute stores, a thousand at a time: the planner joins them
 * to the tenant's tickets by hash, which for a single row would read the
 * whole tenant (hence the statement above). */
static const msp_sql_t sql_ticket_sla_store = {
    "ticket_sla_store",
    "UPDATE tickets k SET sla = r.sla, response_due = to_timestamp(r.response_due),"
    " resolution_due = to_timestamp(r.resolution_due), breach_at = to_timestamp(r.breach_at),"
    " sla_pending = r.pending, sla_next_at = to_timestamp(r.next_at)"
    " FROM tenants t, jsonb_to_recordset($2::jsonb) AS r(number integer, sla jsonb,"
    "   response_due bigint, resolution_due bigint, breach_at bigint, pending jsonb,"
    "   next_at bigint)"
    " WHERE t.slug = $1 AND k.tenant_id = t.tenant_id AND k.number = r.number",
    2
};

/* A history's measurements, for tickets never measured before: $1 slug,
 * $2 an array of msp_ticket_sla_history_facts() arrays' elements. */
static const msp_sql_t sql_ticket_sla_facts = {
    "ticket_sla_facts",
    "INSERT INTO ticket_sla_facts (tenant_id, ticket_number, valid_from, valid_to, priority, sla)"
    " SELECT t.tenant_id, r.number, to_timestamp(r.valid_from), to_timestamp(r.valid_to),"
    "        r.priority, r.sla"
    " FROM tenants t, jsonb_to_recordset($2::jsonb) AS r(number integer, valid_from bigint,"
    "   valid_to bigint, priority text, sla jsonb)"
    " WHERE t.slug = $1",
    2
};

/* The tenant documents a read needs: $1 their SHA-256s. */
static const msp_sql_t sql_sla_configs = {
    "sla_configs",
    "SELECT " TENANT_COLUMNS " FROM tenants t WHERE t.document_sha256 = ANY ($1::text[])",
    1
};

void
msp_stmt_ticket_sla_inputs(msp_stmt_t *s, const char *slug, const char *prefix,
                           const char *number)
{
    msp_stmt_ticket(s, &sql_ticket_sla_inputs, slug, prefix, number);
}

void
msp_stmt_tenant_sla_inputs(msp_stmt_t *s, const char *slug)
{
    s->sql = &sql_tenant_sla_inputs;
    s->params[0] = slug;
}

void
msp_stmt_ticket_sla_store(msp_stmt_t *s, const char *slug, const char *records)
{
    s->sql = &sql_ticket_sla_store;
    s->params[0] = slug;
    s->params[1] = records;
}

void
msp_stmt_ticket_sla_facts(msp_stmt_t *s, const char *slug, const char *facts)
{
    s->sql = &sql_ticket_sla_facts;
    s->params[0] = slug;
    s->params[1] = facts;
}

static const char *
value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* TENANT_COLUMNS of a result row, from column `first` on. */
static msp_tenant_columns_t
tenant_columns(const PGresult *res, int row, int first)
{
    return (msp_tenant_columns_t) {
        .sha = value(res, row, first), .timezone = value(res, row, first + 1),
        .calendar = value(res, row, first + 2), .holidays = value(res, row, first + 3),
        .sla_policy = value(res, row, first + 4), .model = value(res, row, first + 5),
        .escalation_policy = value(res, row, first + 6),
    };
}

int
msp_ticket_sla_inputs(const PGresult *inputs, msp_sla_inputs_t *in)
{
    if (PQntuples(inputs) != 1) {
        return -1;
    }
    in->number = value(inputs, 0, IN_NUMBER);
    in->timezone = value(inputs, 0, IN_TENANT + 1);
    in->history = value(inputs, 0, IN_HISTORY);
    in->now = strtoll(PQgetvalue(inputs, 0, IN_NOW), NULL, 10);
    return 0;
}

const msp_sla_config_t *
msp_ticket_sla_config(const PGresult *inputs, char *why, size_t whylen)
{
    char unused[160];
    msp_tenant_columns_t doc = tenant_columns(inputs, 0, IN_TENANT);
    return why != NULL ? msp_sla_config_load(&doc, why, whylen)
                       : msp_sla_config_load(&doc, unused, sizeof(unused));
}

static const char *
time_param(msp_call_t *call, int64_t t)
{
    return t == MSP_NO_TIME ? NULL : msp_printf(call, "%lld", (long long) t);
}

/* A document as a statement parameter. */
static char *
dump(msp_call_t *call, const json_t *doc)
{
    return msp_json_text(call, doc, JSON_COMPACT | JSON_REAL_PRECISION(6));
}

int
msp_ticket_sla_compute(msp_call_t *call, const PGresult *inputs, const json_t *change,
                       msp_ticket_sla_t *out)
{
    msp_sla_inputs_t in;
    if (msp_ticket_sla_inputs(inputs, &in) != 0) {
        return -1;
    }
    const msp_sla_config_t *cfg = msp_ticket_sla_config(inputs, NULL, 0);
    return msp_ticket_sla_replay(call, cfg, in.history, change, in.now, out);
}

int
msp_ticket_sla_replay(msp_call_t *call, const msp_sla_config_t *cfg, const char *history_text,
                      const json_t *change, int64_t now, msp_ticket_sla_t *out)
{
    json_t *history = json_loads(history_text, 0, NULL);
    msp_sla_snapshot_t *snap = msp_alloc(call, sizeof(*snap));
    int rc = -1;

    /* The change joins the history as its event will: at the
     * transaction's now(), which is also when the event is stamped. */
    json_t *event = change ? json_deep_copy(change) : NULL;
    if (event != NULL) {
        json_array_insert_new(event, 0, json_integer((json_int_t) now));
        json_array_append_new(history, event);
    }
    if (cfg != NULL && history != NULL && snap != NULL && (change == NULL || event != NULL)
        && msp_sla_replay(cfg, history, now, snap, NULL) == 0)
    {
        json_t *stored = msp_sla_snapshot_json(snap);
        json_t *pending = msp_sla_pending_json(snap);
        out->as_of = snap->as_of;
        out->params[0] = dump(call, stored);
        out->params[1] = time_param(call, snap->clock[MSP_CLOCK_RESPONSE].due);
        out->params[2] = time_param(call, snap->clock[MSP_CLOCK_RESOLUTION].due);
        out->params[3] = time_param(call, msp_sla_breach_at(snap));
        out->params[4] = dump(call, pending);
        out->params[5] = time_param(call, snap->npending ? snap->pending[0].at : MSP_NO_TIME);
        rc = out->params[0] != NULL && out->params[4] != NULL ? 0 : -1;
        json_decref(stored);
        json_decref(pending);
    }
    json_decref(history);
    return rc;
}

char *
msp_ticket_sla_history_facts(msp_call_t *call, const msp_sla_config_t *cfg, const char *number,
                             const char *history_text)
{
    json_t *history = json_loads(history_text, 0, NULL);
    json_t *facts = json_array(), *prefix = json_array();
    msp_sla_snapshot_t *snap = msp_alloc(call, sizeof(*snap));
    const char *priority = NULL;
    int rc = history != NULL && facts != NULL && prefix != NULL && snap != NULL ? 0 : -1;
    size_t n = json_array_size(history);

    /* One fact per instant of the history: the events up to it replayed as
     * of it, valid until the next instant (the last one until the store
     * that follows supersedes it).  Instants only move forward: an event
     * stamped before the one it follows happened at that one's instant. */
    json_int_t at = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *event = json_array_get(history, i);
        json_int_t stamped = json_integer_value(json_array_get(event, 0));
        at = i == 0 || stamped > at ? stamped : at;
        const char *p = json_string_value(json_array_get(event, 4));
        priority = p != NULL ? p : priority;
        json_array_append(prefix, event);
        json_t *next = json_array_get(history, i + 1);
        json_int_t next_at = next ? json_integer_value(json_array_get(next, 0)) : 0;
        if (next != NULL && next_at <= at) {
            continue;           /* the instant's last event makes its fact */
        }
        if (priority == NULL || msp_sla_replay(cfg, prefix, (int64_t) at, snap, NULL) != 0) {
            rc = -1;
            break;
        }
        json_t *fact = json_pack("{s:I, s:I, s:o, s:s, s:o}",
                                 "number", (json_int_t) strtoll(number, NULL, 10),
                                 "valid_from", at,
                                 "valid_to", next ? json_integer(next_at) : json_null(),
                                 "priority", priority, "sla", msp_sla_snapshot_json(snap));
        if (fact == NULL || json_array_append_new(facts, fact) != 0) {
            rc = -1;
        }
    }
    char *out = rc == 0 ? dump(call, facts) : NULL;
    json_decref(history);
    json_decref(facts);
    json_decref(prefix);
    return out;
}

void
msp_ticket_sla_bind(msp_stmt_t *s, int first, const msp_ticket_sla_t *clocks)
{
    for (int i = 0; i < MSP_TICKET_SLA_PARAMS; i++) {
        s->params[first + i] = clocks->params[i];
    }
}

char *
msp_ticket_sla_record(msp_call_t *call, const char *number, const msp_ticket_sla_t *clocks)
{
    const char *const *p = clocks->params;
    return msp_printf(call, "{\"number\":%s,\"sla\":%s,\"response_due\":%s,"
                      "\"resolution_due\":%s,\"breach_at\":%s,\"pending\":%s,"
                      "\"next_at\":%s}", number, p[0], p[1] ? p[1] : "null",
                      p[2] ? p[2] : "null", p[3] ? p[3] : "null", p[4],
                      p[5] ? p[5] : "null");
}

void
msp_stmt_ticket_sla_store_one(msp_stmt_t *s, const char *slug, const char *number,
                              const msp_ticket_sla_t *clocks)
{
    s->sql = &sql_ticket_sla_store_one;
    s->params[0] = slug;
    s->params[1] = number;
    msp_ticket_sla_bind(s, 2, clocks);
}

/* ---- reads ---------------------------------------------------------- */

static void
release_config(void *cfg)
{
    msp_sla_config_release(cfg);
}

/* Holds cfg until the call ends; -1 when out of memory. */
static int
hold_config(msp_call_t *call, const msp_sla_config_t *cfg)
{
    if (msp_call_on_free(call, release_config, (void *) cfg) != 0) {
        return -1;
    }
    msp_sla_config_hold(cfg);
    return 0;
}

static msp_outcome_t
configs_loaded(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, NULL, NULL, &early)) {
        return early;
    }
    for (int i = 0; i < PQntuples(res[0]); i++) {
        char why[160];
        msp_tenant_columns_t doc = tenant_columns(res[0], i, 0);
        const msp_sla_config_t *cfg = msp_sla_config_load(&doc, why, sizeof(why));
        if (cfg == NULL) {
            return msp_reply_problem(call, reply, 500, "internal", "Internal error",
                                     "A tenant's calendar could not be read.", NULL);
        }
        if (hold_config(call, cfg) != 0) {
            return msp_reply_out_of_memory(reply);
        }
    }
    return msp_resume(call, next, reply);
}

int
msp_ticket_sla_need(msp_call_t *call, PGresult *const *res, int nres, int rows_at,
                    int sha_col, msp_step_fn then, msp_step_t *next)
{
    const PGresult *rows = res[rows_at];
    size_t cap = 0, used = 0;
    char *list = NULL;
    if (msp_kept(call)) {
        return 0;             /* fetched once already: what is missing is gone */
    }
    for (int i = 0; i < PQntuples(rows); i++) {
        const char *sha = value(rows, i, sha_col);
        if (sha == NULL || msp_sla_config_find(sha) != NULL
            || (list != NULL && strstr(list, sha) != NULL))
        {
            continue;
        }
        size_t len = strlen(sha);
        if (used + len + 3 > cap) {
            size_t ncap = (cap ? cap * 2 : 256) + len;
            char *grown = msp_alloc(call, ncap);
            if (grown == NULL) {
                return -1;
            }
            memcpy(grown, list ? list : "", used + 1);
            list = grown;
            cap = ncap;
        }
        used += (size_t) sprintf(list + used, "%s%s", used ? "," : "{", sha);
    }
    if (list == NULL) {
        return 0;
    }
    strcpy(list + used, "}");

    /* While the missing ones are fetched, other requests on this worker
     * may fill the cache: hold what the rows use already. */
    for (int i = 0; i < PQntuples(rows); i++) {
        const msp_sla_config_t *cfg = msp_sla_config_find(value(rows, i, sha_col));
        if (cfg != NULL && hold_config(call, cfg) != 0) {
            return -1;
        }
    }
    if (msp_keep(call, res, nres, then) != 0) {
        return -1;
    }

    memset(next, 0, sizeof(*next));
    next->stmts[0].sql = &sql_sla_configs;
    next->stmts[0].params[0] = list;
    next->nstmts = 1;
    next->then = configs_loaded;
    return 1;
}

char *
msp_ticket_sla_doc(msp_call_t *call, const char *doc, size_t len, int64_t now)
{
    json_t *shown = json_loadb(doc, len, 0, NULL);
    if (shown == NULL) {
        return NULL;
    }
    const json_t *stored = json_object_get(shown, "sla");
    if (json_is_object(stored)) {
        const char *sha = msp_sla_needs_config(stored);
        const msp_sla_config_t *cfg = sha ? msp_sla_config_find(sha) : NULL;
        json_t *view = msp_sla_view(stored, cfg, now);
        json_object_set_new(shown, "sla", view ? view : json_null());
    }
    char *out = dump(call, shown);
    json_decref(shown);
    return out;
}

/* The time now, to the second.  Not time(): glibc reads a coarse clock
 * that can lag, by up to a tick, the one PostgreSQL stamps events with,
 * and a document read just after a second began could then show an as_of
 * before its own latest event. */
static int64_t
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec;
}

char *
msp_ticket_sla_item(msp_call_t *call, const char *doc, size_t len)
{
    return msp_ticket_sla_doc(call, doc, len, now_seconds());
}
