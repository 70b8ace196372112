/*
 * time_import.c - `mspctl time import SLUG FILE [--dry-run]`: time
 * entries from a time-tracking export (CSV, RFC 4180, UTF-8, a header
 * row), with a report of the rows created, unchanged and rejected, each
 * rejection with its line and reason.
 *
 * Columns (any order; names are case-insensitive; README lists them):
 * ticket, subject, side, date (or worked_on), minutes (or hours), and
 * optionally billable, in_scope, note, id.  Each row is checked here,
 * then written in batches by app.import_time_entries (migrations/0024),
 * which checks what only the database knows (the ticket, the tenant's
 * today) and writes each entry with its event and audit row.  The whole
 * file is one transaction: a file that cannot be read writes nothing.
 *
 * Importing the same file again changes nothing: each entry keeps its
 * row's key, the export's id when it has one, else a digest of the row
 * (and of how many identical rows came before it in the file).
 */
#include "ctl.h"
#include "common/csv_reader.h"
#include "common/sha256.h"
#include "sla/tz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Rows per statement, and how often a long import says how far it is. */
#define BATCH       500
#define PROGRESS    10000
#define MAX_FIELDS  32
#define RECORD_MAX  65536

enum { COL_TICKET, COL_SUBJECT, COL_SIDE, COL_DATE, COL_MINUTES, COL_HOURS, COL_BILLABLE,
       COL_IN_SCOPE, COL_NOTE, COL_ID, NCOLS };

/* Each column's names, the first the one README documents. */
static const char *const column_names[NCOLS][3] = {
    { "ticket", NULL }, { "subject", NULL }, { "side", NULL }, { "date", "worked_on", NULL },
    { "minutes", NULL }, { "hours", NULL }, { "billable", NULL }, { "in_scope", NULL },
    { "note", NULL }, { "id", NULL },
};

/* ---- the keys seen in this file --------------------------------------- */

/* An open-addressing table of the rows' keys, for the ids a file repeats
 * and for how many identical rows came before one. */
typedef struct {
    char  **keys;
    long   *lines;
    size_t  size;      /* a power of two, at least twice the rows */
} key_table_t;

static size_t
slot_of(const key_table_t *t, const char *key)
{
    unsigned long h = 14695981039346656037UL;
    for (const unsigned char *c = (const unsigned char *) key; *c; c++) {
        h = (h ^ *c) * 1099511628211UL;
    }
    size_t i = h & (t->size - 1);
    while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0) {
        i = (i + 1) & (t->size - 1);
    }
    return i;
}

/* The line that had key first, or 0 after adding it for line; -1 when out
 * of memory. */
static long
key_seen(key_table_t *t, const char *key, long line)
{
    size_t i = slot_of(t, key);
    if (t->keys[i] != NULL) {
        return t->lines[i];
    }
    t->keys[i] = strdup(key);
    t->lines[i] = line;
    return t->keys[i] ? 0 : -1;
}

/* ---- one row ----------------------------------------------------------- */

typedef struct {
    long created, unchanged, rejected, rows;
} tally_t;

static void
reject(tally_t *tally, long line, const char *fmt, const char *detail)
{
    printf("line %ld: rejected: ", line);
    printf(fmt, detail ? detail : "");
    putchar('\n');
    tally->rejected++;
}

/* true/false, yes/no, 1/0; empty is the default, true.  -1 otherwise. */
static int
flag(const char *s)
{
    if (*s == '\0' || strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0
        || strcmp(s, "1") == 0)
    {
        return 1;
    }
    if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0) {
        return 0;
    }
    return -1;
}

/* A whole number of minutes from 1 to 1440, or hours with up to two
 * decimals (rounded to the minute); -1 when not. */
static long
minutes_of(const char *minutes, const char *hours)
{
    char *end;
    if (minutes != NULL) {
        long m = strtol(minutes, &end, 10);
        return *minutes != '\0' && *end == '\0' && m >= 1 && m <= 1440 ? m : -1;
    }
    double h = strtod(hours, &end);
    const char *dot = strchr(hours, '.');
    if (*hours == '\0' || *end != '\0' || h <= 0 || h > 24 || (dot && strlen(dot + 1) > 2)) {
        return -1;
    }
    long m = (long) (h * 60 + 0.5);
    return m >= 1 && m <= 1440 ? m : -1;
}

