/*
 * packs.c - the review packs' routes under /v1/tenants/{slug}/packs:
 *
 *   POST   .../packs                 ask for a pack (kind, period, as_of):
 *                                    202, rendered by the pack worker
 *   GET    .../packs                 the tenant's packs, newest id last
 *   GET    .../packs/{id}            the pack in the format asked (format=
 *                                    json, csv, html, pdf or manifest, or
 *                                    Accept); 202 with its progress while
 *                                    it is rendered
 *   GET    .../packs/{id}/verify     the stored files against the signed
 *                                    manifest and the provider's key
 *
 * Who: the provider's leads, account managers and admins ask; they,
 * auditors and the tenant's IT leader read.  Technicians, the tenant's IT
 * staff, requesters and machine clients are told packs are not for them.
 */
#include "packs/packs.h"

#include "auth/tenant_context.h"
#include "common/sha256.h"
#include "http/args.h"
#include "http/idempotency.h"
#include "http/json_body.h"
#include "http/page.h"
#include "http/params.h"
#include "http/replies.h"
#include "http/router.h"
#include "packs/pack.h"
#include "packs/pack_sign.h"
#include "reports/period.h"

#include <stdlib.h>
#include <string.h>

/* $1 slug, $2 kind, $3 period, $4 as_of or NULL: whether it may be asked
 * for (a problem, or none) and the pack's id. */
static const msp_sql_t sql_pack_request_check = {
    "pack_request_check",
    "SELECT problem, pack_id FROM app.pack_request_check($1, $2, $3, $4::timestamptz)",
    4
};

/* The same, and $5 the Idempotency-Key or NULL: asks for it; the problem
 * (a twin asked meanwhile), its id and its document. */
static const msp_sql_t sql_request_pack = {
    "request_pack",
    "SELECT problem, pack_id, doc::text"
    " FROM app.request_pack($1, $2, $3, $4::timestamptz, false, $5)",
    5
};

/* $1 slug, $2 kind or NULL, $3 period or NULL, $4 after (a pack id) or
 * NULL, $5 rows. */
static const msp_sql_t sql_list_packs = {
    "list_packs",
    "SELECT app.pack_doc(p, t.slug)::text, p.pack_id"
    " FROM tenants t JOIN packs p ON p.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND ($2::text IS NULL OR p.kind = $2)"
    "   AND ($3::text IS NULL OR p.period = $3) AND ($4::text IS NULL OR p.pack_id > $4)"
    " ORDER BY p.pack_id LIMIT $5::integer",
    5
};

/* $1 slug, $2 pack id, $3 the file's name or NULL: the pack, its signed
 * manifest, the key's public half, and the file's bytes. */
static const msp_sql_t sql_get_pack = {
    "get_pack",
    "SELECT app.pack_doc(p, t.slug)::text, p.state, p.failure, p.manifest, p.signature,"
    " p.key_id, k.public_key, f.content, f.media_type, f.sha256,"
    " $3::text IS NULL OR f.name IS NOT NULL"
    " FROM tenants t JOIN packs p ON p.tenant_id = t.tenant_id"
    " LEFT JOIN pack_keys k ON k.key_id = p.key_id"
    " LEFT JOIN pack_files f ON f.tenant_id = p.tenant_id AND f.pack_id = p.pack_id"
    "   AND f.name = $3"
    " WHERE t.slug = $1 AND p.pack_id = $2",
    3
};
enum { GET_DOC, GET_STATE, GET_FAILURE, GET_MANIFEST, GET_SIGNATURE, GET_KEY_ID,
       GET_PUBLIC_KEY, GET_CONTENT, GET_MEDIA_TYPE, GET_SHA256, GET_FILE_FOUND };

/* $1 slug, $2 pack id: each stored file's name, the hash stored with it
 * and the hash of its bytes now. */
static const msp_sql_t sql_pack_file_hashes = {
    "pack_file_hashes",
    "SELECT f.name, f.sha256, encode(sha256(f.content), 'hex')"
    " FROM tenants t JOIN pack_files f ON f.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND f.pack_id = $2 ORDER BY f.name",
    2
};

