/*
 * asset_import.c - an MDM's export read into asset rows (asset_import.h).
 *
 * CSV is read through a window of WINDOW bytes that slides along the
 * file: before each record the window holds at least half of it (or the
 * rest of the file), so any record up to RECORD_MAX bytes is whole in it.
 * A line longer than that is reported as a row that cannot be read and
 * skipped to its end, however long it is.
 */
#include "assets/asset_import.h"
#include "common/csv_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WINDOW      (1024 * 1024)
#define RECORD_MAX  (64 * 1024)
#define MAX_COLUMNS 256
#define VALUE_MAX   4096
/* The largest JSON export read whole. */
#define JSON_MAX    (512L * 1024 * 1024)

struct msp_asset_reader {
    const msp_asset_profile_t *profile;
    msp_import_fill_fn         fill;
    void                      *arg;
    char                      *buf;        /* the window, or the whole JSON */
    size_t                     cap, start, end;
    int                        eof, started, json;
    long                       line;       /* of the next CSV record */
    long                       rows;
    /* CSV: each column's profile column (-1 unknown, -2 a custom field) */
    int                        ncols;
    int                        col[MAX_COLUMNS];
    char                      *custom[MAX_COLUMNS];
    char                      *record;     /* a record's fields */
    /* JSON: the devices */
    json_t                    *doc, *items;
    size_t                     next_item;
};

static void
say(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

msp_asset_reader_t *
msp_asset_reader_new(const msp_asset_profile_t *profile, msp_import_fill_fn fill, void *arg)
{
    msp_asset_reader_t *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->buf = malloc(WINDOW)) == NULL
        || (r->record = malloc(RECORD_MAX)) == NULL)
    {
        msp_asset_reader_free(r);
        return NULL;
    }
    r->profile = profile;
    r->fill = fill;
    r->arg = arg;
    r->cap = WINDOW;
    r->line = 1;
    return r;
}

void
msp_asset_reader_free(msp_asset_reader_t *r)
{
    if (r == NULL) {
        return;
    }
    for (int i = 0; i < r->ncols; i++) {
        free(r->custom[i]);
    }
    json_decref(r->doc);
    free(r->buf);
    free(r->record);
    free(r);
}

long
msp_asset_reader_rows(const msp_asset_reader_t *r)
{
    return r->rows;
}

/* Fills the window until it holds at least want bytes from start (or the
 * file has ended): 0, or -1 when the file cannot be read. */
static int
fill_window(msp_asset_reader_t *r, size_t want)
{
    if (r->start > 0 && r->end - r->start < want) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    while (!r->eof && r->end - r->start < want && r->end < r->cap) {
        long n = r->fill(r->arg, r->buf + r->end, r->cap - r->end);
        if (n < 0) {
            return -1;
        }
        r->eof = n == 0;
        r->end += (size_t) n;
    }
    return 0;
}

/* A row that cannot be imported, with its reason. */
static json_t *
unreadable(long line, const char *reason)
{
    return json_pack("{s:I, s:s}", "line", (json_int_t) line, "reason", reason);
}

/* The row of the values given for the profile's columns (value(i) of
 * column i, NULL for none), or NULL when it has none at all (a blank
 * line, a Jamf row that only lists an application). */
