/*
 * time_entries.c - the time logged on tickets:
 * POST and GET /v1/tenants/{slug}/tickets/{id}/time-entries,
 * GET /v1/tenants/{slug}/time-entries (a tenant's, by the days worked),
 * and GET and PATCH /v1/tenants/{slug}/time-entries/{id} (ETag and
 * If-Match: a change names the version it was made from).
 *
 * Whoever works tickets (on either side; not auditors, not requesters)
 * logs their own time; staff of both sides read it.  Row-level security
 * holds both rules in the database (migrations/0020); the checks here
 * give the clear answer first.  An entry, its ticket event (time_logged,
 * seen by staff only) and its audit row are one statement
 * (app.log_time), which also stores the response with the request's
 * Idempotency-Key (http/idempotency.h).  Two steps: the tenant, the
 * ticket, the tenant's today (so that a day after it is refused before
 * anything is written) and the key's claim; then the entry.
 */
#include "escalations/escalations.h"
#include "governance/governance.h"
#include "http/idempotency.h"
#include "http/if_match.h"
#include "http/json_body.h"
#include "http/page.h"
#include "http/params.h"
#include "auth/tenant_context.h"
#include "sla/tz.h"
#include "tickets/ticket_rules.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* $1 slug: the tenant's today, in its time zone. */
static const msp_sql_t sql_tenant_today = {
    "tenant_today",
    "SELECT to_char((now() AT TIME ZONE timezone)::date, 'YYYY-MM-DD')"
    " FROM tenants WHERE slug = $1",
    1
};

enum {
    LOG_SLUG, LOG_PREFIX, LOG_NUMBER, LOG_SIDE, LOG_WORKED_ON, LOG_MINUTES, LOG_BILLABLE,
    LOG_IN_SCOPE, LOG_NOTE, LOG_KEY, LOG_NPARAMS
};

static const msp_sql_t sql_log_time = {
    "log_time",
    "SELECT entry_id, version, doc::text FROM app.log_time($1, $2, $3::integer, $4,"
    " $5::date, $6::integer, $7::boolean, $8::boolean, $9, $10)",
    LOG_NPARAMS
};

/* $1 slug, $2 prefix, $3 number, $4 after (an entry id) or NULL, $5 rows. */
static const msp_sql_t sql_time_entries = {
    "time_entries",
    "SELECT app.time_entry_doc(e, t)::text, e.entry_id"
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " JOIN time_entries e ON e.tenant_id = k.tenant_id AND e.ticket_number = k.number"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer"
    "   AND ($4::bigint IS NULL OR e.entry_id > $4::bigint)"
    " ORDER BY e.entry_id LIMIT $5::integer",
    5
};

/* $1 slug, $2 from, $3 to (days worked, [from, to)), $4 subject or NULL,
 * $5 side or NULL, $6 after (the day and id of the last one shown,
 * "2026-03-08:42") or NULL, $7 rows.  By day worked, then by id. */
static const msp_sql_t sql_tenant_time_entries = {
    "tenant_time_entries",
    "SELECT app.time_entry_doc(e, t)::text, to_char(e.worked_on, 'YYYY-MM-DD') || ':' || e.entry_id"
    " FROM tenants t JOIN time_entries e ON e.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND e.worked_on >= $2::date AND e.worked_on < $3::date"
    "   AND ($4::text IS NULL OR e.subject = $4) AND ($5::text IS NULL OR e.side = $5)"
    "   AND ($6::text IS NULL OR (e.worked_on, e.entry_id)"
    "        > (split_part($6, ':', 1)::date, split_part($6, ':', 2)::bigint))"
    " ORDER BY e.worked_on, e.entry_id LIMIT $7::integer",
    7
};

/* Who logs time: the roles that work tickets (app.role_may's "work"). */
static int
logs_time(const msp_principal_t *p)
{
    static const char *const roles[] = {
        "technician", "lead", "account_manager", "admin", "it_staff", "it_leader", NULL
    };
    return msp_principal_has_role(p, roles);
}