/* The portfolio packs': $1 pack id, $2 the file's name or NULL; the same
 * columns as sql_get_pack. */
static const msp_sql_t sql_get_portfolio_pack = {
    "get_portfolio_pack",
    "SELECT app.portfolio_pack_doc(p)::text, p.state, p.failure, p.manifest, p.signature,"
    " p.key_id, k.public_key, f.content, f.media_type, f.sha256,"
    " $2::text IS NULL OR f.name IS NOT NULL"
    " FROM portfolio_packs p LEFT JOIN pack_keys k ON k.key_id = p.key_id"
    " LEFT JOIN portfolio_pack_files f ON f.pack_id = p.pack_id AND f.name = $2"
    " WHERE p.pack_id = $1",
    2
};

/* $1 pack id: each stored file's name, its stored hash and its hash now. */
static const msp_sql_t sql_portfolio_pack_file_hashes = {
    "portfolio_pack_file_hashes",
    "SELECT f.name, f.sha256, encode(sha256(f.content), 'hex')"
    " FROM portfolio_pack_files f WHERE f.pack_id = $1 ORDER BY f.name",
    1
};

/* $1 kind, $2 period, $3 as_of or NULL. */
static const msp_sql_t sql_request_portfolio_pack = {
    "request_portfolio_pack",
    "SELECT problem, pack_id, doc::text"
    " FROM app.request_portfolio_pack($1, $2, $3::timestamptz)",
    3
};

/* $1 kind or NULL, $2 period or NULL, $3 after or NULL, $4 rows: the
 * principal's portfolio packs (row-level security: its own, while it sees
 * their tenants). */
static const msp_sql_t sql_list_portfolio_packs = {
    "list_portfolio_packs",
    "SELECT app.portfolio_pack_doc(p)::text, p.pack_id FROM portfolio_packs p"
    " WHERE ($1::text IS NULL OR p.kind = $1) AND ($2::text IS NULL OR p.period = $2)"
    "   AND ($3::text IS NULL OR p.pack_id > $3)"
    " ORDER BY p.pack_id LIMIT $4::integer",
    4
};

/* Where a pack is kept, from the route: a tenant's packs, whose first
 * statement is the tenant's, or the provider's portfolio packs. */
struct msp_pack_scope {
    const msp_sql_t *get;       /* one pack and a file (GET_* columns) */
    const msp_sql_t *hashes;    /* its files' hashes */
    int              tenant;
};
typedef msp_pack_scope_t pack_scope_t;

static const pack_scope_t tenant_packs = { &sql_get_pack, &sql_pack_file_hashes, 1 };
const pack_scope_t msp_portfolio_packs = {
    &sql_get_portfolio_pack, &sql_portfolio_pack_file_hashes, 0
};

static const pack_scope_t *
scope_of(const msp_call_t *call)
{
    return call->route->data ? call->route->data : &tenant_packs;
}

/* The statement reading one pack (and a file of it) for the scope, after
 * the tenant's when there is one. */
static void
step_pack(msp_step_t *step, const pack_scope_t *scope, const char *slug, const char *id,
          const char *file)
{
    if (scope->tenant) {
        msp_step_tenant(step, slug);
    }
    msp_stmt_t *s = &step->stmts[step->nstmts++];
    s->sql = scope->get;
    int i = 0;
    if (scope->tenant) {
        s->params[i++] = slug;
    }
    s->params[i++] = id ? id : "";
    s->params[i] = file;
}

/* The opening of the GET callbacks: the pack's row (NULL with *out the
 * reply when there is none or the reader may not see it). */
static const PGresult *
pack_found(msp_call_t *call, msp_reply_t *reply, PGresult *const *res, int nres,
           msp_outcome_t *out);

static const char *const pack_kinds[] = { "weekly", "monthly", "quarterly", NULL };

