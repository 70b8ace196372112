/*
 * assets_import_api.c - POST /v1/tenants/{slug}/assets/import?profile=
 * intune|jamf|generic&dry_run=true|false: an MDM's export (the body, CSV
 * or JSON) imported into the tenant's assets, with the report of every
 * row: created, updated, unchanged or rejected with its reason.
 *
 * The body is read into rows here (asset_import.h), then one transaction
 * stages them and applies them (app.stage_assets, app.import_assets,
 * migrations/0026) and writes the import's audit row.  A dry run gives
 * the same report and rolls back.  A file that cannot be read at all
 * (UTF-16, semicolons, a required column missing) is refused whole with
 * 422, before anything runs.  The body is bounded by nginx's
 * client_max_body_size; larger exports go through `mspctl assets
 * import`, which streams.
 */
#include "assets/asset_import.h"
#include "assets/assets.h"
#include "auth/tenant_context.h"
#include "http/args.h"
#include "http/params.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

static const msp_sql_t sql_stage_assets = {
    "stage_assets",
    "SELECT app.stage_assets($1, $2::jsonb)",
    2
};

static const msp_sql_t sql_import_assets = {
    "import_assets",
    "SELECT line, outcome, asset_id, reason FROM app.import_assets($1, $2, NULL)",
    2
};

static const msp_sql_t sql_log_asset_import = {
    "log_asset_import",
    "SELECT app.log_asset_import($1, $2, $3::jsonb)",
    3
};

typedef struct {
    const char                *slug;
    const msp_asset_profile_t *profile;
    int                        dry_run;
    const char                *rows;       /* JSON, for app.stage_assets */
    json_t                    *report;     /* once the rows are applied */
} import_state_t;

/* ---- the body ------------------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t      left;
} body_t;

static long
body_fill(void *arg, char *buf, size_t size)
{
    body_t *b = arg;
    size_t n = b->left < size ? b->left : size;
    memcpy(buf, b->p, n);
    b->p += n;
    b->left -= n;
    return (long) n;
}

/* The body's rows as JSON text in the arena; NULL with the reply in *out. */
static const char *
read_rows(msp_call_t *call, msp_reply_t *reply, const msp_asset_profile_t *profile,
          msp_outcome_t *out)
{
    body_t body = { call->body ? call->body : "", call->body ? call->body_len : 0 };
    msp_asset_reader_t *r = msp_asset_reader_new(profile, body_fill, &body);
    json_t *rows = json_array(), *row;
    char why[512];
    int got = r && rows ? 1 : -2;
    while (got == 1 && (got = msp_asset_reader_next(r, &row, why, sizeof(why))) == 1) {
        got = json_array_append_new(rows, row) == 0 ? 1 : -2;
    }
    msp_asset_reader_free(r);
    const char *text = got == 0 ? msp_json_text(call, rows, JSON_COMPACT) : NULL;
    json_decref(rows);
    if (got == -1) {
        *out = msp_reply_problem(call, reply, 422, "unreadable-file", "The file cannot be "
                                 "imported", msp_printf(call, "%s. Nothing was imported.", why),
                                 NULL);
        return NULL;
    }
    if (text == NULL) {
        *out = msp_reply_out_of_memory(reply);
    }
    return text;
}

/* ---- the steps ------------------------------------------------------------------ */

static msp_outcome_t
logged(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    (void) next;
    import_state_t *st = call->state;
    const PGresult *failed = msp_first_error(res, nres);
    if (failed != NULL) {
        return msp_reply_sql_error(call, reply, failed);
    }
    json_t *report = st->report;
    st->report = NULL;
    return msp_reply_doc(call, reply, 200, report);
}

static void
free_report(void *arg)
{
    import_state_t *st = arg;
    json_decref(st->report);
}

/* The report of the rows applied; then the audit row, or for a dry run
 * the reply (the transaction rolls back). */