static json_t *
make_row(const msp_asset_reader_t *r, long line, const char *const *values,
         const char *const *customs, const char *const *custom_values, size_t ncustom)
{
    char buf[VALUE_MAX];
    json_t *fields = json_object(), *custom = json_object();
    int bad_text = 0;
    for (int i = 0; r->profile->columns[i].header != NULL; i++) {
        const msp_profile_column_t *c = &r->profile->columns[i];
        const char *text = values[i] ? msp_value_text(c->value, values[i], buf, sizeof(buf))
                                     : NULL;
        if (text == NULL || json_object_get(fields, c->field) != NULL) {
            continue;           /* the first column that gives a field wins */
        }
        json_t *v = json_string(text);
        bad_text |= v == NULL;
        json_object_set_new(fields, c->field, v);
    }
    for (size_t i = 0; i < ncustom; i++) {
        const char *text = msp_value_text(MSP_VALUE_TEXT, custom_values[i], buf, sizeof(buf));
        if (text != NULL) {
            json_t *v = json_string(text);
            bad_text |= v == NULL;
            json_object_set_new(custom, customs[i], v);
        }
    }
    if (json_object_size(custom) > 0) {
        json_object_set(fields, "custom", custom);
    }
    json_decref(custom);
    if (json_object_size(fields) == 0) {
        json_decref(fields);
        return NULL;
    }
    if (bad_text) {
        json_decref(fields);
        return unreadable(line, "holds text that is not UTF-8: save the file as UTF-8");
    }
    json_t *defaults = json_object();
    if (r->profile->guess != NULL) {
        r->profile->guess(fields, defaults);
    }
    return json_pack("{s:I, s:o, s:o}", "line", (json_int_t) line, "fields", fields,
                     "defaults", defaults);
}

/* ---- CSV ----------------------------------------------------------------------- */

/* Maps the header's columns to the profile's: -1 when the file cannot be
 * imported. */
static int
read_header(msp_asset_reader_t *r, char **f, size_t n, char *why, size_t size)
{
    const msp_asset_profile_t *p = r->profile;
    if (n == 1 && strpbrk(f[0], ";\t|") != NULL) {
        say(why, size, "line 1: the header is separated by %s, not commas: export the file "
            "as CSV with commas", strchr(f[0], ';') ? "semicolons"
                                  : strchr(f[0], '\t') ? "tabs" : "bars");
        return -1;
    }
    if (n > MAX_COLUMNS) {
        say(why, size, "line 1: the header has %zu columns; at most %d are read", n,
            MAX_COLUMNS);
        return -1;
    }
    int has_key = 0, has_required = 0;
    r->ncols = (int) n;
    for (size_t j = 0; j < n; j++) {
        r->col[j] = -1;
        for (int i = 0; p->columns[i].header != NULL && r->col[j] < 0; i++) {
            if (strcasecmp(f[j], p->columns[i].header) == 0) {
                r->col[j] = i;
            }
        }
        for (size_t k = 0; k < j && r->col[j] >= 0; k++) {
            if (r->col[k] == r->col[j]) {
                say(why, size, "line 1: the column '%s' is given twice", f[j]);
                return -1;
            }
        }
        if (r->col[j] < 0 && p->strict && strncmp(f[j], "custom.", 7) == 0 && f[j][7] != '\0') {
            r->col[j] = -2;
            if ((r->custom[j] = strdup(f[j] + 7)) == NULL) {
                say(why, size, "out of memory");
                return -1;
            }
        } else if (r->col[j] < 0 && p->strict) {
            say(why, size, "line 1: unknown column '%s' (the generic profile's columns are "
                "the API's field names, and custom.<name> for a custom field: README, "
                "\"Importing assets\")", f[j]);
            return -1;
        }
        if (r->col[j] >= 0) {
            const char *field = p->columns[r->col[j]].field;
            has_key |= strcmp(field, "serial") == 0 || strcmp(field, "tag") == 0;
            has_required |= p->required && strcasecmp(f[j], p->required) == 0;
        }
    }
    if (p->required ? !has_required : !has_key) {
        say(why, size, "line 1: the column '%s' is missing (is this a %s export, separated "
            "by commas?)", p->required ? p->required : "serial' or 'tag", p->name);
        return -1;
    }
    return 0;
}

/* Skips the rest of a line too long to read: 0, or -1. */
static int
skip_line(msp_asset_reader_t *r)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl != NULL) {
            r->start = (size_t) (nl - r->buf) + 1;
            return 0;
        }
        r->start = r->end;
        if (r->eof) {
            return 0;
        }
        if (fill_window(r, WINDOW) != 0) {
            return -1;
        }
    }
}