/* Who asks for packs: the provider's leads, account managers, admins. */
static int
asks_packs(const msp_principal_t *p)
{
    static const char *const roles[] = { "lead", "account_manager", "admin", NULL };
    return p->is_provider && msp_principal_has_role(p, roles);
}

/* Who reads them: those, auditors and the tenant's IT leader. */
static int
reads_packs(const msp_principal_t *p)
{
    static const char *const roles[] = { "lead", "account_manager", "admin", "auditor",
                                         "it_leader", NULL };
    return msp_principal_has_role(p, roles);
}

static msp_outcome_t
reply_not_for_role(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_forbidden(call, reply, "Review packs are for the provider's leads, account "
                               "managers and admins, auditors and the tenant's IT leader.");
}

/* The {id} of a pack's path ("monthly-2026-11-20261201T050000Z"), or
 * NULL when it cannot be one (then no pack has it: 404). */
static const char *
pack_param(msp_call_t *call)
{
    const msp_param_t *param = msp_param(call, "id");
    if (param == NULL || param->len > 64) {
        return NULL;
    }
    for (size_t i = 0; i < param->len; i++) {
        char c = param->data[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || c == '-'))
        {
            return NULL;
        }
    }
    return msp_strndup(call, param->data, param->len);
}

static msp_outcome_t
reply_no_pack(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "No such pack.");
}

/* ---- POST ------------------------------------------------------------------ */

typedef struct {
    const char *slug, *kind, *period, *as_of;
    const char *why;           /* a body that is not JSON: why */
    char        request_sha[MSP_SHA256_HEX_LEN + 1];
} request_t;

/* 202 with the pack's document (its id names its Location). */
static msp_outcome_t
reply_requested(msp_call_t *call, msp_reply_t *reply, const char *slug, const char *doc,
                size_t len)
{
    json_error_t error;
    json_t *parsed = json_loadb(doc, len, 0, &error);
    const char *id = json_string_value(json_object_get(parsed, "id"));
    reply->location = msp_printf(call, "%s/v1/tenants/%s/packs/%s",
                                 call->base_url ? call->base_url : "", slug, id ? id : "");
    json_decref(parsed);
    return msp_reply_json(call, reply, 202, doc, len);
}

/* The answer to a problem app.pack_request_check() names. */
static msp_outcome_t
reply_pack_problem(msp_call_t *call, msp_reply_t *reply, const request_t *rq,
                   const char *problem, const char *pack_id)
{
    msp_errors_t errs = { 0 };
    if (strcmp(problem, "unknown") == 0) {
        return msp_reply_no_tenant(call, reply);
    }
    if (strcmp(problem, "exists") == 0) {
        reply->location = msp_printf(call, "%s/v1/tenants/%s/packs/%s", call->base_url
                                     ? call->base_url : "", rq->slug, pack_id);
        return msp_reply_problem(call, reply, 409, "pack-exists", "Pack already asked for",
                                 msp_printf(call, "Pack %s of the same kind, period and as_of "
                                            "exists (Location); ask with another as_of for a "
                                            "new one.", pack_id), NULL);
    }
    if (strcmp(problem, "period") == 0) {
        msp_errors_add(&errs, "period", "is not a %s period", msp_pack_period_word(rq->kind));
    } else if (strcmp(problem, "not_ended") == 0) {
        msp_errors_add(&errs, "period", "has not ended yet in the tenant's time zone");
    } else if (strcmp(problem, "before_tenant") == 0) {
        msp_errors_add(&errs, "period", "ended before the tenant began (its contract's "
                                        "start_date)");
    } else {
        msp_errors_add(&errs, "as_of", "must be at or after the period's end, and not in the "
                                       "future");
    }
    return msp_reply_invalid(call, reply, 422, "Invalid pack", &errs);
}