typedef struct {
    const char *slug;
    const char *worked_on;     /* NULL: the tenant's today */
    msp_step_t  log;           /* the step writing the entry, built up front */
    char        request_sha[MSP_SHA256_HEX_LEN + 1];
} log_state_t;

/* An entry as logged, to the one who logged it and to a retry alike: its
 * ETag, and where to GET (and PATCH) it. */
static msp_outcome_t
reply_logged(msp_call_t *call, msp_reply_t *reply, const char *slug, const char *doc,
             size_t len)
{
    json_t *parsed = json_loadb(doc, len, 0, NULL);
    const char *id = json_string_value(json_object_get(parsed, "id"));
    json_t *version = json_object_get(parsed, "version");
    if (id != NULL && json_is_integer(version)) {
        reply->location = msp_printf(call, "%s/v1/tenants/%s/time-entries/%s",
                                     call->base_url ? call->base_url : "", slug, id);
        reply->etag = msp_printf(call, "\"%lld\"", (long long) json_integer_value(version));
    }
    json_decref(parsed);
    return msp_reply_json(call, reply, 201, doc, len);
}

static msp_outcome_t
time_logged(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    log_state_t *st = call->state;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_ticket, NULL, &early)) {
        return early;
    }
    return reply_logged(call, reply, st->slug, PQgetvalue(res[0], 0, 2),
                        (size_t) PQgetlength(res[0], 0, 2));
}

/* The tenant, the ticket and the tenant's today: who may log, and when. */
static msp_outcome_t
ticket_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    log_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    if (!logs_time(&t.as)) {
        return msp_reply_forbidden(call, reply, strcmp(t.as.role, "auditor") == 0
            ? "Auditors read; they do not log time."
            : "Time is logged by the staff who work the ticket.");
    }
    if (PQntuples(res[2]) != 1) {
        return msp_reply_no_ticket(call, reply);
    }
    if (call->idempotency_key != NULL) {
        const char *stored;
        size_t stored_len;
        switch (msp_idempotency_claimed(call, reply, res[3], res[4], st->request_sha, &stored,
                                        &stored_len, &early)) {
        case MSP_KEY_OURS:
            break;
        case MSP_KEY_STORED:
            return reply_logged(call, reply, st->slug, stored, stored_len);
        default:
            return early;
        }
    }
    const char *today = PQgetvalue(res[2], 0, 0);
    if (st->worked_on != NULL && strcmp(st->worked_on, today) > 0) {
        msp_errors_t errs = { 0 };
        msp_errors_add(&errs, "worked_on", "is after today (%s) in the tenant's time zone",
                       today);
        return msp_reply_invalid(call, reply, 422, "Invalid time entry", &errs);
    }
    *next = st->log;
    return MSP_NEXT;
}

