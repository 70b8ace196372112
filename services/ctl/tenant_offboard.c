/*
 * tenant_offboard.c - `mspctl tenant offboard SLUG --export DIR`.
 *
 * In one transaction: close the tenant's gate (app.tenant_gate in
 * migrations/0009), which every write request passes first, so that the
 * writes in flight end and later ones wait; lock the tenant's tickets, so
 * that the SLA sweep (which skips locked tickets) leaves them alone; then,
 * table by table, children before parents, delete the tenant's rows and
 * stream what was deleted as CSV into a new directory, with a manifest
 * (row counts and SHA-256s); the tenant's own row last.  What a table's
 * file holds is exactly what was deleted from it, by the same statement; a
 * row added elsewhere meanwhile would break a foreign key and roll
 * everything back.  If anything fails, the transaction
 * rolls back and the directory is removed: the tenant is either fully
 * exported and gone, or untouched.  Rows are streamed, and sorted by the
 * database, so memory stays bounded however big the tenant.
 */
#include "ctl.h"
#include "common/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every table that holds tenant rows, children before parents, with the
 * key its export is sorted by (so that an export is reproducible).  The
 * tenant is named by msp.offboarding, set once for the transaction (COPY
 * takes no parameters); it is also what lets the append-only history and
 * audit log give up this tenant's rows. */
static const struct {
    const char *table;
    const char *key;
} exports[] = {
    { "ticket_assets", "ticket_number, asset_id" },
    { "ticket_open_spans", "ticket_number, opened_at" },
    { "ticket_sla_facts", "ticket_number, valid_from" },
    { "ticket_status_changes", "ticket_number, event_id" },
    { "ticket_report_facts", "ticket_number" },
    { "report_headlines", "from_at, to_at" },
    { "time_entries", "entry_id" },
    { "satisfaction_ratings", "ticket_number" },
    { "governance_events", "event_id" },
    { "pack_files", "pack_id, name" },
    { "asset_events", "asset_id, event_id" },
    { "asset_import_rows", "import_xact, line" },
    { "packs", "pack_id" },
    { "objectives", "objective_id" },
    { "projects", "project_id" },
    { "risks", "risk_id" },
    { "actions", "action_id" },
    { "decisions", "decision_id" },
    { "ticket_events", "event_id" },
    { "escalations", "escalation_id" },
    { "audit_log", "audit_id" },
    { "idempotency_keys", "subject, key" },
    { "tickets", "number" },
    { "assets", "asset_id" },
    { "ticket_counters", "tenant_id" },
    { "assignments", "subject" },
    { "tenants", "tenant_id" },
};
#define NEXPORTS (sizeof(exports) / sizeof(exports[0]))

/* The gate is waited for in the lock's queue, where later writes queue
 * behind the offboarding; the writes in flight end at the latest at the
 * gateway's statement timeout.  Row locks held by others (the sweep on a
 * ticket, mspctl on the tenant) are waited for in short tries, shorter
 * than the deadlock check, so that the database never picks the
 * offboarding as a deadlock's victim. */
#define GATE_WAIT      "60s"
#define LOCK_TRY_MS    "200ms"
#define LOCK_TRIES     600

/* Whether res failed because a lock was not granted in time. */
static int
lock_not_granted(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state != NULL && strcmp(state, "55P03") == 0;
}

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

/* Deletes the tenant's rows of table i with one COPY (DELETE ... RETURNING)
 * TO STDOUT into dir/<table>.csv, counting data rows (every COPY message is
 * one row, even when a field holds a newline) and hashing the bytes
 * written.  Returns 0, -1 on failure, 1 when a row lock was not granted in
 * time (the statement failed; undo it and try again). */