static msp_outcome_t
pack_requested(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    (void) next;
    request_t *rq = call->state;
    const PGresult *failed = msp_first_error(res, nres);
    if (failed != NULL) {
        return msp_reply_sql_error(call, reply, failed);
    }
    if (!PQgetisnull(res[0], 0, 0)) {
        /* a twin asked for the same pack meanwhile */
        return reply_pack_problem(call, reply, rq, PQgetvalue(res[0], 0, 0),
                                  PQgetvalue(res[0], 0, 1));
    }
    return reply_requested(call, reply, rq->slug, PQgetvalue(res[0], 0, 2),
                           (size_t) PQgetlength(res[0], 0, 2));
}

static msp_outcome_t
pack_request_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                     msp_reply_t *reply)
{
    request_t *rq = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!asks_packs(&t.as)) {
        return msp_reply_forbidden(call, reply, "Packs are asked for by the provider's leads, "
                                   "account managers and admins.");
    }
    if (call->idempotency_key != NULL) {
        const char *stored;
        size_t stored_len;
        switch (msp_idempotency_claimed(call, reply, res[2], res[3], rq->request_sha, &stored,
                                        &stored_len, &early)) {
        case MSP_KEY_OURS:
            break;
        case MSP_KEY_STORED:
            return reply_requested(call, reply, rq->slug, stored, stored_len);
        default:
            return early;
        }
    }
    if (!PQgetisnull(res[1], 0, 0)) {
        return reply_pack_problem(call, reply, rq, PQgetvalue(res[1], 0, 0),
                                  PQgetvalue(res[1], 0, 1));
    }
    msp_stmt_t *s = &next->stmts[next->nstmts++];
    s->sql = &sql_request_pack;
    s->params[0] = rq->slug;
    s->params[1] = rq->kind;
    s->params[2] = rq->period;
    s->params[3] = rq->as_of;
    s->params[4] = call->idempotency_key;
    next->last = 1;
    next->then = pack_requested;
    return MSP_NEXT;
}

/* Reads the body of a request for a pack: kind, period (of the kind) and
 * as_of; what is wrong goes to errs.  -1 when the body is not JSON
 * (rq->why says why). */
static int
read_request(msp_call_t *call, request_t *rq, msp_errors_t *errs)
{
    msp_body_t body;
    if (msp_body_parse(&body, call->body, call->body_len, errs, &rq->why) != 0) {
        return -1;
    }
    const char *kind = NULL, *period = NULL, *as_of = NULL;
    msp_body_enum(&body, "kind", 1, pack_kinds, &kind);
    if (msp_body_string(&body, "period", 1, 1, MSP_PERIOD_NAME_MAX, &period) == 1) {
        msp_period_t p;
        const char *pwhy = NULL;
        static const msp_period_kind_t kinds[] = { MSP_PERIOD_WEEK, MSP_PERIOD_MONTH,
                                                   MSP_PERIOD_QUARTER };
        if (msp_period_parse(period, &p, &pwhy) != 0) {
            msp_errors_add(errs, "period", "%s", pwhy);
        } else if (kind != NULL) {
            int k = msp_pack_kind(kind);
            if (p.kind != kinds[k]) {
                msp_errors_add(errs, "period", "must be a %s for a %s pack (%s)",
                               msp_pack_period_word(kind), kind,
                               k == 0 ? "2026-W48" : k == 1 ? "2026-11" : "2026-Q4");
            }
        }
    }
    if (msp_body_string(&body, "as_of", 0, 1, 40, &as_of) == 1 && !msp_arg_is_rfc3339(as_of)) {
        msp_errors_add(errs, "as_of", "must be an RFC 3339 time, e.g. 2026-12-01T06:00:00Z");
    }
    msp_body_finish(&body);
    rq->kind = kind ? msp_strndup(call, kind, strlen(kind)) : NULL;
    rq->period = period ? msp_strndup(call, period, strlen(period)) : NULL;
    rq->as_of = as_of ? msp_strndup(call, as_of, strlen(as_of)) : NULL;
    msp_body_free(&body);
    return 0;
}

