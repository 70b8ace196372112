/*
 * assets.c - a tenant's assets under /v1/tenants/{slug}/assets: POST, GET
 * a page (with filters), GET one (as it is, or was at as_of), PATCH with
 * If-Match, and GET .../{id}/history and .../{id}/tickets.
 *
 * The body is read against the table of fields below; the fields given
 * go to the database as JSON (app.create_asset, app.update_asset,
 * migrations/0026), which writes the asset, its event (each changed
 * field's before and after) and its audit row in one statement, and holds
 * the rules that need the tenant: its custom fields as its tenant file
 * declares them, one serial and one tag per device.
 */
#include "assets/assets.h"
#include "auth/tenant_context.h"
#include "escalations/escalations.h"
#include "http/args.h"
#include "http/body_fields.h"
#include "http/idempotency.h"
#include "http/if_match.h"
#include "http/page.h"
#include "http/params.h"
#include "http/replies.h"
#include "sla/tz.h"
#include "tickets/ticket_rules.h"

#include <string.h>

/* ---- the fields ----------------------------------------------------------- */

static const char *const kinds[] = {
    "laptop", "desktop", "server", "phone", "tablet", "network", "printer", "saas_license",
    "other", NULL
};
static const char *const statuses[] = {
    "in_stock", "deployed", "in_repair", "retired", "lost", NULL
};
static const char *const criticalities[] = { "low", "medium", "high", "critical", NULL };

/* Optional text may be cleared with null; required text never is. */
#define TEXT(name, required, min, max) \
    { name, MSP_FIELD_TEXT, required, !(required), min, max, NULL, NULL }
#define OPTIONAL(name, type) { name, type, 0, 1, 0, 0, NULL, NULL }

static const msp_field_t fields[] = {
    TEXT("tag", 1, 1, 64),
    /* optional, but never null: an asset always has a name (its tag by default) */
    { "name", MSP_FIELD_TEXT, 0, 0, 1, 200, NULL, NULL },
    { "kind", MSP_FIELD_CHOICE, 1, 0, 0, 0, kinds, NULL },
    TEXT("manufacturer", 0, 1, 100),
    TEXT("model", 0, 1, 200),
    TEXT("serial", 0, 1, 100),
    TEXT("os", 0, 1, 100),
    TEXT("os_version", 0, 1, 100),
    TEXT("assigned_to", 0, 1, 200),
    TEXT("department", 0, 1, 200),
    TEXT("site", 0, 1, 200),
    { "status", MSP_FIELD_CHOICE, 0, 0, 0, 0, statuses, NULL },
    OPTIONAL("purchase_date", MSP_FIELD_DATE),
    OPTIONAL("warranty_end", MSP_FIELD_DATE),
    { "criticality", MSP_FIELD_CHOICE, 0, 0, 0, 0, criticalities, NULL },
    OPTIONAL("encrypted", MSP_FIELD_BOOL),
    OPTIONAL("enrolled", MSP_FIELD_BOOL),
    OPTIONAL("last_seen", MSP_FIELD_TIME),
    OPTIONAL("last_patched", MSP_FIELD_TIME),
    { "custom", MSP_FIELD_OBJECT, 0, 0, 0, 50, NULL, NULL },
    { NULL, MSP_FIELD_TEXT, 0, 0, 0, 0, NULL, NULL }
};

#undef TEXT
#undef OPTIONAL

/* ---- who ------------------------------------------------------------------ */

int
msp_reads_assets(const msp_principal_t *p)
{
    return msp_sees_staff_level(p);
}

int
msp_writes_assets(const msp_principal_t *p)
{
    static const char *const roles[] = {
        "technician", "lead", "account_manager", "admin", "it_staff", "it_leader", NULL
    };
    return msp_principal_has_role(p, roles);
}

msp_outcome_t
msp_reply_no_asset(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "There is no such asset in this tenant.");
}

msp_outcome_t
msp_reply_not_asset_reader(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_forbidden(call, reply, "Assets are for staff of either side.");
}

msp_outcome_t
msp_reply_not_asset_writer(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_forbidden(call, reply, "Assets are written by those who work tickets: "
                               "technicians, leads, account managers and admins of the "
                               "provider, the tenant's IT staff and IT leader.");
}

