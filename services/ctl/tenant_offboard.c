/*
 * tenant_offboard.c - `mspctl tenant offboard SLUG --export DIR`.
 *
 * In one transaction: lock the tenant's partitions against writes, export
 * every table's rows of the tenant as CSV into a new directory with a
 * manifest (row counts and SHA-256s), check the counts against the
 * database, then detach and drop the partitions and delete the tenant's
 * rows from the shared tables.  If anything fails, the transaction rolls
 * back and the directory is removed: the tenant is either fully exported
 * and gone, or untouched.
 */
#include "ctl.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every table that holds tenant rows, with its export query.  The tenant
 * is a bind parameter set once with set_config (COPY takes no parameters);
 * rows are ordered by primary key so that an export is reproducible. */
static const struct {
    const char *table;
    const char *copy;
    const char *count;
} exports[] = {
#define OF_TENANT " WHERE tenant_id = current_setting('msp.offboard_tenant')::uuid"
#define EXPORT(table, key) { table, \
    "COPY (SELECT * FROM " table OF_TENANT " ORDER BY " key ") TO STDOUT WITH (FORMAT csv, HEADER)", \
    "SELECT count(*) FROM " table OF_TENANT }
    EXPORT("tenants", "tenant_id"),
    EXPORT("assignments", "subject"),
    EXPORT("ticket_counters", "tenant_id"),
    EXPORT("idempotency_keys", "subject, key"),
    EXPORT("tickets", "number"),
    EXPORT("assets", "asset_id"),
    EXPORT("ticket_assets", "ticket_number, asset_id"),
    EXPORT("ticket_events", "event_id"),
    EXPORT("escalations", "escalation_id"),
    EXPORT("audit_log", "audit_id"),
#undef EXPORT
#undef OF_TENANT
};
#define NEXPORTS (sizeof(exports) / sizeof(exports[0]))

typedef struct {
    long long rows;
    char      sha[MSP_SHA256_HEX_LEN + 1];
} export_result_t;

static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Runs one COPY TO STDOUT into dir/<table>.csv, counting data rows (every
 * COPY message is one row, even when a field holds a newline) and hashing
 * the bytes written. */
static int
export_table(PGconn *conn, const char *dir, size_t i, export_result_t *out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.csv", dir, exports[i].table);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        ctl_error("%s: %s", path, strerror(errno));
        return -1;
    }

    PGresult *res = PQexec(conn, exports[i].copy);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        ctl_error("exporting %s: %s", exports[i].table, PQresultErrorMessage(res));
        PQclear(res);
        close(fd);
        return -1;
    }
    PQclear(res);

    msp_sha256_t *sha = msp_sha256_new();
    long long messages = 0;
    int failed = sha == NULL;
    char *buf;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        if (!failed) {
            msp_sha256_update(sha, buf, (size_t) n);
            failed = write_all(fd, buf, (size_t) n) != 0;
        }
        messages++;
        PQfreemem(buf);
    }

    res = PQgetResult(conn);
    if (n == -2 || PQresultStatus(res) != PGRES_COMMAND_OK) {
        ctl_error("exporting %s: %s", exports[i].table, PQerrorMessage(conn));
        failed = 1;
    }
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL) {
        PQclear(res);
    }

    if (fsync(fd) != 0 || close(fd) != 0) {
        failed = 1;
    }
    if (sha != NULL) {
        msp_sha256_finish(sha, out->sha);
    }
    if (failed) {
        ctl_error("%s: could not write the export", path);
        return -1;
    }
    out->rows = messages - 1; /* the first message is the header */
    return 0;
}

/* The database's own count must equal what was written. */
static int
check_count(PGconn *conn, size_t i, long long rows)
{
    PGresult *res = ctl_query(conn, exports[i].count, 0, NULL);
    if (res == NULL) {
        return -1;
    }
    long long counted = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (counted != rows) {
        ctl_error("%s: exported %lld rows but the database holds %lld",
                  exports[i].table, rows, counted);
        return -1;
    }
    return 0;
}