/* The request for a pack read from the body into the call's state, or
 * NULL with *out the reply: 400 for a body that is not JSON, 422 naming
 * the fields that are wrong. */
static request_t *
request_of(msp_call_t *call, msp_reply_t *reply, msp_outcome_t *out)
{
    request_t *rq = msp_alloc(call, sizeof(request_t));
    if (rq == NULL) {
        *out = msp_reply_out_of_memory(reply);
        return NULL;
    }
    memset(rq, 0, sizeof(*rq));
    msp_errors_t errs = { 0 };
    if (read_request(call, rq, &errs) != 0) {
        *out = msp_reply_malformed_body(call, reply, rq->why);
        return NULL;
    }
    if (msp_errors_any(&errs)) {
        *out = msp_reply_invalid(call, reply, 422, "Invalid pack", &errs);
        return NULL;
    }
    call->state = rq;
    return rq;
}

msp_outcome_t
msp_pack_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    if (call->idempotency_key != NULL && !msp_idempotency_key_valid(call->idempotency_key)) {
        return msp_reply_bad_idempotency_key(call, reply);
    }
    msp_outcome_t early;
    request_t *rq = request_of(call, reply, &early);
    if (rq == NULL) {
        return early;
    }
    rq->slug = slug;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_pack_request_check;
    s->params[0] = slug;
    s->params[1] = rq->kind;
    s->params[2] = rq->period;
    s->params[3] = rq->as_of;
    if (msp_step_idempotency(call, first, slug, msp_printf(call, "/v1/tenants/%s/packs", slug),
                             rq->request_sha) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    first->then = pack_request_checked;
    return MSP_NEXT;
}

/* ---- GET list --------------------------------------------------------------- */

static msp_outcome_t
packs_listed(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
             msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!reads_packs(&t.as)) {
        return reply_not_for_role(call, reply);
    }
    return msp_list_reply(call, reply, call->state, res[1]);
}

msp_outcome_t
msp_pack_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "kind", "period", "limit", "after", NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, msp_printf(call, "/v1/tenants/%s/packs", slug),
                                      known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *kind = msp_args_get(&list->args, "kind");
    const char *period = msp_args_get(&list->args, "period");
    if (kind != NULL && msp_pack_kind(kind) < 0) {
        msp_errors_add(&errs, "kind", "must be one of: weekly, monthly, quarterly");
    }
    if (period != NULL && strlen(period) > MSP_PERIOD_NAME_MAX) {
        msp_errors_add(&errs, "period", "is not a period");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_step_tenant(first, slug);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_list_packs;
    s->params[0] = slug;
    s->params[1] = kind;
    s->params[2] = period;
    s->params[3] = list->page.after;
    s->params[4] = list->page.fetch;
    first->read_only = 1;
    first->then = packs_listed;
    return MSP_NEXT;
}

/* ---- GET one ------------------------------------------------------------------ */

typedef struct {
    const char *format;     /* json, csv, html, pdf, manifest */
    const char *file;       /* the stored file's name, NULL for the manifest */
    int         bom;
} fetch_t;

/* The format asked for: format= first, else Accept; json by default. */
static const char *
format_asked(const msp_call_t *call, const char *format)
{
    if (format != NULL) {
        return format;
    }
    const char *accept = call->accept ? call->accept : "";
    if (strstr(accept, "application/pdf") != NULL) {
        return "pdf";
    }
    if (strstr(accept, "text/html") != NULL) {
        return "html";
    }
    if (strstr(accept, "text/csv") != NULL || strstr(accept, "application/zip") != NULL) {
        return "csv";
    }
    return "json";
}

