/*
 * tenant_apply.c - `mspctl tenant apply FILE...`: make the database match
 * the tenant files.
 *
 * Every file is read and validated first; if any is invalid, every error
 * is printed (file and field named) and nothing is changed.  Then all the
 * files are applied in one transaction: a new tenant is created (a row
 * in tenants and its ticket counter: no table or index of its own), a
 * changed one is updated, an unchanged one (same SHA-256 of its
 * normalized document) is left alone, so re-applying changes nothing.
 * Each change writes an audit row in the same transaction.
 */
#include "ctl.h"
#include "common/sha256.h"
#include "tenants/tenant_file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    json_t     *doc;       /* normalized */
    char       *canonical; /* sorted, compact JSON of doc */
    char        sha[MSP_SHA256_HEX_LEN + 1];
} tenant_file_t;

/* The slug a file must declare: its base name without ".json". */
static int
expected_slug(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len <= 5 || strcmp(base + len - 5, ".json") != 0 || len - 5 >= size) {
        return -1;
    }
    memcpy(out, base, len - 5);
    out[len - 5] = '\0';
    return 0;
}

/* Loads, validates and normalizes one file.  Prints the problems and
 * returns -1 when the file is not a valid tenant. */
static int
load_tenant_file(const char *path, tenant_file_t *tf)
{
    char slug[64];
    if (expected_slug(path, slug, sizeof(slug)) != 0) {
        fprintf(stderr, "%s: a tenant file is named <slug>.json\n", path);
        return -1;
    }

    json_error_t jerr;
    json_t *raw = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (raw == NULL) {
        fprintf(stderr, "%s: line %d, column %d: %s\n", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }

    msp_errors_t errs = { 0 };
    if (msp_tenant_validate(raw, slug, &errs) != 0) {
        for (size_t i = 0; i < errs.n; i++) {
            fprintf(stderr, "%s: %s: %s\n", path, errs.items[i].field, errs.items[i].message);
        }
        if (errs.dropped > 0) {
            fprintf(stderr, "%s: ... and %zu more errors\n", path, errs.dropped);
        }
        json_decref(raw);
        return -1;
    }

    tf->path = path;
    tf->doc = msp_tenant_normalize(raw);
    json_decref(raw);
    tf->canonical = tf->doc ? json_dumps(tf->doc, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    if (tf->canonical == NULL
        || msp_sha256_hex(tf->canonical, strlen(tf->canonical), tf->sha) != 0)
    {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    return 0;
}

/* A member of the normalized document as text: strings as they are,
 * objects and arrays as JSON (for jsonb parameters). */
static char *
member_text(const json_t *doc, const char *key)
{
    const json_t *v = json_object_get(doc, key);
    if (json_is_string(v)) {
        return strdup(json_string_value(v));
    }
    return json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
}

static const char *const document_columns[] = {
    "name", "ticket_prefix", "timezone", "co_management_model", "calendar",
    "holidays", "sla_policy", "escalation_policy", "contract", "reporting", "assets",
};
#define NCOLUMNS (sizeof(document_columns) / sizeof(document_columns[0]))

static int
audit(PGconn *conn, const char *tenant_id, const char *action, const char *target,
      const char *detail_json)
{
    const char *params[] = { tenant_id, action, target, detail_json };
    return ctl_run(conn,
                   "INSERT INTO audit_log (tenant_id, action, target, detail)"
                   " VALUES ($1, $2, $3, $4::jsonb)", 4, params);
}

/* Creates or updates one tenant.  Prints what it did; 0 or -1. */
static int
apply_tenant(PGconn *conn, const tenant_file_t *tf)
{
    const char *slug = json_string_value(json_object_get(tf->doc, "slug"));
    char *values[NCOLUMNS] = { 0 };
    int rc = -1;

    for (size_t i = 0; i < NCOLUMNS; i++) {
        if ((values[i] = member_text(tf->doc, document_columns[i])) == NULL) {
            ctl_error("out of memory");
            goto done;
        }
    }

    const char *lookup[] = { slug };
    PGresult *res = ctl_query(conn, "SELECT tenant_id, document_sha256 FROM tenants"
                                    " WHERE slug = $1 FOR UPDATE", 1, lookup);
    if (res == NULL) {
        goto done;
    }
    int exists = PQntuples(res) == 1;
    char tenant_id[64] = "", old_sha[MSP_SHA256_HEX_LEN + 1] = "";
    if (exists) {
        snprintf(tenant_id, sizeof(tenant_id), "%s", PQgetvalue(res, 0, 0));
        snprintf(old_sha, sizeof(old_sha), "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);

    const char *params[NCOLUMNS + 2];
    params[0] = exists ? tenant_id : slug;
    for (size_t i = 0; i < NCOLUMNS; i++) {
        params[i + 1] = values[i];
    }
    params[NCOLUMNS + 1] = tf->sha;

    const char *action = NULL;
    if (!exists) {
        res = ctl_query(conn,
            "INSERT INTO tenants (slug, name, ticket_prefix, timezone, co_management_model,"
            " calendar, holidays, sla_policy, escalation_policy, contract, reporting, assets,"
            " document_sha256)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb,"
            " $10::jsonb, $11::jsonb, $12::jsonb, $13) RETURNING tenant_id", NCOLUMNS + 2, params);
        if (res == NULL) {
            goto done;
        }
        snprintf(tenant_id, sizeof(tenant_id), "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        action = "tenant.create";
    } else if (strcmp(old_sha, tf->sha) != 0) {
        if (ctl_run(conn,
            "UPDATE tenants SET name = $2, ticket_prefix = $3, timezone = $4,"
            " co_management_model = $5, calendar = $6::jsonb, holidays = $7::jsonb,"
            " sla_policy = $8::jsonb, escalation_policy = $9::jsonb, contract = $10::jsonb,"
            " reporting = $11::jsonb, assets = $12::jsonb, document_sha256 = $13,"
            " updated_at = now()"
            " WHERE tenant_id = $1",
            NCOLUMNS + 2, params) != 0)
        {
            goto done;
        }
        action = "tenant.update";
    }

    /* A new calendar or policy applies to the open tickets at once. */
    long recomputed = 0;
    if (action != NULL && strcmp(action, "tenant.update") == 0
        && ctl_sla_recompute_tenant(conn, slug, &recomputed) != 0)
    {
        goto done;
    }

    const char *id_param[] = { tenant_id };
    if (action != NULL && strcmp(action, "tenant.create") == 0
        && ctl_run(conn, "INSERT INTO ticket_counters (tenant_id) VALUES ($1)", 1, id_param) != 0)
    {
        goto done;
    }
    if (action != NULL) {
        char target[96];
        snprintf(target, sizeof(target), "tenant:%s", slug);
        json_t *detail = json_pack("{s:s, s:s?}", "document_sha256", tf->sha,
                                   "previous_sha256", exists ? old_sha : NULL);
        char *detail_text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
        json_decref(detail);
        int failed = detail_text == NULL
                     || audit(conn, tenant_id, action, target, detail_text) != 0;
        free(detail_text);
        if (failed) {
            goto done;
        }
    }

    if (action == NULL) {
        printf("%s: unchanged\n", slug);
    } else if (strcmp(action, "tenant.update") == 0) {
        printf("%s: updated (%ld tickets' SLA clocks recomputed)\n", slug, recomputed);
    } else {
        printf("%s: created\n", slug);
    }
    rc = 0;

done:
    for (size_t i = 0; i < NCOLUMNS; i++) {
        free(values[i]);
    }
    return rc;
}

int
ctl_tenant_apply(int nfiles, char **paths)
{
    if (nfiles == 0) {
        ctl_error("usage: mspctl tenant apply FILE...");
        return 2;
    }

    tenant_file_t *files = calloc((size_t) nfiles, sizeof(*files));
    if (files == NULL) {
        ctl_error("out of memory");
        return 1;
    }

    int invalid = 0;
    for (int i = 0; i < nfiles; i++) {
        invalid += load_tenant_file(paths[i], &files[i]) != 0;
    }

    int rc = 1;
    PGconn *conn = NULL;
    if (invalid > 0) {
        ctl_error("%d of %d tenant files invalid; no tenant was changed", invalid, nfiles);
        goto done;
    }

    if ((conn = ctl_connect()) == NULL || ctl_begin(conn, "") != 0) {
        goto done;
    }
    for (int i = 0; i < nfiles; i++) {
        if (apply_tenant(conn, &files[i]) != 0) {
            ctl_run(conn, "ROLLBACK", 0, NULL);
            ctl_error("%s: not applied; no tenant was changed", files[i].path);
            goto done;
        }
    }
    if (ctl_run(conn, "COMMIT", 0, NULL) == 0) {
        rc = 0;
    }

done:
    PQfinish(conn);
    for (int i = 0; i < nfiles; i++) {
        json_decref(files[i].doc);
        free(files[i].canonical);
    }
    free(files);
    return rc;
}
