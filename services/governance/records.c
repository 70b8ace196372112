/*
 * records.c - the governance records of a tenant: projects, risks,
 * actions, decisions and objectives, each under
 * /v1/tenants/{slug}/<kind>s (POST, GET a page) and .../<kind>s/{id}
 * (GET, PATCH with If-Match).
 *
 * The kinds differ only in their fields, so each is a row of the table
 * below (a msp_record_kind_t, named by its routes' data in http/api.c)
 * and one set of functions serves them all: the body is read field by
 * field against the kind's rules, and the fields given go to the
 * database as JSON (app.create_record and app.update_record, migrations/
 * 0022), which writes the record, its event and its audit row in one
 * statement, and holds the rules that span fields or records (a red
 * project says why, a milestone is not due before its project starts):
 * a change may meet them with what is stored.
 *
 * Staff of both sides read; those who govern the partnership write (the
 * provider's account managers, leads and admins, the tenant's IT
 * leader), as row-level security says too ("govern").
 */
#include "escalations/escalations.h"
#include "governance/governance.h"
#include "http/body_fields.h"
#include "http/idempotency.h"
#include "http/if_match.h"
#include "http/json_body.h"
#include "http/page.h"
#include "http/params.h"
#include "http/router.h"
#include "auth/tenant_context.h"
#include "sla/tz.h"
#include "tickets/ticket_rules.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* ---- the kinds ---------------------------------------------------------- */

/* The fields' types, short: the tables below are read as a form. */
#define TEXT       MSP_FIELD_TEXT
#define CHOICE     MSP_FIELD_CHOICE
#define DATE       MSP_FIELD_DATE
#define INTEGER    MSP_FIELD_INTEGER
#define AMOUNT     MSP_FIELD_AMOUNT
#define IDS        MSP_FIELD_IDS
#define MILESTONES MSP_FIELD_OWN
typedef msp_field_t field_t;

struct msp_record_kind {
    const char    *name;       /* "project": the database's kind, the events' record */
    const char    *plural;     /* "projects": the path */
    const field_t *fields;
    const char    *filter;     /* the field a list may be filtered by, or NULL */
};

static const char *const sides[] = { "provider", "internal_it", NULL };

#define OWNER \
    { "owner", TEXT, 1, 0, 1, 200, NULL, NULL }, \
    { "owner_side", CHOICE, 1, 0, 0, 0, sides, NULL }
#define DESCRIPTION { "description", TEXT, 0, 0, 0, 4000, NULL, NULL }
#define REVIEW \
    { "review_on", DATE, 1, 0, 0, 0, NULL, NULL }, \
    { "review_pack", TEXT, 0, 1, 1, 64, NULL, NULL }

/* A project's milestones: [{"name", "due", "done" (a date or null)}]. */
static json_t *
read_milestones(msp_body_t *b, const field_t *f)
{
    size_t n;
    if (msp_body_array(b, f->name, 0, (size_t) f->max, &n) != 1) {
        return NULL;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n && out != NULL; i++) {
        char prefix[64];
        msp_body_t m;
        if (msp_body_item(b, f->name, i, prefix, sizeof(prefix), &m) != 1) {
            continue;
        }
        const char *name = NULL, *due = NULL, *done = NULL;
        long long day;
        msp_body_string(&m, "name", 1, 1, 200, &name);
        msp_body_date(&m, "due", 1, &due, &day);
        if (json_is_null(json_object_get(m.doc, "done"))) {
            msp_body_has(&m, "done");
        } else {
            msp_body_date(&m, "done", 0, &done, &day);
        }
        if (!msp_body_finish(&m) && name != NULL && due != NULL) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "name", name, "due", due,
                                                 "done", done ? json_string(done) : json_null()));
        }
        msp_body_free(&m);
    }
    return out;
}

static const char *const project_states[] = { "planned", "active", "done", "cancelled", NULL };
static const char *const rags[] = { "green", "amber", "red", NULL };
static const field_t project_fields[] = {
    { "name", TEXT, 1, 0, 1, 200, NULL, NULL },
    DESCRIPTION,
    OWNER,
    { "state", CHOICE, 0, 0, 0, 0, project_states, NULL },
    { "rag", CHOICE, 0, 0, 0, 0, rags, NULL },
    { "rag_reason", TEXT, 0, 0, 0, 2000, NULL, NULL },
    { "start_date", DATE, 1, 0, 0, 0, NULL, NULL },
    { "due_date", DATE, 0, 1, 0, 0, NULL, NULL },
    { "budget", AMOUNT, 0, 1, 0, 0, NULL, NULL },
    { "actual", AMOUNT, 0, 0, 0, 0, NULL, NULL },
    { "milestones", MILESTONES, 0, 0, 0, 50, NULL, read_milestones },
    { NULL, TEXT, 0, 0, 0, 0, NULL, NULL }
};