msp_outcome_t
msp_time_entry_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
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
    long long minutes = 0, day = 0;
    int billable = 1, in_scope = 1;
    const char *worked_on = NULL, *note = "";
    msp_body_integer(&b, "minutes", 1, 1, 1440, &minutes);
    msp_body_date(&b, "worked_on", 0, &worked_on, &day);
    msp_body_bool(&b, "billable", 0, &billable);
    msp_body_bool(&b, "in_scope", 0, &in_scope);
    msp_body_string(&b, "note", 0, 0, 2000, &note);
    int invalid = msp_body_finish(&b);
    log_state_t *st = invalid ? NULL : msp_alloc(call, sizeof(*st));
    const char *day_copy = worked_on && st ? msp_strndup(call, worked_on, 10) : NULL;
    const char *note_copy = st ? msp_strndup(call, note, strlen(note)) : NULL;
    msp_body_free(&b);
    if (invalid) {
        return msp_reply_invalid(call, reply, 422, "Invalid time entry", &errs);
    }
    if (st == NULL || note_copy == NULL || (worked_on != NULL && day_copy == NULL)) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    st->slug = slug;
    st->worked_on = day_copy;
    call->state = st;

    msp_stmt_t *s = &st->log.stmts[0];
    msp_stmt_ticket(s, &sql_log_time, slug, prefix, number);
    s->params[LOG_SIDE] = call->principal->is_provider ? "provider" : "internal_it";
    s->params[LOG_WORKED_ON] = day_copy;
    s->params[LOG_MINUTES] = msp_printf(call, "%lld", minutes);
    s->params[LOG_BILLABLE] = billable ? "true" : "false";
    s->params[LOG_IN_SCOPE] = in_scope ? "true" : "false";
    s->params[LOG_NOTE] = note_copy;
    s->params[LOG_KEY] = call->idempotency_key;
    if (s->params[LOG_MINUTES] == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    st->log.nstmts = 1;
    st->log.last = 1;
    st->log.then = time_logged;

    msp_step_tenant(first, slug);
    msp_stmt_ticket(&first->stmts[first->nstmts++], &msp_sql_ticket_visible, slug, prefix,
                    number);
    first->stmts[first->nstmts].sql = &sql_tenant_today;
    first->stmts[first->nstmts++].params[0] = slug;
    const char *path = msp_printf(call, "/v1/tenants/%s/tickets/%s-%s/time-entries",
                                  slug, prefix, number);
    if (msp_step_idempotency(call, first, slug, path, st->request_sha) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    first->then = ticket_checked;
    return MSP_NEXT;
}

static msp_outcome_t
entries_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return msp_reply_forbidden(call, reply, "Time entries are for staff of either side.");
    }
    return msp_list_reply(call, reply, call->state, res[2]);
}

msp_outcome_t
msp_time_entry_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call,
                                                       "/v1/tenants/%s/tickets/%s-%s/time-entries",
                                                       slug, prefix, number), known, &errs);
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
    msp_step_tenant(first, slug);
    for (int i = 1; i < 3; i++) {
        msp_stmt_ticket(&first->stmts[i], i == 1 ? &msp_sql_ticket_visible : &sql_time_entries,
                        slug, prefix, number);
    }
    first->stmts[2].params[3] = list->page.after;
    first->stmts[2].params[4] = list->page.fetch;
    first->nstmts = 3;
    first->read_only = 1;
    first->then = entries_done;
    return MSP_NEXT;
}

/* A cursor of the tenant's list: "YYYY-MM-DD:<id>". */
static int
day_cursor_ok(const char *after)
{
    int64_t day;
    const char *colon = strchr(after, ':');
    return colon != NULL && colon - after == 10 && msp_civil_date(after, 10, &day) == 0
           && msp_cursor_is_id(colon + 1);
}

static msp_outcome_t
tenant_entries_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                    msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return msp_reply_forbidden(call, reply, "Time entries are for staff of either side.");
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

/* Days worked from "from" to "to" (the second excluded; both required, at
 * most 366 days apart), of one person (subject) or side, a page at a time. */
msp_outcome_t
msp_tenant_time_entries_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "from", "to", "subject", "side", "limit", "after",
                                          NULL };
    static const char *const sides[] = { "provider", "internal_it", NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/time-entries",
                                                       slug), known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *bound[2];
    msp_date_range_arg(&list->args, 366, &bound[0], &bound[1], &errs);
    const char *side = msp_args_get(&list->args, "side");
    if (side != NULL && strcmp(side, sides[0]) != 0 && strcmp(side, sides[1]) != 0) {
        msp_errors_add(&errs, "side", "must be one of: provider, internal_it");
    }
    if (list->page.after != NULL && !day_cursor_ok(list->page.after)) {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_tenant_time_entries;
    s->params[0] = slug;
    s->params[1] = bound[0];
    s->params[2] = bound[1];
    s->params[3] = msp_args_get(&list->args, "subject");
    s->params[4] = side;
    s->params[5] = list->page.after;
    s->params[6] = list->page.fetch;
    first->read_only = 1;
    first->then = tenant_entries_done;
    return MSP_NEXT;
}