static int
write_manifest(const char *dir, const char *slug, const char *tenant_id,
               const char *exported_at, const export_result_t *results)
{
    json_t *tables = json_array();
    for (size_t i = 0; i < NEXPORTS; i++) {
        char file[128];
        snprintf(file, sizeof(file), "%s.csv", exports[i].table);
        json_array_append_new(tables, json_pack("{s:s, s:s, s:I, s:s}",
            "table", exports[i].table, "file", file,
            "rows", (json_int_t) results[i].rows, "sha256", results[i].sha));
    }
    json_t *manifest = json_pack("{s:s, s:s, s:s, s:s, s:o}",
        "tenant", slug, "tenant_id", tenant_id, "exported_at", exported_at,
        "format", "csv with header, UTF-8", "tables", tables);

    char path[4096];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    int rc = manifest ? json_dump_file(manifest, path, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
    json_decref(manifest);
    if (rc != 0) {
        ctl_error("%s: could not write the manifest", path);
    }
    return rc;
}

static void
remove_export(const char *dir)
{
    char path[4096];
    for (size_t i = 0; i < NEXPORTS; i++) {
        snprintf(path, sizeof(path), "%s/%s.csv", dir, exports[i].table);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    unlink(path);
    rmdir(dir);
}

int
ctl_tenant_offboard(const char *slug, const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) == 0 || errno != ENOENT) {
        ctl_error("%s already exists; offboarding exports into a new directory", dir);
        return 1;
    }

    PGconn *conn = ctl_connect();
    if (conn == NULL) {
        return 1;
    }

    int rc = 1, made_dir = 0;
    export_result_t results[NEXPORTS];
    const char *slug_param[] = { slug };
    PGresult *res = NULL;

    if (ctl_begin(conn, "") != 0
        || (res = ctl_query(conn, "SELECT tenant_id, to_char(now() AT TIME ZONE 'UTC',"
                                  " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                                  " FROM tenants WHERE slug = $1 FOR UPDATE",
                            1, slug_param)) == NULL)
    {
        goto done;
    }
    if (PQntuples(res) != 1) {
        ctl_error("no tenant '%s'", slug);
        goto done;
    }
    char tenant_id[64], exported_at[64];
    snprintf(tenant_id, sizeof(tenant_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(exported_at, sizeof(exported_at), "%s", PQgetvalue(res, 0, 1));

    const char *id_param[] = { tenant_id };
    if (ctl_run(conn, "SELECT app.lock_tenant_partitions($1)", 1, id_param) != 0
        || ctl_run(conn, "SELECT set_config('msp.offboard_tenant', $1, true)", 1, id_param) != 0)
    {
        goto done;
    }

    if (mkdir(dir, 0700) != 0) {
        ctl_error("cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    made_dir = 1;

    for (size_t i = 0; i < NEXPORTS; i++) {
        if (export_table(conn, dir, i, &results[i]) != 0
            || check_count(conn, i, results[i].rows) != 0)
        {
            goto done;
        }
    }
    if (write_manifest(dir, slug, tenant_id, exported_at, results) != 0) {
        goto done;
    }

    if (ctl_run(conn, "SELECT app.drop_tenant($1)", 1, id_param) != 0
        || ctl_run(conn, "COMMIT", 0, NULL) != 0)
    {
        goto done;
    }

    for (size_t i = 0; i < NEXPORTS; i++) {
        printf("%-16s %8lld rows  sha256 %s\n", exports[i].table, results[i].rows, results[i].sha);
    }
    printf("%s: exported to %s and removed\n", slug, dir);
    rc = 0;

done:
    if (rc != 0) {
        if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
            ctl_run(conn, "ROLLBACK", 0, NULL);
        }
        if (made_dir) {
            remove_export(dir);
        }
        ctl_error("%s: not offboarded; nothing was changed", slug);
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}