static int
next_csv(msp_asset_reader_t *r, json_t **row, char *why, size_t size)
{
    char *f[MAX_COLUMNS];
    for (;;) {
        if (fill_window(r, WINDOW / 2) != 0) {
            say(why, size, "line %ld: the file cannot be read", r->line);
            return -1;
        }
        if (r->start >= r->end) {
            if (!r->started) {
                say(why, size, "the file is empty: it needs a header row");
                return -1;
            }
            return 0;
        }
        long line = r->line;
        size_t window = r->end - r->start;
        if (memchr(r->buf + r->start, '\n', window < RECORD_MAX ? window : RECORD_MAX) == NULL
            && window >= RECORD_MAX)
        {
            if (!r->started) {
                say(why, size, "line 1: the header is longer than %d KiB", RECORD_MAX / 1024);
                return -1;
            }
            if (skip_line(r) != 0) {
                say(why, size, "line %ld: the file cannot be read", line);
                return -1;
            }
            r->line++;
            r->rows++;
            *row = unreadable(line, "the line is longer than 64 KiB");
            return *row ? 1 : -1;
        }
        msp_csv_reader_t csv = { r->buf + r->start, r->buf + r->end, r->line };
        size_t n;
        const char *bad;
        int got = msp_csv_next(&csv, f, MAX_COLUMNS, &n, r->record, RECORD_MAX, &line, &bad);
        r->start = (size_t) (csv.p - r->buf);
        r->line = csv.line;
        if (got == -2) {
            say(why, size, "line %ld: %s", line, bad);
            return -1;
        }
        if (!r->started) {
            r->started = 1;
            if (got != 1) {
                say(why, size, "line 1: %s", bad);
                return -1;
            }
            if (read_header(r, f, n, why, size) != 0) {
                return -1;
            }
            continue;
        }
        if (got == 1 && n == 1 && f[0][0] == '\0') {
            continue;                   /* a blank line */
        }
        r->rows++;
        if (got < 0) {
            *row = unreadable(line, bad);
            return *row ? 1 : -1;
        }
        if ((int) n != r->ncols) {
            char reason[96];
            snprintf(reason, sizeof(reason), "has %zu fields where the header has %d", n,
                     r->ncols);
            *row = unreadable(line, reason);
            return *row ? 1 : -1;
        }
        const char *values[64] = { 0 }, *customs[MAX_COLUMNS], *custom_values[MAX_COLUMNS];
        size_t ncustom = 0;
        for (size_t j = 0; j < n; j++) {
            if (r->col[j] >= 0 && values[r->col[j]] == NULL) {
                values[r->col[j]] = f[j];
            } else if (r->col[j] == -2) {
                customs[ncustom] = r->custom[j];
                custom_values[ncustom++] = f[j];
            }
        }
        *row = make_row(r, line, values, customs, custom_values, ncustom);
        if (*row != NULL) {
            return 1;
        }
        r->rows--;                       /* nothing in it: as a blank line */
    }
}

/* ---- JSON ----------------------------------------------------------------------- */

/* A member by its dotted path, as text: NULL when absent or null. */
static const char *
member_text(json_t *item, const char *path, char *buf, size_t size)
{
    char part[128];
    json_t *v = item;
    while (v != NULL && *path != '\0') {
        size_t len = strcspn(path, ".");
        if (len >= sizeof(part)) {
            return NULL;
        }
        memcpy(part, path, len);
        part[len] = '\0';
        v = json_is_object(v) ? json_object_get(v, part) : NULL;
        path += len + (path[len] == '.');
    }
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_boolean(v)) {
        return json_is_true(v) ? "true" : "false";
    }
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, size, "%.15g", json_real_value(v));
        return buf;
    }
    return NULL;
}