/* ---- one entry: GET, and PATCH by the one who logged it ------------ */

/* $1 slug, $2 id: the entry, its version, who logged it and the tenant's
 * today.  Not locked for a change: the change names the version it was
 * made from, and a change in between makes it 412. */
#define TIME_ENTRY_ROW \
    "SELECT app.time_entry_doc(e, t)::text, e.version, e.subject," \
    " to_char((now() AT TIME ZONE t.timezone)::date, 'YYYY-MM-DD')" \
    " FROM tenants t JOIN time_entries e ON e.tenant_id = t.tenant_id" \
    " WHERE t.slug = $1 AND e.entry_id = $2::bigint"

static const msp_sql_t sql_time_entry = { "time_entry", TIME_ENTRY_ROW, 2 };

enum {
    UPD_SLUG, UPD_ID, UPD_VERSION, UPD_WORKED_ON, UPD_MINUTES, UPD_BILLABLE, UPD_IN_SCOPE,
    UPD_NOTE, UPD_CHANGE, UPD_NPARAMS
};

static const msp_sql_t sql_time_entry_update = {
    "time_entry_update",
    "SELECT version, doc::text FROM app.update_time_entry($1, $2::bigint, $3::integer,"
    " $4::date, $5::integer, $6::boolean, $7::boolean, $8, $9::jsonb)",
    UPD_NPARAMS
};

static msp_outcome_t
no_entry(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "There is no such time entry in this tenant.");
}

static msp_outcome_t
entry_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, no_entry, &t, &early)) {
        return early;
    }
    reply->etag = msp_printf(call, "\"%s\"", PQgetvalue(res[1], 0, 1));
    return msp_reply_json(call, reply, 200, PQgetvalue(res[1], 0, 0),
                          (size_t) PQgetlength(res[1], 0, 0));
}

msp_outcome_t
msp_time_entry_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return no_entry(call, reply);
    }
    msp_step_tenant(first, slug);
    first->stmts[1].sql = &sql_time_entry;
    first->stmts[1].params[0] = slug;
    first->stmts[1].params[1] = id;
    first->nstmts = 2;
    first->read_only = 1;
    first->then = entry_read;
    return MSP_NEXT;
}

typedef struct {
    const char *if_match;
    const char *worked_on;     /* NULL: unchanged */
    msp_step_t  update;        /* the step changing it, built up front */
} update_state_t;

/* No row: the entry changed after it was read in the first step. */
static msp_outcome_t
stale_entry(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_stale(call, reply, "the time entry");
}

static msp_outcome_t
entry_updated(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
              msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, stale_entry, NULL, &early)) {
        return early;
    }
    reply->etag = msp_printf(call, "\"%s\"", PQgetvalue(res[0], 0, 0));
    return msp_reply_json(call, reply, 200, PQgetvalue(res[0], 0, 1),
                          (size_t) PQgetlength(res[0], 0, 1));
}

/* The entry: who may change it, from which version, to which day. */
static msp_outcome_t
entry_locked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    update_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, no_entry, &t, &early)) {
        return early;
    }
    if (!logs_time(&t.as)) {
        return msp_reply_forbidden(call, reply, "This role reads time entries; it does not "
                                   "change them.");
    }
    if (strcmp(PQgetvalue(res[1], 0, 2), t.as.sub) != 0) {
        return msp_reply_forbidden(call, reply, "A time entry is changed by the one who "
                                   "logged it.");
    }
    const char *version = PQgetvalue(res[1], 0, 1), *today = PQgetvalue(res[1], 0, 3);
    if (msp_if_match(st->if_match, version) != 1) {
        reply->etag = msp_printf(call, "\"%s\"", version);
        return stale_entry(call, reply);
    }
    if (st->worked_on != NULL && strcmp(st->worked_on, today) > 0) {
        msp_errors_t errs = { 0 };
        msp_errors_add(&errs, "worked_on", "is after today (%s) in the tenant's time zone",
                       today);
        return msp_reply_invalid(call, reply, 422, "Invalid time entry", &errs);
    }
    /* the results go when this returns: the next step keeps a copy */
    const char *from = msp_strndup(call, version, strlen(version));
    if (from == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    *next = st->update;
    next->stmts[0].params[UPD_VERSION] = from;
    return MSP_NEXT;
}

