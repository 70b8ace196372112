/*
 * pack_files.c - a pack's rendered files, its JSON and CSV renderers, and
 * how a cell reads in the HTML and the PDF.
 *
 * The JSON file is the document itself.  The CSV tables hold each cell's
 * value as the JSON has it (a share as 0.952, seconds as seconds), so a
 * spreadsheet computes with the very numbers the pack states; one file per
 * table (csv/<table>.csv, RFC 4180, UTF-8, CRLF), and all of them in one
 * zip (pack-csv.zip).
 */
#include "packs/pack.h"

#include "common/buf.h"
#include "common/zip_writer.h"
#include "http/csv.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
msp_pack_files_add(msp_pack_files_t *files, const char *name, const char *media_type,
                   unsigned char *data, size_t len)
{
    if (files->n == files->cap) {
        size_t cap = files->cap ? files->cap * 2 : 16;
        msp_pack_file_t *grown = realloc(files->files, cap * sizeof(*grown));
        if (grown == NULL) {
            free(data);
            return -1;
        }
        files->files = grown;
        files->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL) {
        free(data);
        return -1;
    }
    files->files[files->n++] = (msp_pack_file_t) { copy, media_type, data, len };
    return 0;
}

void
msp_pack_files_free(msp_pack_files_t *files)
{
    for (size_t i = 0; i < files->n; i++) {
        free(files->files[i].name);
        free(files->files[i].data);
    }
    free(files->files);
    memset(files, 0, sizeof(*files));
}

int
msp_pack_render_json(const json_t *doc, msp_pack_files_t *out)
{
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    if (text == NULL) {
        return -1;
    }
    size_t len = strlen(text);
    char *data = malloc(len + 1);
    if (data == NULL) {
        free(text);
        return -1;
    }
    memcpy(data, text, len);
    data[len++] = '\n';
    free(text);
    return msp_pack_files_add(out, "pack.json", "application/json", (unsigned char *) data, len);
}

int
msp_pack_render_csv(const json_t *doc, msp_pack_files_t *out)
{
    msp_zip_t *zip = msp_zip_new();
    if (zip == NULL) {
        return -1;
    }
    int rc = 0;
    size_t i, t;
    json_t *s, *tb;
    json_array_foreach(json_object_get(doc, "sections"), i, s) {
        json_array_foreach(json_object_get(s, "tables"), t, tb) {
            msp_buf_t b = { 0 };
            size_t c, r;
            json_t *col, *row;
            json_array_foreach(json_object_get(tb, "columns"), c, col) {
                if (c > 0) {
                    msp_buf_put(&b, ",", 1);
                }
                msp_buf_put_csv(&b, json_string_value(json_object_get(col, "key")));
            }
            msp_buf_put(&b, "\r\n", 2);
            json_array_foreach(json_object_get(tb, "rows"), r, row) {
                json_t *v;
                json_array_foreach(row, c, v) {
                    if (c > 0) {
                        msp_buf_put(&b, ",", 1);
                    }
                    msp_csv_value(&b, v);
                }
                msp_buf_put(&b, "\r\n", 2);
            }
            size_t len;
            char *data = msp_buf_take(&b, &len);
            char name[128];
            snprintf(name, sizeof(name), "csv/%s.csv",
                     json_string_value(json_object_get(tb, "key")));
            if (data == NULL || msp_zip_add(zip, name + 4, data, len) != 0
                || msp_pack_files_add(out, name, "text/csv; charset=utf-8",
                                      (unsigned char *) data, len) != 0)
            {
                rc = -1;
                break;
            }
        }
        if (rc != 0) {
            break;
        }
    }
    unsigned char *data = NULL;
    size_t len = 0;
    if (msp_zip_finish(zip, &data, &len) != 0 || rc != 0) {
        free(data);
        return -1;
    }
    return msp_pack_files_add(out, "pack-csv.zip", "application/zip", data, len);
}