/* An asset written or read: its ETag, and for a create where it lives. */
static msp_outcome_t
reply_asset(msp_call_t *call, msp_reply_t *reply, int status, const char *id,
            const char *version, const char *doc, size_t len)
{
    if (status == 201) {
        reply->location = msp_printf(call, "%s/v1/tenants/%s/assets/%s",
                                     call->base_url ? call->base_url : "",
                                     msp_param_slug(call, "slug"), id);
    }
    reply->etag = msp_printf(call, "\"%s\"", version);
    return msp_reply_json(call, reply, status, doc, len);
}

/* ---- POST: create ----------------------------------------------------------- */

static const msp_sql_t sql_create_asset = {
    "create_asset",
    "SELECT id, version, doc FROM app.create_asset($1, $2::jsonb, $3)",
    3
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
    if (!msp_results_found(call, reply, res, nres, 0, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    return reply_asset(call, reply, 201, PQgetvalue(res[0], 0, 0), PQgetvalue(res[0], 0, 1),
                       PQgetvalue(res[0], 0, 2), (size_t) PQgetlength(res[0], 0, 2));
}

/* A stored response replayed: its id and version are in the document. */
static msp_outcome_t
replay(msp_call_t *call, msp_reply_t *reply, const char *doc, size_t len)
{
    json_t *parsed = json_loadb(doc, len, 0, NULL);
    const char *id = msp_printf(call, "%lld",
                                (long long) json_integer_value(json_object_get(parsed, "id")));
    const char *version = msp_printf(call, "%lld", (long long) json_integer_value(
                                         json_object_get(parsed, "version")));
    json_decref(parsed);
    if (id == NULL || version == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    return reply_asset(call, reply, 201, id, version, doc, len);
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
    if (!msp_writes_assets(&t.as)) {
        return msp_reply_not_asset_writer(call, reply);
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
msp_asset_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    if (call->idempotency_key != NULL && !msp_idempotency_key_valid(call->idempotency_key)) {
        return msp_reply_bad_idempotency_key(call, reply);
    }
    msp_outcome_t early;
    const char *given = msp_fields_read_body(call, reply, fields, 1, "Invalid asset", &early);
    if (given == NULL) {
        return early;
    }
    create_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    call->state = st;
    msp_stmt_t *s = &st->create.stmts[0];
    s->sql = &sql_create_asset;
    s->params[0] = slug;
    s->params[1] = given;
    s->params[2] = call->idempotency_key;
    st->create.nstmts = 1;
    st->create.last = 1;
    st->create.then = created;

    msp_step_tenant(first, slug);
    const char *path = msp_printf(call, "/v1/tenants/%s/assets", slug);
    if (path == NULL || msp_step_idempotency(call, first, slug, path, st->request_sha) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    first->then = create_checked;
    return MSP_NEXT;
}

/* ---- GET: one ----------------------------------------------------------------- */

static const msp_sql_t sql_asset_get = {
    "asset_get",
    "SELECT doc, version FROM app.asset_get($1, $2::bigint, $3::timestamptz)",
    3
};

static msp_outcome_t
asset_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
           msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_asset, &t, &early)) {
        return early;
    }
    if (!msp_reads_assets(&t.as)) {
        return msp_reply_not_asset_reader(call, reply);
    }
    if (PQntuples(res[1]) != 1) {
        return msp_reply_no_asset(call, reply);
    }
    return reply_asset(call, reply, 200, NULL, PQgetvalue(res[1], 0, 1),
                       PQgetvalue(res[1], 0, 0), (size_t) PQgetlength(res[1], 0, 0));
}

/* The tenant, then the asset (as of as_of, NULL for now) at stmts[1]. */
static void
step_asset(msp_step_t *step, const char *slug, const char *id, const char *as_of)
{
    msp_step_tenant(step, slug);
    msp_stmt_t *s = &step->stmts[step->nstmts++];
    s->sql = &sql_asset_get;
    s->params[0] = slug;
    s->params[1] = id;
    s->params[2] = as_of;
}

msp_outcome_t
msp_asset_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "as_of", NULL };
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return msp_reply_no_asset(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_args_t args;
    msp_args_parse(call, known, &args, &errs);
    const char *as_of = msp_args_get(&args, "as_of");
    if (as_of != NULL && !msp_arg_is_rfc3339(as_of)) {
        msp_errors_add(&errs, "as_of", "must be an RFC 3339 time, e.g. 2026-03-03T12:00:00Z");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    step_asset(first, slug, id, as_of);
    first->read_only = 1;
    first->then = asset_read;
    return MSP_NEXT;
}

/* ---- GET: pages ------------------------------------------------------------------ */

static const msp_sql_t sql_asset_list = {
    "asset_list",
    "SELECT doc, id FROM app.asset_list($1, $2::jsonb, $3::bigint, $4::integer)",
    4
};

static const msp_sql_t sql_asset_history = {
    "asset_history",
    "SELECT doc, id FROM app.asset_history($1, $2::bigint, $3::bigint, $4::integer)",
    4
};

static const msp_sql_t sql_asset_tickets = {
    "asset_tickets",
    "SELECT doc, id FROM app.asset_tickets($1, $2::bigint, $3::integer, $4::integer)",
    4
};

/* A page of the asset's history or tickets: 404 unless the asset is
 * there (stmts[2]). */
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
    if (!msp_reads_assets(&t.as)) {
        return msp_reply_not_asset_reader(call, reply);
    }
    if (nres > 2 && PQntuples(res[2]) != 1) {
        return msp_reply_no_asset(call, reply);
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

/* The filters of a list of assets, each by its rule, as one JSON object. */
static const char *
read_filters(msp_call_t *call, const msp_args_t *args, msp_errors_t *errs)
{
    static const struct {
        const char        *name;
        msp_field_type_t   type;
        const char *const *choices;
    } filters[] = {
        { "kind", MSP_FIELD_CHOICE, kinds }, { "status", MSP_FIELD_CHOICE, statuses },
        { "site", MSP_FIELD_TEXT, NULL }, { "department", MSP_FIELD_TEXT, NULL },
        { "user", MSP_FIELD_TEXT, NULL }, { "model", MSP_FIELD_TEXT, NULL },
        { "encrypted", MSP_FIELD_BOOL, NULL }, { "enrolled", MSP_FIELD_BOOL, NULL },
        { "patched_before", MSP_FIELD_DATE, NULL }, { "warranty_before", MSP_FIELD_DATE, NULL },
        { "not_seen_since", MSP_FIELD_TIME, NULL },
    };
    json_t *doc = json_object();
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]) && doc != NULL; i++) {
        const char *v = msp_args_get(args, filters[i].name);
        int64_t day;
        int ok = 1;
        if (v == NULL) {
            continue;
        }
        switch (filters[i].type) {
        case MSP_FIELD_CHOICE:
            ok = 0;
            for (const char *const *c = filters[i].choices; *c != NULL; c++) {
                ok |= strcmp(*c, v) == 0;
            }
            break;
        case MSP_FIELD_BOOL:
            ok = strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
            break;
        case MSP_FIELD_DATE:
            ok = msp_civil_date(v, strlen(v), &day) == 0;
            break;
        case MSP_FIELD_TIME:
            ok = msp_arg_is_rfc3339(v);
            break;
        default:
            ok = *v != '\0' && strlen(v) <= 200;
        }
        if (!ok) {
            msp_errors_add(errs, filters[i].name, "is not a value %s takes (README, \"Assets\")",
                           filters[i].name);
            continue;
        }
        json_object_set_new(doc, filters[i].name, filters[i].type == MSP_FIELD_BOOL
                                                      ? json_boolean(strcmp(v, "true") == 0)
                                                      : json_string(v));
    }
    const char *text = msp_json_text(call, doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

msp_outcome_t
msp_asset_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = {
        "limit", "after", "kind", "status", "site", "department", "user", "model",
        "encrypted", "enrolled", "patched_before", "warranty_before", "not_seen_since", NULL
    };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/assets", slug),
                                      known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *filter = read_filters(call, &list->args, &errs);
    if (list->page.after != NULL && !msp_cursor_is_id(list->page.after)) {
        msp_errors_add(&errs, "after", "is not a cursor this API handed out");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    if (filter == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_asset_list;
    s->params[0] = slug;
    s->params[1] = filter;
    s->params[2] = list->page.after;
    s->params[3] = list->page.fetch;
    first->read_only = 1;
    first->then = page_read;
    return MSP_NEXT;
}

/* GET .../assets/{id}/<what>: a page of sql, then the asset itself. */
static msp_outcome_t
asset_page_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply, const char *what,
                 const msp_sql_t *sql)
{
    static const char *const known[] = { "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return msp_reply_no_asset(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/assets/%s/%s",
                                                       slug, id, what), known, &errs);
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
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = sql;
    s->params[0] = slug;
    s->params[1] = id;
    s->params[2] = list->page.after;
    s->params[3] = list->page.fetch;
    s = &first->stmts[first->nstmts++];
    s->sql = &sql_asset_get;
    s->params[0] = slug;
    s->params[1] = id;
    first->read_only = 1;
    first->then = page_read;
    return MSP_NEXT;
}

msp_outcome_t
msp_asset_history_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return asset_page_start(call, first, reply, "history", &sql_asset_history);
}