/* "ACME-42": the prefix and the number; -1 when not a ticket id. */
static int
ticket_of(const char *id, char *prefix, size_t size, long *number)
{
    const char *dash = strrchr(id, '-');
    char *end;
    if (dash == NULL || dash == id || (size_t) (dash - id) >= size || dash[1] == '\0') {
        return -1;
    }
    *number = strtol(dash + 1, &end, 10);
    if (*end != '\0' || *number < 1 || *number > 2147483647L || dash[1] == '+'
        || dash[1] == '-' || dash[1] == ' ')
    {
        return -1;
    }
    memcpy(prefix, id, (size_t) (dash - id));
    prefix[dash - id] = '\0';
    return 0;
}

static int
has_control_characters(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/*
 * Checks one record against the columns (col[i]: the field index of
 * column i, or -1) and adds it to the batch as JSON; a row that is wrong
 * is reported and counted.  0, or -1 when out of memory.
 */
static int
read_row(char **f, size_t n, const int *col, long line, key_table_t *keys, json_t *batch,
         tally_t *tally)
{
    const char *v[NCOLS];
    for (int i = 0; i < NCOLS; i++) {
        v[i] = col[i] >= 0 && (size_t) col[i] < n ? f[col[i]] : (col[i] >= 0 ? "" : NULL);
    }
    char prefix[64];
    long number, minutes = minutes_of(v[COL_MINUTES], v[COL_HOURS]);
    int64_t day;
    int billable = flag(v[COL_BILLABLE] ? v[COL_BILLABLE] : "");
    int in_scope = flag(v[COL_IN_SCOPE] ? v[COL_IN_SCOPE] : "");
    const char *note = v[COL_NOTE] ? v[COL_NOTE] : "";
    size_t subject_len = strlen(v[COL_SUBJECT]);
    if (ticket_of(v[COL_TICKET], prefix, sizeof(prefix), &number) != 0) {
        reject(tally, line, "ticket '%s' is not a ticket id such as ACME-42", v[COL_TICKET]);
    } else if (subject_len == 0 || subject_len > 200 || has_control_characters(v[COL_SUBJECT])) {
        reject(tally, line, "subject must be 1 to 200 characters%s", NULL);
    } else if (strcmp(v[COL_SIDE], "provider") != 0 && strcmp(v[COL_SIDE], "internal_it") != 0) {
        reject(tally, line, "side '%s' must be provider or internal_it", v[COL_SIDE]);
    } else if (msp_civil_date(v[COL_DATE], strlen(v[COL_DATE]), &day) != 0) {
        reject(tally, line, "date '%s' must be a date as YYYY-MM-DD", v[COL_DATE]);
    } else if (minutes < 0) {
        reject(tally, line, v[COL_MINUTES] ? "minutes '%s' must be a whole number from 1 to 1440"
                                           : "hours '%s' must be more than 0 and at most 24, "
                                             "with at most two decimals",
               v[COL_MINUTES] ? v[COL_MINUTES] : v[COL_HOURS]);
    } else if (billable < 0 || in_scope < 0) {
        reject(tally, line, "%s must be true or false (yes/no, 1/0)",
               billable < 0 ? "billable" : "in_scope");
    } else if (strlen(note) > 2000 || has_control_characters(note)) {
        reject(tally, line, "note must be at most 2000 characters%s", NULL);
    } else if (v[COL_ID] != NULL && (strlen(v[COL_ID]) < 1 || strlen(v[COL_ID]) > 190)) {
        reject(tally, line, "id must be 1 to 190 characters%s", NULL);
    } else {
        /* the row's key: the export's id, or a digest of the row and of
         * how many identical rows came before it */
        char key[256];
        if (v[COL_ID] != NULL) {
            snprintf(key, sizeof(key), "id:%s", v[COL_ID]);
        } else {
            msp_sha256_t *h = msp_sha256_new();
            if (h == NULL) {
                return -1;
            }
            char part[64];
            const char *parts[] = { v[COL_TICKET], v[COL_SUBJECT], v[COL_SIDE], v[COL_DATE],
                                    part, note };
            snprintf(part, sizeof(part), "%ld|%d|%d", minutes, billable, in_scope);
            for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
                msp_sha256_update(h, parts[i], strlen(parts[i]) + 1);
            }
            char hex[MSP_SHA256_HEX_LEN + 1];
            msp_sha256_finish(h, hex);
            for (int k = 1;; k++) {
                snprintf(key, sizeof(key), "row:%s:%d", hex, k);
                long seen = key_seen(keys, key, line);
                if (seen <= 0) {
                    if (seen < 0) {
                        return -1;
                    }
                    break;
                }
            }
        }
        long first = v[COL_ID] != NULL ? key_seen(keys, key, line) : 0;
        if (first < 0) {
            return -1;
        }
        if (first > 0) {
            char why[64];
            snprintf(why, sizeof(why), "%ld", first);
            reject(tally, line, "id repeats the id of line %s", why);
            return 0;
        }
        json_t *row = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:b, s:b, s:s}",
                                "line", (json_int_t) line, "key", key, "prefix", prefix,
                                "number", (json_int_t) number, "subject", v[COL_SUBJECT],
                                "side", v[COL_SIDE], "worked_on", v[COL_DATE],
                                "minutes", (json_int_t) minutes, "billable", billable,
                                "in_scope", in_scope, "note", note);
        if (row == NULL || json_array_append_new(batch, row) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- the file ----------------------------------------------------------- */

/* Writes a batch; its rows' outcomes go to the report. */
static int
send_batch(PGconn *conn, const char *slug, json_t *batch, tally_t *tally)
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
    PGresult *res = ctl_query(conn, "SELECT line, outcome, entry_id, reason"
                                    " FROM app.import_time_entries($1, $2::jsonb)", 2, params);
    free(rows);
    if (res == NULL) {
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *outcome = PQgetvalue(res, i, 1);
        if (strcmp(outcome, "created") == 0) {
            tally->created++;
        } else if (strcmp(outcome, "unchanged") == 0) {
            tally->unchanged++;
        } else {
            reject(tally, strtol(PQgetvalue(res, i, 0), NULL, 10), "%s", PQgetvalue(res, i, 3));
        }
    }
    PQclear(res);
    json_array_clear(batch);
    return 0;
}

