/*
 * asset_import.c - `mspctl assets import SLUG FILE [--profile P]
 * [--dry-run]`: an MDM's device export imported into a tenant's assets
 * (README, "Importing assets"), as POST .../assets/import does, for files
 * of any size: the export is streamed (CSV; a JSON export is read whole),
 * staged in batches and applied in chunks in one transaction, with
 * progress on stderr.  Each rejected row is printed with its line and
 * reason, then the counts.  Exit status 0 when every row was imported, 1
 * when some were rejected or nothing could be, 2 for a usage error.
 */
#include "ctl.h"
#include "assets/asset_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per staging statement and per applying statement, and how often
 * a long import says how far it is. */
#define STAGE_BATCH 1000
#define APPLY_BATCH 5000
#define PROGRESS    10000

typedef struct {
    long created, updated, unchanged, rejected, rows;
} tally_t;

static long
file_fill(void *arg, char *buf, size_t size)
{
    FILE *f = arg;
    size_t n = fread(buf, 1, size, f);
    return ferror(f) ? -1 : (long) n;
}

static int
stage(PGconn *conn, const char *slug, json_t *batch)
{
    if (json_array_size(batch) == 0) {
        return 0;
    }
    char *rows = json_dumps(batch, JSON_COMPACT);
    if (rows == NULL) {
        ctl_error("out of memory");
        return -1;
    }
    const char *params[] = { slug, rows };
    int rc = ctl_run(conn, "SELECT app.stage_assets($1, $2::jsonb)", 2, params);
    free(rows);
    json_array_clear(batch);
    return rc;
}

/* Reads the export into the staging table: 0, or -1 (after saying why). */
static int
read_export(PGconn *conn, const char *slug, const msp_asset_profile_t *profile, FILE *f,
            const char *path, tally_t *tally)
{
    msp_asset_reader_t *r = msp_asset_reader_new(profile, file_fill, f);
    json_t *batch = json_array(), *row;
    char why[512];
    int got, rc = -1;
    if (r == NULL || batch == NULL) {
        ctl_error("out of memory");
        goto done;
    }
    while ((got = msp_asset_reader_next(r, &row, why, sizeof(why))) == 1) {
        if (json_array_append_new(batch, row) != 0) {
            ctl_error("out of memory");
            goto done;
        }
        if (json_array_size(batch) >= STAGE_BATCH && stage(conn, slug, batch) != 0) {
            goto done;
        }
        if (msp_asset_reader_rows(r) % PROGRESS == 0) {
            fprintf(stderr, "mspctl: %ld rows read\n", msp_asset_reader_rows(r));
        }
    }
    if (got < 0) {
        ctl_error("%s: %s: nothing was imported", path, why);
        goto done;
    }
    rc = stage(conn, slug, batch);
    tally->rows = msp_asset_reader_rows(r);
done:
    json_decref(batch);
    msp_asset_reader_free(r);
    return rc;
}

/* Applies the staged rows a chunk at a time: 0, or -1. */
static int
apply(PGconn *conn, const char *slug, const msp_asset_profile_t *profile, tally_t *tally)
{
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", APPLY_BATCH);
    const char *params[] = { slug, profile->source, limit };
    long done = 0;
    for (;;) {
        PGresult *res = ctl_query(conn, "SELECT line, outcome, reason"
                                        " FROM app.import_assets($1, $2, $3::integer)",
                                  3, params);
        if (res == NULL) {
            return -1;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            const char *outcome = PQgetvalue(res, i, 1);
            if (strcmp(outcome, "created") == 0) {
                tally->created++;
            } else if (strcmp(outcome, "updated") == 0) {
                tally->updated++;
            } else if (strcmp(outcome, "unchanged") == 0) {
                tally->unchanged++;
            } else {
                tally->rejected++;
                printf("line %s: rejected: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
            }
        }
        PQclear(res);
        done += n;
        if (n < APPLY_BATCH) {
            return 0;
        }
        if (done % PROGRESS == 0 || done == tally->rows) {
            fprintf(stderr, "mspctl: %ld of %ld rows applied\n", done, tally->rows);
        }
    }
}

static int
usage_error(void)
{
    ctl_error("usage: mspctl assets import SLUG FILE [--profile intune|jamf|generic] "
              "[--dry-run]");
    return 2;
}

int
ctl_assets(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "import") != 0) {
        return usage_error();
    }
    const char *slug = argv[2], *path = argv[3], *name = "generic";
    int dry_run = 0;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) {
            dry_run = 1;
        } else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else {
            return usage_error();
        }
    }
    const msp_asset_profile_t *profile = msp_asset_profile(name);
    if (profile == NULL) {
        ctl_error("no profile '%s': intune, jamf or generic", name);
        return 2;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        ctl_error("%s: %s", path, strerror(errno));
        return 1;
    }
    PGconn *conn = ctl_connect();
    if (conn == NULL) {
        fclose(f);
        return 1;
    }
    tally_t tally = { 0, 0, 0, 0, 0 };
    const char *params[] = { slug };
    PGresult *res = NULL;
    int rc = 1;
    if (ctl_begin(conn, "") != 0
        || (res = ctl_query(conn, "SELECT 1 FROM tenants WHERE slug = $1 FOR SHARE", 1,
                            params)) == NULL)
    {
        goto done;
    }
    if (PQntuples(res) != 1) {
        ctl_error("no tenant '%s'", slug);
        goto done;
    }
    if (read_export(conn, slug, profile, f, path, &tally) != 0
        || apply(conn, slug, profile, &tally) != 0)
    {
        goto done;
    }
    char counts[160];
    snprintf(counts, sizeof(counts), "{\"rows\": %ld, \"created\": %ld, \"updated\": %ld,"
             " \"unchanged\": %ld, \"rejected\": %ld}", tally.rows, tally.created,
             tally.updated, tally.unchanged, tally.rejected);
    const char *log[] = { slug, profile->source, counts };
    if ((!dry_run && ctl_run(conn, "SELECT app.log_asset_import($1, $2, $3::jsonb)", 3,
                             log) != 0)
        || ctl_run(conn, dry_run ? "ROLLBACK" : "COMMIT", 0, NULL) != 0)
    {
        goto done;
    }
    printf("created %ld, updated %ld, unchanged %ld, rejected %ld, of %ld rows in %s%s\n",
           tally.created, tally.updated, tally.unchanged, tally.rejected, tally.rows, path,
           dry_run ? " (dry run: nothing was written)" : "");
    rc = tally.rejected > 0 ? 1 : 0;
done:
    PQclear(res);
    PQfinish(conn);
    fclose(f);
    return rc;
}