static msp_outcome_t
reply_bytes(msp_call_t *call, msp_reply_t *reply, const PGresult *row, const fetch_t *f)
{
    size_t len = 0;
    unsigned char *bytes = PQunescapeBytea(
        (const unsigned char *) PQgetvalue(row, 0, GET_CONTENT), &len);
    if (bytes == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    size_t bom = f->bom ? 3 : 0;
    char *body = msp_alloc(call, len + bom + 1);
    if (body == NULL) {
        PQfreemem(bytes);
        return msp_reply_out_of_memory(reply);
    }
    memcpy(body, "\xef\xbb\xbf", bom);
    memcpy(body + bom, bytes, len);
    PQfreemem(bytes);
    reply->status = 200;
    reply->body = body;
    reply->body_len = len + bom;
    reply->content_type = strcmp(f->format, "pdf") == 0 ? "application/pdf"
                        : strcmp(f->format, "html") == 0 ? "text/html; charset=utf-8"
                        : strcmp(f->format, "json") == 0 ? "application/json"
                        : strncmp(f->file, "csv/", 4) == 0 ? "text/csv; charset=utf-8"
                                                           : "application/zip";
    /* the file's hash is its identity: it never changes */
    reply->etag = bom ? NULL : msp_printf(call, "\"%s\"", PQgetvalue(row, 0, GET_SHA256));
    return MSP_REPLY;
}

/* The manifest document: what `mspctl pack verify` takes. */
static msp_outcome_t
reply_manifest(msp_call_t *call, msp_reply_t *reply, const PGresult *row)
{
    json_error_t error;
    json_t *manifest = json_loads(PQgetvalue(row, 0, GET_MANIFEST), 0, &error);
    if (manifest == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    json_t *doc = json_pack("{s:o, s:s, s:s, s:s}", "manifest", manifest, "signature",
                            PQgetvalue(row, 0, GET_SIGNATURE), "key_id",
                            PQgetvalue(row, 0, GET_KEY_ID), "public_key",
                            PQgetvalue(row, 0, GET_PUBLIC_KEY));
    return msp_reply_doc(call, reply, 200, doc);
}

static const PGresult *
pack_found(msp_call_t *call, msp_reply_t *reply, PGresult *const *res, int nres,
           msp_outcome_t *out)
{
    const pack_scope_t *scope = scope_of(call);
    if (scope->tenant) {
        msp_tenant_t t;
        if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, out)) {
            return NULL;
        }
        if (!reads_packs(&t.as)) {
            *out = reply_not_for_role(call, reply);
            return NULL;
        }
    } else if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, NULL, out)) {
        return NULL;
    }
    /* a portfolio pack: row-level security shows it to its asker only */
    const PGresult *row = res[scope->tenant ? 1 : 0];
    if (PQntuples(row) == 0) {
        *out = reply_no_pack(call, reply);
        return NULL;
    }
    return row;
}

static msp_outcome_t
pack_read(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
          msp_reply_t *reply)
{
    (void) next;
    fetch_t *f = call->state;
    msp_outcome_t early;
    const PGresult *row = pack_found(call, reply, res, nres, &early);
    if (row == NULL) {
        return early;
    }
    const char *state = PQgetvalue(row, 0, GET_STATE);
    if (strcmp(state, "failed") == 0) {
        return msp_reply_problem(call, reply, 409, "pack-failed", "The pack failed",
                                 msp_printf(call, "It could not be rendered (%s); ask for it "
                                            "again.", PQgetvalue(row, 0, GET_FAILURE)), NULL);
    }
    if (strcmp(state, "issued") != 0) {
        /* still being rendered: how far it is */
        return msp_reply_json(call, reply, 202, PQgetvalue(row, 0, GET_DOC),
                              (size_t) PQgetlength(row, 0, GET_DOC));
    }
    if (f->file == NULL) {
        return reply_manifest(call, reply, row);
    }
    if (strcmp(PQgetvalue(row, 0, GET_FILE_FOUND), "t") != 0) {
        return msp_reply_not_found(call, reply, "The pack has no such table.");
    }
    return reply_bytes(call, reply, row, f);
}