/* Finds each column in the header; -1 (after saying why) when a required
 * one is missing or a name is unknown or repeated. */
static int
read_header(char **f, size_t n, int *col)
{
    for (int i = 0; i < NCOLS; i++) {
        col[i] = -1;
    }
    for (size_t j = 0; j < n; j++) {
        int found = -1;
        for (int i = 0; i < NCOLS && found < 0; i++) {
            for (int k = 0; column_names[i][k] != NULL; k++) {
                if (strcasecmp(f[j], column_names[i][k]) == 0) {
                    found = i;
                }
            }
        }
        if (found < 0 && strpbrk(f[j], ";\t|") != NULL) {
            ctl_error("line 1: the header '%s' is not separated by commas: export the file "
                      "as CSV with commas", f[j]);
            return -1;
        }
        if (found < 0) {
            ctl_error("line 1: unknown column '%s' (the columns: ticket, subject, side, date, "
                      "minutes or hours, billable, in_scope, note, id)", f[j]);
            return -1;
        }
        if (col[found] >= 0) {
            ctl_error("line 1: column '%s' is given twice", f[j]);
            return -1;
        }
        col[found] = (int) j;
    }
    static const int required[] = { COL_TICKET, COL_SUBJECT, COL_SIDE, COL_DATE };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (col[required[i]] < 0) {
            ctl_error("line 1: the column '%s' is missing (is the file comma-separated?)",
                      column_names[required[i]][0]);
            return -1;
        }
    }
    if ((col[COL_MINUTES] < 0) == (col[COL_HOURS] < 0)) {
        ctl_error("line 1: give one of the columns 'minutes' and 'hours'");
        return -1;
    }
    return 0;
}