static int
export_table(PGconn *conn, const char *dir, size_t i, export_result_t *out)
{
    char path[4096], copy[512];
    snprintf(path, sizeof(path), "%s/%s.csv", dir, exports[i].table);
    snprintf(copy, sizeof(copy),
             "COPY (WITH gone AS (DELETE FROM %s"
             " WHERE tenant_id = current_setting('msp.offboarding')::uuid RETURNING *)"
             " SELECT * FROM gone ORDER BY %s) TO STDOUT WITH (FORMAT csv, HEADER)",
             exports[i].table, exports[i].key);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        ctl_error("%s: %s", path, strerror(errno));
        return -1;
    }

    PGresult *res = PQexec(conn, copy);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        int busy = lock_not_granted(res);
        if (!busy) {
            ctl_error("exporting %s: %s", exports[i].table, PQresultErrorMessage(res));
        }
        PQclear(res);
        close(fd);
        return busy ? 1 : -1;
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

    /* The DELETE runs as the rows stream: a lock it waited for in vain is
     * reported here, at the end of the copy. */
    int busy = 0;
    res = PQgetResult(conn);
    if (n == -2 || PQresultStatus(res) != PGRES_COMMAND_OK) {
        busy = lock_not_granted(res);
        if (!busy) {
            ctl_error("exporting %s: %s", exports[i].table, PQerrorMessage(conn));
        }
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
    if (busy) {
        return 1;
    }
    if (failed) {
        ctl_error("%s: could not write the export", path);
        return -1;
    }
    out->rows = messages - 1; /* the first message is the header */
    return 0;
}

/* Runs try(arg) in a savepoint while it answers 1 (a lock not granted in
 * time), pausing between tries: 0 or -1 as try answers last. */
static int
waiting(PGconn *conn, const char *what, int (*try)(PGconn *conn, void *arg), void *arg)
{
    for (int n = 0; n < LOCK_TRIES; n++) {
        if (ctl_run(conn, "SAVEPOINT waiting", 0, NULL) != 0) {
            return -1;
        }
        int rc = try(conn, arg);
        if (rc <= 0) {
            return rc == 0 ? ctl_run(conn, "RELEASE SAVEPOINT waiting", 0, NULL) : -1;
        }
        if (ctl_run(conn, "ROLLBACK TO SAVEPOINT waiting", 0, NULL) != 0) {
            return -1;
        }
        nanosleep(&(struct timespec) { .tv_nsec = 100 * 1000 * 1000 }, NULL);
    }
    ctl_error("%s: the tenant's requests kept its rows locked", what);
    return -1;
}

typedef struct {
    const char      *dir;
    size_t           i;
    export_result_t *out;
} export_try_t;

static int
try_export(PGconn *conn, void *arg)
{
    export_try_t *t = arg;
    return export_table(conn, t->dir, t->i, t->out);
}

/* Locks the tenant's tickets (arg: its id) until the end of the
 * transaction. */
static int
try_lock(PGconn *conn, void *arg)
{
    const char *id[] = { arg };
    PGresult *res = PQexecParams(conn,
        "SELECT count(*) FROM (SELECT FROM tickets WHERE tenant_id = $1 FOR UPDATE) locked",
        1, NULL, id, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : lock_not_granted(res) ? 1 : -1;
    if (rc < 0) {
        ctl_error("locking the tenant's tickets: %s", PQresultErrorMessage(res));
    }
    PQclear(res);
    return rc;
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
                                  " FROM tenants WHERE slug = $1",
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
    if (ctl_run(conn, "SET LOCAL lock_timeout = '" GATE_WAIT "'", 0, NULL) != 0
        || ctl_run(conn, "SELECT pg_advisory_xact_lock(app.tenant_gate($1))", 1, id_param) != 0
        || ctl_run(conn, "SET LOCAL lock_timeout = '" LOCK_TRY_MS "'", 0, NULL) != 0
        || waiting(conn, slug, try_lock, tenant_id) != 0
        || ctl_run(conn, "SELECT set_config('msp.offboarding', $1, true)", 1, id_param) != 0)
    {
        goto done;
    }

    if (mkdir(dir, 0700) != 0) {
        ctl_error("cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    made_dir = 1;

    for (size_t i = 0; i < NEXPORTS; i++) {
        export_try_t t = { dir, i, &results[i] };
        if (waiting(conn, exports[i].table, try_export, &t) != 0) {
            goto done;
        }
    }
    /* the provider's portfolio packs that show the tenant go with it */
    if (ctl_run(conn, "SELECT app.forget_portfolio_packs($1::uuid)", 1, id_param) != 0
        || write_manifest(dir, slug, tenant_id, exported_at, results) != 0
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