static msp_outcome_t
applied(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next, msp_reply_t *reply)
{
    import_state_t *st = call->state;
    const PGresult *failed = msp_first_error(res, nres);
    if (failed != NULL) {
        return msp_reply_sql_error(call, reply, failed);
    }
    const PGresult *rows = res[1];
    json_int_t counts[4] = { 0 };
    static const char *const outcomes[] = { "created", "updated", "unchanged", "rejected" };
    json_t *lines = json_array();
    for (int i = 0; i < PQntuples(rows) && lines != NULL; i++) {
        const char *outcome = PQgetvalue(rows, i, 1);
        for (int k = 0; k < 4; k++) {
            counts[k] += strcmp(outcome, outcomes[k]) == 0;
        }
        json_array_append_new(lines, json_pack(
            "{s:I, s:s, s:o, s:o}", "line", (json_int_t) strtoll(PQgetvalue(rows, i, 0), NULL, 10),
            "outcome", outcome,
            "asset_id", PQgetisnull(rows, i, 2) ? json_null()
                        : json_integer(strtoll(PQgetvalue(rows, i, 2), NULL, 10)),
            "reason", PQgetisnull(rows, i, 3) ? json_null()
                      : json_string(PQgetvalue(rows, i, 3))));
    }
    json_t *tally = json_pack("{s:I, s:I, s:I, s:I, s:I}", "rows", (json_int_t) PQntuples(rows),
                              "created", counts[0], "updated", counts[1], "unchanged",
                              counts[2], "rejected", counts[3]);
    st->report = json_pack("{s:s, s:b}", "profile", st->profile->name,
                           "dry_run", st->dry_run);
    if (lines == NULL || tally == NULL || st->report == NULL
        || json_object_update(st->report, tally) != 0
        || json_object_set_new(st->report, "lines", lines) != 0)
    {
        json_decref(tally);
        return msp_reply_out_of_memory(reply);
    }
    if (st->dry_run) {
        json_decref(tally);
        json_t *report = st->report;
        st->report = NULL;
        return msp_reply_doc(call, reply, 200, report);
    }
    const char *counts_text = msp_json_text(call, tally, JSON_COMPACT);
    json_decref(tally);
    if (counts_text == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    msp_stmt_t *s = &next->stmts[0];
    s->sql = &sql_log_asset_import;
    s->params[0] = st->slug;
    s->params[1] = st->profile->source;
    s->params[2] = counts_text;
    next->nstmts = 1;
    next->last = 1;
    next->then = logged;
    return MSP_NEXT;
}

static msp_outcome_t
import_checked(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
               msp_reply_t *reply)
{
    import_state_t *st = call->state;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, -1, msp_reply_no_tenant, &t, &early)) {
        return early;
    }
    if (!msp_writes_assets(&t.as)) {
        return msp_reply_not_asset_writer(call, reply);
    }
    msp_stmt_t *s = &next->stmts[0];
    s->sql = &sql_stage_assets;
    s->params[0] = st->slug;
    s->params[1] = st->rows;
    s = &next->stmts[1];
    s->sql = &sql_import_assets;
    s->params[0] = st->slug;
    s->params[1] = st->profile->source;
    next->nstmts = 2;
    next->then = applied;
    return MSP_NEXT;
}

msp_outcome_t
msp_asset_import_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    static const char *const known[] = { "profile", "dry_run", NULL };
    const char *slug = msp_param_slug(call, "slug");
    if (slug == NULL) {
        return msp_reply_no_tenant(call, reply);
    }
    msp_errors_t errs = { 0 };
    msp_args_t args;
    msp_args_parse(call, known, &args, &errs);
    const char *name = msp_args_get(&args, "profile");
    const char *dry_run = msp_args_get(&args, "dry_run");
    const msp_asset_profile_t *profile = msp_asset_profile(name ? name : "generic");
    if (profile == NULL) {
        msp_errors_add(&errs, "profile", "must be intune, jamf or generic");
    }
    if (dry_run != NULL && strcmp(dry_run, "true") != 0 && strcmp(dry_run, "false") != 0) {
        msp_errors_add(&errs, "dry_run", "must be true or false");
    }
    if (msp_errors_any(&errs)) {
        return msp_reply_invalid(call, reply, 400, "Invalid query", &errs);
    }
    import_state_t *st = msp_alloc(call, sizeof(*st));
    if (st == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    memset(st, 0, sizeof(*st));
    if (msp_call_on_free(call, free_report, st) != 0) {
        return msp_reply_out_of_memory(reply);
    }
    call->state = st;
    st->slug = slug;
    st->profile = profile;
    st->dry_run = dry_run != NULL && strcmp(dry_run, "true") == 0;
    msp_outcome_t early;
    if ((st->rows = read_rows(call, reply, profile, &early)) == NULL) {
        return early;
    }
    msp_step_tenant(first, slug);
    first->then = import_checked;
    return MSP_NEXT;
}