static const char *const risk_statuses[] = { "open", "mitigating", "accepted", "closed", NULL };
static const field_t risk_fields[] = {
    { "title", TEXT, 1, 0, 1, 200, NULL, NULL },
    DESCRIPTION,
    { "likelihood", INTEGER, 1, 0, 1, 5, NULL, NULL },
    { "impact", INTEGER, 1, 0, 1, 5, NULL, NULL },
    OWNER,
    { "mitigation", TEXT, 0, 0, 0, 4000, NULL, NULL },
    { "status", CHOICE, 0, 0, 0, 0, risk_statuses, NULL },
    { "next_review", DATE, 0, 1, 0, 0, NULL, NULL },
    { NULL, TEXT, 0, 0, 0, 0, NULL, NULL }
};

static const char *const action_statuses[] = { "open", "done", "dropped", NULL };
static const field_t action_fields[] = {
    { "title", TEXT, 1, 0, 1, 200, NULL, NULL },
    DESCRIPTION,
    REVIEW,
    OWNER,
    { "due", DATE, 1, 0, 0, 0, NULL, NULL },
    { "status", CHOICE, 0, 0, 0, 0, action_statuses, NULL },
    { "done_on", DATE, 0, 0, 0, 0, NULL, NULL },
    { NULL, TEXT, 0, 0, 0, 0, NULL, NULL }
};

static const field_t decision_fields[] = {
    { "title", TEXT, 1, 0, 1, 200, NULL, NULL },
    { "decision", TEXT, 1, 0, 1, 4000, NULL, NULL },
    { "decided_by", TEXT, 1, 0, 1, 200, NULL, NULL },
    { "decided_on", DATE, 1, 0, 0, 0, NULL, NULL },
    REVIEW,
    OWNER,
    { NULL, TEXT, 0, 0, 0, 0, NULL, NULL }
};

static const char *const objective_statuses[] = {
    "on_track", "at_risk", "off_track", "achieved", "dropped", NULL
};
static const field_t objective_fields[] = {
    { "title", TEXT, 1, 0, 1, 200, NULL, NULL },
    DESCRIPTION,
    { "year", INTEGER, 1, 0, 2000, 2100, NULL, NULL },
    OWNER,
    { "status", CHOICE, 0, 0, 0, 0, objective_statuses, NULL },
    { "projects", IDS, 0, 0, 0, 50, NULL, NULL },
    { NULL, TEXT, 0, 0, 0, 0, NULL, NULL }
};

const msp_record_kind_t msp_projects = { "project", "projects", project_fields, "state" };
const msp_record_kind_t msp_risks = { "risk", "risks", risk_fields, "status" };
const msp_record_kind_t msp_actions = { "action", "actions", action_fields, "review_on" };
const msp_record_kind_t msp_decisions = {
    "decision", "decisions", decision_fields, "review_on"
};
const msp_record_kind_t msp_objectives = {
    "objective", "objectives", objective_fields, "year"
};

/* ---- who ------------------------------------------------------------------ */

/* Who writes governance records: app.role_may's "govern". */
static int
governs(const msp_principal_t *p)
{
    static const char *const roles[] = {
        "lead", "account_manager", "admin", "it_leader", NULL
    };
    return msp_principal_has_role(p, roles);
}

static msp_outcome_t
not_governing(msp_call_t *call, msp_reply_t *reply, const msp_record_kind_t *kind)
{
    return msp_reply_forbidden(call, reply, msp_printf(call,
        "The %s are written by the provider's account managers, leads and admins and the "
        "tenant's IT leader; staff of both sides read them.", kind->plural));
}

static const msp_record_kind_t *
kind_of(const msp_call_t *call)
{
    return call->route->data;
}

static msp_outcome_t
no_record(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, msp_printf(call, "There is no such %s in this "
                                                       "tenant.", kind_of(call)->name));
}

/* A record written or read: its ETag, and for a create where it lives. */
static msp_outcome_t
reply_record(msp_call_t *call, msp_reply_t *reply, int status, const char *id,
             const char *version, const char *doc, size_t len)
{
    const msp_record_kind_t *kind = kind_of(call);
    if (status == 201) {
        reply->location = msp_printf(call, "%s/v1/tenants/%s/%s/%s",
                                     call->base_url ? call->base_url : "",
                                     msp_param_slug(call, "slug"), kind->plural, id);
    }
    reply->etag = msp_printf(call, "\"%s\"", version);
    return msp_reply_json(call, reply, status, doc, len);
}

/* ---- POST: create --------------------------------------------------------- */

