/*
 * migrate.c - `mspctl migrate`: apply numbered SQL files in order.
 *
 * Each file runs in its own transaction together with the row that records
 * its name and SHA-256.  Before anything runs, the applied history is
 * checked against the files: an applied file that was edited or removed,
 * or a new file numbered before an applied one, stops the command with
 * nothing changed.  Migrations are forward-only: a fix is a new file.
 */
#include "ctl.h"
#include "common/sha256.h"

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char  *name;
    char  *sql;
    char   sha[MSP_SHA256_HEX_LEN + 1];
} migration_t;

typedef struct {
    migration_t *items;
    size_t       n;
} migration_list_t;

/* Any session that migrates holds this advisory lock, so two deployments
 * starting at once apply each file exactly once. */
#define MIGRATE_LOCK_KEY "7346528201"

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const migration_t *) a)->name, ((const migration_t *) b)->name);
}

static void
free_migrations(migration_list_t *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].name);
        free(list->items[i].sql);
    }
    free(list->items);
}

/* Reads every *.sql file of dir, sorted by name.  A .sql file whose name
 * is not NNNN_words.sql is an error: it would otherwise be silently
 * skipped. */
static int
load_migrations(const char *dir, migration_list_t *list)
{
    regex_t valid;
    regcomp(&valid, "^[0-9]{4}_[a-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB);

    DIR *d = opendir(dir);
    if (d == NULL) {
        ctl_error("cannot open migrations directory %s", dir);
        regfree(&valid);
        return -1;
    }

    int rc = 0;
    size_t cap = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0) {
            continue;
        }
        if (regexec(&valid, e->d_name, 0, NULL, 0) != 0) {
            ctl_error("%s/%s: a migration is named NNNN_words.sql", dir, e->d_name);
            rc = -1;
            break;
        }
        if (list->n == cap) {
            cap = cap ? cap * 2 : 16;
            migration_t *items = realloc(list->items, cap * sizeof(*items));
            if (items == NULL) {
                ctl_error("out of memory");
                rc = -1;
                break;
            }
            list->items = items;
        }

        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        migration_t *m = &list->items[list->n];
        size_t sql_len;
        m->sql = ctl_read_file(path, &sql_len);
        m->name = strdup(e->d_name);
        if (m->sql == NULL || m->name == NULL) {
            free(m->sql);
            free(m->name);
            rc = -1;
            break;
        }
        list->n++;
        if (msp_sha256_hex(m->sql, sql_len, m->sha) != 0) {
            ctl_error("out of memory");
            rc = -1;
        }
    }
    closedir(d);
    regfree(&valid);

    if (rc == 0) {
        qsort(list->items, list->n, sizeof(migration_t), by_name);
    }
    return rc;
}

static const migration_t *
find_migration(const migration_list_t *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++) {
        if (strcmp(list->items[i].name, name) == 0) {
            return &list->items[i];
        }
    }
    return NULL;
}

static int
was_applied(const PGresult *applied, const char *name)
{
    for (int i = 0; i < PQntuples(applied); i++) {
        if (strcmp(PQgetvalue(applied, i, 0), name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Compares the recorded history with the files.  Prints every problem;
 * returns how many there were. */
static int
check_history(const PGresult *applied, const migration_list_t *files)
{
    int problems = 0;
    const char *last_applied = "";

    for (int i = 0; i < PQntuples(applied); i++) {
        const char *name = PQgetvalue(applied, i, 0);
        const char *sha = PQgetvalue(applied, i, 1);
        const migration_t *m = find_migration(files, name);

        if (m == NULL) {
            ctl_error("%s was applied but its file is missing", name);
            problems++;
        } else if (strcmp(m->sha, sha) != 0) {
            ctl_error("%s was edited after it was applied (recorded sha256 %.12s..., "
                      "file now %.12s...); write a new migration instead", name, sha, m->sha);
            problems++;
        }
        last_applied = name;
    }

    for (size_t i = 0; i < files->n; i++) {
        const migration_t *m = &files->items[i];
        if (!was_applied(applied, m->name) && strcmp(m->name, last_applied) < 0) {
            ctl_error("%s is new but sorts before %s, which is already applied; "
                      "renumber it after the last applied migration", m->name, last_applied);
            problems++;
        }
    }
    return problems;
}

static int
apply_one(PGconn *conn, const migration_t *m)
{
    if (ctl_run(conn, "BEGIN", 0, NULL) != 0) {
        return -1;
    }

    /* A migration is a script of many statements: the simple query
     * protocol runs them all, inside the transaction opened above. */
    PGresult *res = PQexec(conn, m->sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        ctl_error("%s failed: %s", m->name, PQresultErrorMessage(res));
        PQclear(res);
        ctl_run(conn, "ROLLBACK", 0, NULL);
        return -1;
    }
    PQclear(res);

    const char *params[] = { m->name, m->sha };
    if (ctl_run(conn, "INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)",
                2, params) != 0
        || ctl_run(conn, "COMMIT", 0, NULL) != 0)
    {
        ctl_run(conn, "ROLLBACK", 0, NULL);
        return -1;
    }
    printf("applied %s\n", m->name);
    return 0;
}

int
ctl_migrate(int argc, char **argv)
{
    const char *dir = getenv("MSP_MIGRATIONS_DIR");
    if (dir == NULL || *dir == '\0') {
        dir = "migrations";
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else {
            ctl_error("usage: mspctl migrate [--dir DIR]");
            return 2;
        }
    }

    migration_list_t files = { 0 };
    if (load_migrations(dir, &files) != 0) {
        free_migrations(&files);
        return 1;
    }

    PGconn *conn = ctl_connect();
    if (conn == NULL) {
        free_migrations(&files);
        return 1;
    }

    int rc = 1;
    PGresult *applied = NULL;
    if (ctl_run(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) != 0
        || ctl_run(conn,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " name text PRIMARY KEY,"
                   " sha256 text NOT NULL,"
                   " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL) != 0
        || (applied = ctl_query(conn, "SELECT name, sha256 FROM schema_migrations "
                                      "ORDER BY name", 0, NULL)) == NULL)
    {
        goto done;
    }

    if (check_history(applied, &files) > 0) {
        ctl_error("nothing was applied");
        goto done;
    }

    int count = 0;
    for (size_t i = 0; i < files.n; i++) {
        if (was_applied(applied, files.items[i].name)) {
            continue;
        }
        if (apply_one(conn, &files.items[i]) != 0) {
            goto done;
        }
        count++;
    }

    if (count == 0) {
        printf("schema is up to date (%zu migrations applied)\n", files.n);
    }
    rc = 0;

done:
    PQclear(applied);
    PQfinish(conn);
    free_migrations(&files);
    return rc;
}