static int
open_json(msp_asset_reader_t *r, char *why, size_t size)
{
    /* the whole document, growing the buffer */
    for (;;) {
        if (r->end == r->cap) {
            if (r->cap >= (size_t) JSON_MAX) {
                say(why, size, "the JSON file is larger than %ld MiB: export CSV instead",
                    JSON_MAX / (1024 * 1024));
                return -1;
            }
            char *bigger = realloc(r->buf, r->cap * 2);
            if (bigger == NULL) {
                say(why, size, "out of memory");
                return -1;
            }
            r->buf = bigger;
            r->cap *= 2;
        }
        if (r->eof) {
            break;
        }
        if (fill_window(r, r->cap) != 0) {
            say(why, size, "the file cannot be read");
            return -1;
        }
    }
    json_error_t err;
    r->doc = json_loadb(r->buf + r->start, r->end - r->start, JSON_REJECT_DUPLICATES, &err);
    if (r->doc == NULL) {
        say(why, size, "line %d: the file is not valid JSON: %s", err.line, err.text);
        return -1;
    }
    r->items = json_is_array(r->doc) ? r->doc : NULL;
    for (const char *const *a = r->profile->arrays; r->items == NULL && *a != NULL; a++) {
        json_t *v = json_object_get(r->doc, *a);
        r->items = json_is_array(v) ? v : NULL;
    }
    if (r->items == NULL) {
        say(why, size, "the JSON holds no array of devices: give an array, or an object "
            "with the array in \"%s\"", r->profile->arrays[0]);
        return -1;
    }
    return 0;
}

static int
next_json(msp_asset_reader_t *r, json_t **row, char *why, size_t size)
{
    (void) why;
    (void) size;
    char bufs[64][32], custom_bufs[64][32];
    while (r->next_item < json_array_size(r->items)) {
        json_t *item = json_array_get(r->items, r->next_item++);
        long line = (long) r->next_item;
        r->rows++;
        if (!json_is_object(item)) {
            *row = unreadable(line, "the item is not an object");
            return *row ? 1 : -1;
        }
        const char *values[64] = { 0 }, *customs[64], *custom_values[64];
        size_t ncustom = 0;
        for (int i = 0; r->profile->columns[i].header != NULL && i < 64; i++) {
            const char *path = r->profile->columns[i].path;
            values[i] = path ? member_text(item, path, bufs[i], sizeof(bufs[i])) : NULL;
        }
        json_t *custom = r->profile->strict ? json_object_get(item, "custom") : NULL;
        const char *key;
        json_t *v;
        json_object_foreach(custom, key, v) {
            if (ncustom < 64 && (json_is_string(v) || json_is_number(v) || json_is_boolean(v))) {
                customs[ncustom] = key;
                custom_values[ncustom] = member_text(v, "", custom_bufs[ncustom],
                                                     sizeof(custom_bufs[ncustom]));
                ncustom++;
            }
        }
        *row = make_row(r, line, values, customs, custom_values, ncustom);
        if (*row != NULL) {
            return 1;
        }
        r->rows--;
    }
    return 0;
}

/* ---- the file -------------------------------------------------------------------- */

int
msp_asset_reader_next(msp_asset_reader_t *r, json_t **row, char *why, size_t size)
{
    *row = NULL;
    if (r->start == 0 && r->end == 0 && !r->eof) {
        if (fill_window(r, WINDOW) != 0) {
            say(why, size, "the file cannot be read");
            return -1;
        }
        const unsigned char *b = (const unsigned char *) r->buf;
        if (r->end >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
            say(why, size, "the file is UTF-16: save it as UTF-8 (\"CSV UTF-8\")");
            return -1;
        }
        if (memchr(r->buf, '\0', r->end) != NULL) {
            say(why, size, "the file holds NUL bytes: it must be UTF-8 text (is it UTF-16?)");
            return -1;
        }
        if (r->end >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
            r->start = 3;
        }
        size_t i = r->start;
        while (i < r->end && strchr(" \t\r\n", r->buf[i]) != NULL) {
            i++;
        }
        r->json = i < r->end && (r->buf[i] == '[' || r->buf[i] == '{');
        if (r->json && open_json(r, why, size) != 0) {
            return -1;
        }
    }
    return r->json ? next_json(r, row, why, size) : next_csv(r, row, why, size);
}