static const msp_sql_t sql_create_record = {
    "create_record",
    "SELECT id, version, doc FROM app.create_record($1, $2, $3::jsonb, $4)",
    4
};

typedef struct {
    msp_step_t create;         /* the step writing it, built up front */
    char       request_sha[MSP_SHA256_HEX_LEN + 1];
} create_state_t;

static msp_outcome_t
created(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, no_record, NULL, &early)) {
        return early;
    }
    return reply_record(call, reply, 201, PQgetvalue(res[0], 0, 0), PQgetvalue(res[0], 0, 1),
                        PQgetvalue(res[0], 0, 2), (size_t) PQgetlength(res[0], 0, 2));
}

/* A stored response replayed: its id and version are in the document. */
static msp_outcome_t
replay(msp_call_t *call, msp_reply_t *reply, const char *doc, size_t len)
{
    json_t *parsed = json_loadb(doc, len, 0, NULL);
    const char *id = json_string_value(json_object_get(parsed, "id"));
    const char *version = msp_printf(call, "%lld",
                                     (long long) json_integer_value(json_object_get(parsed,
                                                                                    "version")));
    const char *id_copy = id ? msp_strndup(call, id, strlen(id)) : "";
    json_decref(parsed);
    return reply_record(call, reply, 201, id_copy, version ? version : "1", doc, len);
}

static msp_outcome_t
create_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    create_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!governs(&t.as)) {
        return not_governing(call, reply, kind_of(call));
    }
    if (call->idempotency_key != NULL) {
        const char *stored;
        size_t stored_len;
        switch (msp_idempotency_claimed(call, reply, res[1], res[2], st->request_sha, &stored,
                                        &stored_len, &early)) {
        case MSP_KEY_OURS:
            break;
        case MSP_KEY_STORED:
            return replay(call, reply, stored, stored_len);
        default:
            return early;
        }
    }
    *next = st->create;
    return MSP_NEXT;
}

msp_outcome_t
msp_record_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const msp_record_kind_t *kind = kind_of(call);
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    if (call->idempotency_key != NULL && !msp_idempotency_key_valid(call->idempotency_key)) {
        return msp_reply_bad_idempotency_key(call, reply);
    }
    msp_outcome_t early;
    const char *fields = msp_fields_read_body(call, reply, kind->fields, 1,
                                              msp_printf(call, "Invalid %s", kind->name), &early);
    if (fields == NULL) {
        return early;
    }
    create_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;
    msp_stmt_t *s = &st->create.stmts[0];
    s->sql = &sql_create_record;
    s->params[0] = kind->name;
    s->params[1] = slug;
    s->params[2] = fields;
    s->params[3] = call->idempotency_key;
    st->create.nstmts = 1;
    st->create.last = 1;
    st->create.then = created;

    msp_step_tenant(first, slug);
    const char *path = msp_printf(call, "/v1/tenants/%s/%s", slug, kind->plural);
    if (msp_step_idempotency(call, first, slug, path, st->request_sha) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    first->then = create_checked;
    return MSP_NEXT;
}

/* ---- GET: one, and a page ------------------------------------------------- */

static const msp_sql_t sql_record_get = {
    "record_get",
    "SELECT doc, version FROM app.record_get($1, $2, $3::bigint)",
    3
};

static const msp_sql_t sql_record_list = {
    "record_list",
    "SELECT doc, id FROM app.record_list($1, $2, $3::jsonb, $4::bigint, $5::integer,"
    " $6::timestamptz)",
    6
};

/* Requesters and machine clients see no governance record. */
static msp_outcome_t
not_staff(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_forbidden(call, reply, msp_printf(call, "The %s are for staff of either "
                                                       "side.", kind_of(call)->plural));
}

static msp_outcome_t
record_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, no_record, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return not_staff(call, reply);
    }
    if (PQntuples(res[1]) != 1) {
        return no_record(call, reply);
    }
    return reply_record(call, reply, 200, NULL, PQgetvalue(res[1], 0, 1),
                        PQgetvalue(res[1], 0, 0), (size_t) PQgetlength(res[1], 0, 0));
}

/* The tenant, then the record at stmts[1]. */
static void
step_record(msp_step_t *step, const msp_record_kind_t *kind, const char *slug, const char *id)
{
    msp_step_tenant(step, slug);
    msp_stmt_t *s = &step->stmts[step->nstmts++];
    s->sql = &sql_record_get;
    s->params[0] = kind->name;
    s->params[1] = slug;
    s->params[2] = id;
}

msp_outcome_t
msp_record_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return no_record(call, reply);
    }
    step_record(first, kind_of(call), slug, id);
    first->read_only = 1;
    first->then = record_read;
    return MSP_NEXT;
}