msp_outcome_t
msp_time_entry_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return no_entry(call, reply);
    }
    if (call->if_match == NULL) {
        return msp_reply_if_match_required(call, reply, "the time entry");
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
    long long minutes = 0, day = 0;
    int billable = 0, in_scope = 0;
    const char *worked_on = NULL, *note = NULL;
    int has_minutes = msp_body_integer(&b, "minutes", 0, 1, 1440, &minutes) == 1;
    msp_body_date(&b, "worked_on", 0, &worked_on, &day);
    int has_billable = msp_body_bool(&b, "billable", 0, &billable) == 1;
    int has_in_scope = msp_body_bool(&b, "in_scope", 0, &in_scope) == 1;
    msp_body_string(&b, "note", 0, 0, 2000, &note);
    int invalid = msp_body_finish(&b);
    if (!invalid && !has_minutes && !worked_on && !has_billable && !has_in_scope && !note) {
        msp_errors_add(&errs, "", "name at least one of minutes, worked_on, billable, "
                                  "in_scope, note");
        invalid = 1;
    }
    /* the change as JSON, for the event and the audit row (jansson sets
     * nothing for a NULL value: the fields not given) */
    json_t *change = invalid ? NULL : json_object();
    if (change != NULL) {
        json_object_set_new(change, "minutes", has_minutes ? json_integer(minutes) : NULL);
        json_object_set_new(change, "worked_on", worked_on ? json_string(worked_on) : NULL);
        json_object_set_new(change, "billable", has_billable ? json_boolean(billable) : NULL);
        json_object_set_new(change, "in_scope", has_in_scope ? json_boolean(in_scope) : NULL);
        json_object_set_new(change, "note", note ? json_string(note) : NULL);
    }
    char *change_text = change ? json_dumps(change, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(change);
    update_state_t *st = invalid ? NULL : msp_alloc(call, sizeof(*st));
    const char *day_copy = st && worked_on ? msp_strndup(call, worked_on, 10) : NULL;
    const char *note_copy = st && note ? msp_strndup(call, note, strlen(note)) : NULL;
    const char *change_copy = st && change_text
                                  ? msp_strndup(call, change_text, strlen(change_text)) : NULL;
    free(change_text);
    msp_body_free(&b);
    if (invalid) {
        return msp_reply_invalid(call, reply, 422, "Invalid time entry", &errs);
    }
    if (st == NULL || change_copy == NULL || (worked_on && day_copy == NULL)
        || (note && note_copy == NULL))
    {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    st->if_match = call->if_match;
    st->worked_on = day_copy;
    call->state = st;

    msp_stmt_t *s = &st->update.stmts[0];
    s->sql = &sql_time_entry_update;
    s->params[UPD_SLUG] = slug;
    s->params[UPD_ID] = id;
    s->params[UPD_WORKED_ON] = day_copy;
    s->params[UPD_MINUTES] = has_minutes ? msp_printf(call, "%lld", minutes) : NULL;
    s->params[UPD_BILLABLE] = has_billable ? (billable ? "true" : "false") : NULL;
    s->params[UPD_IN_SCOPE] = has_in_scope ? (in_scope ? "true" : "false") : NULL;
    s->params[UPD_NOTE] = note_copy;
    s->params[UPD_CHANGE] = change_copy;
    st->update.nstmts = 1;
    st->update.last = 1;
    st->update.then = entry_updated;

    msp_step_tenant(first, slug);
    first->stmts[1].sql = &sql_time_entry;
    first->stmts[1].params[0] = slug;
    first->stmts[1].params[1] = id;
    first->nstmts = 2;
    first->then = entry_locked;
    return MSP_NEXT;
}