/* n with a comma between thousands. */
static void
grouped(long long n, const char *decimals, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%lld", n < 0 ? -n : n);
    size_t len = strlen(digits), o = 0;
    if (n < 0 && o + 1 < size) {
        buf[o++] = '-';
    }
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            buf[o++] = ',';
        }
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    if (decimals != NULL) {
        snprintf(buf + o, size - o, "%s", decimals);
    }
}

/* (pack.h) x rounded half away from zero to `decimals` places, as a person rounds
 * the decimal the JSON wrote (0.9525 to 95.3%, not the double's 95.2):
 * the nudge of a few ulps undoes the binary representation's shortfall. */
double
msp_pack_round(double x, int decimals)
{
    double scale = pow(10, decimals);
    return (double) llround(x * scale * (1 + 1e-12)) / scale;
}

static void
format_cell(const json_t *v, const char *type, const char *currency, char *buf, size_t size)
{
    if (v == NULL || json_is_null(v)) {
        snprintf(buf, size, "-");
        return;
    }
    if (json_is_string(v)) {
        snprintf(buf, size, "%s", json_string_value(v));
        return;
    }
    if (json_is_boolean(v)) {
        snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
        return;
    }
    double x = json_number_value(v);
    if (strcmp(type, "rate") == 0) {
        snprintf(buf, size, "%.1f%%", msp_pack_round(x * 100, 1));
    } else if (strcmp(type, "hours") == 0) {
        snprintf(buf, size, "%.1f h", msp_pack_round(x, 1));
    } else if (strcmp(type, "duration") == 0) {
        long long minutes = llround(x / 60);
        snprintf(buf, size, "%lld h %02lld min", minutes / 60, minutes % 60);
    } else if (strcmp(type, "score") == 0) {
        snprintf(buf, size, "%.2f", msp_pack_round(x, 2));
    } else if (strcmp(type, "money") == 0) {
        long long cents = llround(msp_pack_round(x, 2) * 100);
        char decimals[8];
        snprintf(decimals, sizeof(decimals), ".%02lld", (cents < 0 ? -cents : cents) % 100);
        grouped(cents / 100, decimals, buf, size);
        size_t len = strlen(buf);
        if (currency != NULL && len + 1 < size) {
            snprintf(buf + len, size - len, " %s", currency);
        }
    } else if (json_is_integer(v)) {
        grouped((long long) json_integer_value(v), NULL, buf, size);
    } else {
        /* a plain number: two decimals at most, none when whole */
        if (fabs(x - llround(x)) < 0.005) {
            grouped(llround(x), NULL, buf, size);
        } else {
            long long cents = llround(msp_pack_round(x, 2) * 100);
            char decimals[8];
            snprintf(decimals, sizeof(decimals), ".%02lld", (cents < 0 ? -cents : cents) % 100);
            grouped(cents / 100, decimals, buf, size);
        }
    }
}

void
msp_pack_cell_text(const json_t *table, size_t r, size_t c, char *buf, size_t size)
{
    const json_t *columns = json_object_get(table, "columns");
    const json_t *row = json_array_get(json_object_get(table, "rows"), r);
    const char *type = json_string_value(json_object_get(json_array_get(columns, c), "type"));
    if (type != NULL && strcmp(type, "number") == 0) {
        size_t i;
        const json_t *col;
        json_array_foreach(columns, i, col) {
            const char *key = json_string_value(json_object_get(col, "key"));
            if (key != NULL && strcmp(key, "unit") == 0) {
                const char *unit = json_string_value(json_array_get(row, i));
                type = unit != NULL ? unit : type;
            }
        }
    }
    format_cell(json_array_get(row, c), type ? type : "text",
                json_string_value(json_object_get(table, "currency")), buf, size);
}

static const char *
column_field(const json_t *table, size_t c, const char *field)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(table, "columns"), c),
                                             field));
}

int
msp_pack_column_shown(const json_t *table, size_t c)
{
    const char *key = column_field(table, c, "key");
    return key == NULL || strcmp(key, "unit") != 0;
}

int
msp_pack_column_numeric(const json_t *table, size_t c)
{
    const char *type = column_field(table, c, "type");
    return type != NULL && strcmp(type, "text") != 0 && strcmp(type, "date") != 0;
}