msp_outcome_t
msp_pack_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "format", "table", "bom", NULL };
    static const char *const formats[] = { "json", "csv", "html", "pdf", "manifest" };
    const pack_scope_t *scope = scope_of(call);
    const char *slug = msp_param_slug(call, "slug");
    const char *id = pack_param(call);
    if (scope->tenant && slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_args_t args;
    msp_args_parse(call, known, &args, &errs);
    fetch_t *f = msp_alloc(call, sizeof(fetch_t));
    if (f == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    f->format = format_asked(call, msp_args_get(&args, "format"));
    int known_format = 0;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        known_format |= strcmp(f->format, formats[i]) == 0;
    }
    if (!known_format) {
        msp_errors_add(&errs, "format", "must be one of: json, csv, html, pdf, manifest");
    }
    const char *table = msp_args_get(&args, "table");
    const char *bom = msp_args_get(&args, "bom");
    if (table != NULL && (strcmp(f->format, "csv") != 0 || strlen(table) > 64
                          || strspn(table, "abcdefghijklmnopqrstuvwxyz0123456789_-")
                             != strlen(table)))
    {
        msp_errors_add(&errs, "table", "must name a table of the pack, with format=csv");
    }
    if (bom != NULL && (strcmp(bom, "0") != 0 && strcmp(bom, "1") != 0)) {
        msp_errors_add(&errs, "bom", "must be 0 or 1");
    }
    f->bom = bom != NULL && strcmp(bom, "1") == 0;
    if (f->bom && (table == NULL)) {
        msp_errors_add(&errs, "bom", "applies to one table's CSV (table=...)");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    f->file = strcmp(f->format, "manifest") == 0 ? NULL
            : table != NULL ? msp_printf(call, "csv/%s.csv", table)
            : strcmp(f->format, "csv") == 0 ? "pack-csv.zip"
            : msp_printf(call, "pack.%s", f->format);
    call->state = f;
    step_pack(first, scope, slug, id, f->file);
    first->read_only = 1;
    first->then = pack_read;
    return MSP_NEXT;
}

/* ---- verify -------------------------------------------------------------------- */

static msp_outcome_t
pack_verified(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
              msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    const PGresult *row = pack_found(call, reply, res, nres, &early);
    if (row == NULL) {
        return early;
    }
    const PGresult *files = res[scope_of(call)->tenant ? 2 : 1];
    if (strcmp(PQgetvalue(row, 0, GET_STATE), "issued") != 0) {
        return msp_reply_problem(call, reply, 409, "pack-not-issued", "The pack is not issued",
                                 "Only an issued pack has a signed manifest to verify.", NULL);
    }
    const char *text = PQgetvalue(row, 0, GET_MANIFEST);
    int signed_ok = msp_pack_verify(PQgetvalue(row, 0, GET_PUBLIC_KEY), text, strlen(text),
                                    PQgetvalue(row, 0, GET_SIGNATURE)) == 1;
    json_error_t error;
    json_t *manifest = json_loads(text, 0, &error);
    json_t *listed = json_object_get(manifest, "files");
    json_t *checked = json_array();
    int all = signed_ok && manifest != NULL
              && json_object_size(listed) == (size_t) PQntuples(files);
    for (int i = 0; i < PQntuples(files); i++) {
        const char *name = PQgetvalue(files, i, 0), *now = PQgetvalue(files, i, 2);
        const char *signed_hash = json_string_value(json_object_get(listed, name));
        int ok = signed_hash != NULL && strcmp(signed_hash, now) == 0
                 && strcmp(PQgetvalue(files, i, 1), now) == 0;
        all &= ok;
        json_array_append_new(checked, json_pack("{s:s, s:s, s:b}", "name", name, "sha256", now,
                                                 "matches", ok));
    }
    json_decref(manifest);
    json_t *doc = json_pack("{s:s, s:b, s:b, s:s, s:s, s:o}", "pack", pack_param(call),
                            "valid", all, "signature_valid", signed_ok, "key_id",
                            PQgetvalue(row, 0, GET_KEY_ID), "public_key",
                            PQgetvalue(row, 0, GET_PUBLIC_KEY), "files", checked);
    return msp_reply_doc(call, reply, 200, doc);
}

msp_outcome_t
msp_pack_verify_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const pack_scope_t *scope = scope_of(call);
    const char *slug = msp_param_slug(call, "slug");
    const char *id = pack_param(call);
    if (scope->tenant && slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_args_t args;
    static const char *const known[] = { NULL };
    msp_args_parse(call, known, &args, &errs);
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    step_pack(first, scope, slug, id, NULL);
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = scope->hashes;
    int i = 0;
    if (scope->tenant) {
        s->params[i++] = slug;
    }
    s->params[i] = id ? id : "";
    first->read_only = 1;
    first->then = pack_verified;
    return MSP_NEXT;
}

/* ---- the portfolio pack: POST and GET /v1/portfolio-packs ------------------ */

static msp_outcome_t
portfolio_requested(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                    msp_reply_t *reply)
{
    (void) next;
    request_t *rq = call->state;
    const PGresult *failed = msp_first_error(res, nres);
    if (failed != NULL) {
        return msp_reply_sql_error(call, reply, failed);
    }
    const char *problem = PQgetisnull(res[0], 0, 0) ? NULL : PQgetvalue(res[0], 0, 0);
    if (problem == NULL) {
        reply->location = msp_printf(call, "%s/v1/portfolio-packs/%s",
                                     call->base_url ? call->base_url : "",
                                     PQgetvalue(res[0], 0, 1));
        return msp_reply_json(call, reply, 202, PQgetvalue(res[0], 0, 2),
                              (size_t) PQgetlength(res[0], 0, 2));
    }
    if (strcmp(problem, "unknown") == 0) {
        return msp_reply_forbidden(call, reply, "Portfolio packs are for the provider's leads, "
                                   "account managers and admins.");
    }
    if (strcmp(problem, "exists") == 0) {
        reply->location = msp_printf(call, "%s/v1/portfolio-packs/%s",
                                     call->base_url ? call->base_url : "",
                                     PQgetvalue(res[0], 0, 1));
        return msp_reply_problem(call, reply, 409, "pack-exists", "Pack already asked for",
                                 "Your portfolio pack of the same kind, period and as_of "
                                 "exists (Location).", NULL);
    }
    if (strcmp(problem, "empty") == 0) {
        return msp_reply_problem(call, reply, 409, "portfolio-empty", "No tenants",
                                 "You are assigned to no tenant: a portfolio pack would be "
                                 "empty.", NULL);
    }
    return reply_pack_problem(call, reply, rq, problem, "");
}

msp_outcome_t
msp_portfolio_pack_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    msp_outcome_t early;
    request_t *rq = request_of(call, reply, &early);
    if (rq == NULL) {
        return early;
    }
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_request_portfolio_pack;
    s->params[0] = rq->kind;
    s->params[1] = rq->period;
    s->params[2] = rq->as_of;
    first->last = 1;
    first->then = portfolio_requested;
    return MSP_NEXT;
}

static msp_outcome_t
portfolio_packs_listed(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
                       msp_reply_t *reply)
{
    (void) next;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, NULL, &early)) {
        return early;
    }
    return msp_list_reply(call, reply, call->state, res[0]);
}

msp_outcome_t
msp_portfolio_pack_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "kind", "period", "limit", "after", NULL };
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(call, "/v1/portfolio-packs", known, &errs);
    if (list == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    const char *kind = msp_args_get(&list->args, "kind");
    const char *period = msp_args_get(&list->args, "period");
    if (kind != NULL && msp_pack_kind(kind) < 0) {
        msp_errors_add(&errs, "kind", "must be one of: weekly, monthly, quarterly");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    call->state = list;
    msp_stmt_t *s = &first->stmts[first->nstmts++];
    s->sql = &sql_list_portfolio_packs;
    s->params[0] = kind;
    s->params[1] = period;
    s->params[2] = list->page.after;
    s->params[3] = list->page.fetch;
    first->read_only = 1;
    first->then = portfolio_packs_listed;
    return MSP_NEXT;
}