msp_outcome_t
msp_asset_tickets_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return asset_page_start(call, first, reply, "tickets", &sql_asset_tickets);
}

/* ---- PATCH: change ---------------------------------------------------------------- */

static const msp_sql_t sql_update_asset = {
    "update_asset",
    "SELECT id, version, doc FROM app.update_asset($1, $2::bigint, $3::integer, $4::jsonb)",
    4
};

static msp_outcome_t
stale_asset(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_stale(call, reply, "the asset");
}

static msp_outcome_t
updated(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 0, stale_asset, NULL, &early)) {
        return early;
    }
    return reply_asset(call, reply, 200, NULL, PQgetvalue(res[0], 0, 1),
                       PQgetvalue(res[0], 0, 2), (size_t) PQgetlength(res[0], 0, 2));
}

static msp_outcome_t
update_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    msp_step_t *update = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_asset, &t, &early)) {
        return early;
    }
    if (!msp_reads_assets(&t.as)) {
        return msp_reply_not_asset_reader(call, reply);
    }
    if (!msp_writes_assets(&t.as)) {
        return msp_reply_not_asset_writer(call, reply);
    }
    if (PQntuples(res[1]) != 1) {
        return msp_reply_no_asset(call, reply);
    }
    const char *version = PQgetvalue(res[1], 0, 1);
    if (msp_if_match(call->if_match, version) != 1) {
        reply->etag = msp_printf(call, "\"%s\"", version);
        return stale_asset(call, reply);
    }
    /* the results go when this returns: the next step keeps a copy */
    const char *from = msp_strndup(call, version, strlen(version));
    if (from == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    *next = *update;
    next->stmts[0].params[2] = from;
    return MSP_NEXT;
}

msp_outcome_t
msp_asset_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *id = msp_param_id(call, "id");
    if (slug == NULL || id == NULL) {
        return msp_reply_no_asset(call, reply);
    }
    if (call->if_match == NULL) {
        return msp_reply_if_match_required(call, reply, "the asset");
    }
    if (msp_if_match(call->if_match, NULL) < 0) {
        return msp_reply_bad_if_match(call, reply);
    }
    msp_outcome_t early;
    const char *given = msp_fields_read_body(call, reply, fields, 0, "Invalid asset", &early);
    if (given == NULL) {
        return early;
    }
    msp_step_t *update = msp_alloc(call, sizeof(*update));
    if (update == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(update, 0, sizeof(*update));
    call->state = update;
    msp_stmt_t *s = &update->stmts[0];
    s->sql = &sql_update_asset;
    s->params[0] = slug;
    s->params[1] = id;
    s->params[3] = given;
    update->nstmts = 1;
    update->last = 1;
    update->then = updated;

    step_asset(first, slug, id, NULL);
    first->then = update_checked;
    return MSP_NEXT;
}