static int
import_file(PGconn *conn, const char *slug, const char *text, size_t len, tally_t *tally)
{
    if (memchr(text, '\0', len) != NULL) {
        ctl_error("the file holds NUL bytes: it must be UTF-8 text (is it UTF-16?)");
        return -1;
    }
    msp_csv_reader_t r;
    msp_csv_open(&r, text, len);
    char *f[MAX_FIELDS];
    char *buf = malloc(RECORD_MAX);
    size_t n;
    long line, expected = 0;
    const char *why;
    int col[NCOLS];
    for (const char *c = text; c < text + len; c++) {
        expected += *c == '\n';
    }
    key_table_t keys = { NULL, NULL, 16 };
    while (keys.size < (size_t) expected * 2 + 2) {
        keys.size *= 2;
    }
    keys.keys = calloc(keys.size, sizeof(*keys.keys));
    keys.lines = calloc(keys.size, sizeof(*keys.lines));
    json_t *batch = json_array();
    int rc = -1;
    if (buf == NULL || keys.keys == NULL || keys.lines == NULL || batch == NULL) {
        ctl_error("out of memory");
        goto done;
    }
    int got = msp_csv_next(&r, f, MAX_FIELDS, &n, buf, RECORD_MAX, &line, &why);
    if (got != 1) {
        ctl_error(got == 0 ? "the file is empty: it needs a header row" : "line 1: %s", why);
        goto done;
    }
    if (read_header(f, n, col) != 0) {
        goto done;
    }
    for (;;) {
        got = msp_csv_next(&r, f, MAX_FIELDS, &n, buf, RECORD_MAX, &line, &why);
        if (got == 0) {
            break;
        }
        if (got == -2) {
            ctl_error("line %ld: %s: nothing was imported", line, why);
            goto done;
        }
        if (got == 1 && n == 1 && f[0][0] == '\0') {
            continue;                  /* a blank line */
        }
        tally->rows++;
        if (got < 0) {
            reject(tally, line, "%s", why);
        } else if (read_row(f, n, col, line, &keys, batch, tally) != 0) {
            ctl_error("out of memory");
            goto done;
        }
        if (json_array_size(batch) >= BATCH && send_batch(conn, slug, batch, tally) != 0) {
            goto done;
        }
        if (tally->rows % PROGRESS == 0) {
            fprintf(stderr, "mspctl: %ld of about %ld rows read\n", tally->rows, expected);
        }
    }
    rc = send_batch(conn, slug, batch, tally);
done:
    for (size_t i = 0; keys.keys != NULL && i < keys.size; i++) {
        free(keys.keys[i]);
    }
    free(keys.keys);
    free(keys.lines);
    json_decref(batch);
    free(buf);
    return rc;
}

static int
usage_error(void)
{
    ctl_error("usage: mspctl time import SLUG FILE [--dry-run]");
    return 2;
}

int
ctl_time(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || strcmp(argv[1], "import") != 0
        || (argc == 5 && strcmp(argv[4], "--dry-run") != 0))
    {
        return usage_error();
    }
    const char *slug = argv[2], *path = argv[3];
    int dry_run = argc == 5;
    size_t len;
    char *text = ctl_read_file(path, &len);
    if (text == NULL) {
        return 1;
    }
    PGconn *conn = ctl_connect();
    if (conn == NULL) {
        free(text);
        return 1;
    }
    tally_t tally = { 0, 0, 0, 0 };
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
    if (import_file(conn, slug, text, len, &tally) != 0) {
        goto done;
    }
    if (ctl_run(conn, dry_run ? "ROLLBACK" : "COMMIT", 0, NULL) != 0) {
        goto done;
    }
    printf("created %ld, unchanged %ld, rejected %ld, of %ld rows in %s%s\n", tally.created,
           tally.unchanged, tally.rejected, tally.rows, path,
           dry_run ? " (dry run: nothing was written)" : "");
    rc = tally.rejected > 0 ? 1 : 0;
done:
    PQclear(res);
    PQfinish(conn);
    free(text);
    return rc;
}