static msp_outcome_t
page_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
          msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_sees_staff_level(&t.as)) {
        return not_staff(call, reply);
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

/* The filter a list was given ({"status": "open"}) as JSON text, checked
 * by its field's rule; NULL when none.  Errors go to errs. */
static const char *
read_filter(msp_call_t *call, const msp_record_kind_t *kind, const char *value,
            msp_errors_t *errs)
{
    const field_t *f = kind->fields;
    while (strcmp(f->name, kind->filter) != 0) {
        f++;
    }
    json_t *v = NULL;
    int64_t day;
    if (f->type == CHOICE) {
        for (const char *const *c = f->choices; *c != NULL && v == NULL; c++) {
            v = strcmp(*c, value) == 0 ? json_string(value) : NULL;
        }
    } else if (f->type == DATE) {
        v = msp_civil_date(value, strlen(value), &day) == 0 ? json_string(value) : NULL;
    } else if (f->type == INTEGER) {
        char *end;
        long long x = strtoll(value, &end, 10);
        v = *value != '\0' && *end == '\0' && x >= f->min && x <= f->max ? json_integer(x) : NULL;
    }
    if (v == NULL) {
        msp_errors_add(errs, kind->filter, "is not a value %s takes", kind->filter);
        return NULL;
    }
    json_t *filter = json_pack("{s:o}", kind->filter, v);
    char *text = filter ? json_dumps(filter, JSON_COMPACT) : NULL;
    json_decref(filter);
    const char *copy = text ? msp_strndup(call, text, strlen(text)) : NULL;
    free(text);
    return copy;
}

msp_outcome_t
msp_record_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const msp_record_kind_t *kind = kind_of(call);
    const char *known[] = { "limit", "after", "as_of", kind->filter, NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/%s", slug,
                                                       kind->plural), known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *value = kind->filter ? msp_args_get(&list->args, kind->filter) : NULL;
    const char *filter = value ? read_filter(call, kind, value, &errs) : NULL;
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
    s->sql = &sql_record_list;
    s->params[0] = kind->name;
    s->params[1] = slug;
    s->params[2] = filter;
    s->params[3] = list->page.after;
    s->params[4] = list->page.fetch;
    s->params[5] = as_of;
    first->read_only = 1;
    first->then = page_read;
    return MSP_NEXT;
}

/* ---- PATCH: change ---------------------------------------------------------- */

static const msp_sql_t sql_update_record = {
    "update_record",
    "SELECT id, version, doc FROM app.update_record($1, $2, $3::bigint, $4::integer, $5::jsonb)",
    5
};

typedef struct {
    msp_step_t update;         /* the step changing it, built up front */
} update_state_t;

static msp_outcome_t
stale_record(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_stale(call, reply, msp_printf(call, "the %s", kind_of(call)->name));
}

static msp_outcome_t
updated(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, stale_record, NULL, &early)) {
        return early;
    }
    return reply_record(call, reply, 200, NULL, PQgetvalue(res[0], 0, 1),
                        PQgetvalue(res[0], 0, 2), (size_t) PQgetlength(res[0], 0, 2));
}

static msp_outcome_t
update_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    update_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, no_record, &t, &early)) {
        return early;
    }
    if (!governs(&t.as)) {
        return not_governing(call, reply, kind_of(call));
    }
    if (PQntuples(res[1]) != 1) {
        return no_record(call, reply);
    }
    const char *version = PQgetvalue(res[1], 0, 1);
    if (msp_if_match(call->if_match, version) != 1) {
        reply->etag = msp_printf(call, "\"%s\"", version);
        return stale_record(call, reply);
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
msp_record_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const msp_record_kind_t *kind = kind_of(call);
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return no_record(call, reply);
    }
    if (call->if_match == NULL) {
        return msp_reply_if_match_required(call, reply, msp_printf(call, "the %s", kind->name));
    }
    if (msp_if_match(call->if_match, NULL) < 0) {
        return msp_reply_bad_if_match(call, reply);
    }
    msp_outcome_t early;
    const char *fields = msp_fields_read_body(call, reply, kind->fields, 0,
                                              msp_printf(call, "Invalid %s", kind->name), &early);
    if (fields == NULL) {
        return early;
    }
    update_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;
    msp_stmt_t *s = &st->update.stmts[0];
    s->sql = &sql_update_record;
    s->params[0] = kind->name;
    s->params[1] = slug;
    s->params[2] = id;
    s->params[4] = fields;
    st->update.nstmts = 1;
    st->update.last = 1;
    st->update.then = updated;

    step_record(first, kind, slug, id);
    first->then = update_checked;
    return MSP_NEXT;
}
