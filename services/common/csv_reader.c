/*
 * csv_reader.c - RFC 4180 records, one at a time (csv_reader.h).
 */
#include "common/csv_reader.h"

#include <string.h>

void
msp_csv_open(msp_csv_reader_t *r, const char *text, size_t len)
{
    r->p = text;
    r->end = text + len;
    r->line = 1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        r->p += 3;
    }
}

int
msp_csv_next(msp_csv_reader_t *r, char **fields, size_t max, size_t *n, char *buf,
             size_t bufsize, long *line, const char **why)
{
    *n = 0;
    *line = r->line;
    *why = NULL;
    if (r->p >= r->end) {
        return 0;
    }
    size_t used = 0;
    int quoted = 0, field_started = 0;
    if (max > 0) {
        fields[0] = buf;
    }
    /* one pass to the end of the record; a problem is noted in *why and
     * the rest of the record still read, so that the next call starts at
     * the next record */
    for (;;) {
        int at_end = r->p >= r->end;
        char c = at_end ? '\n' : *r->p;
        if (quoted) {
            if (at_end) {
                *why = "a quoted field is never closed";
                return -2;
            }
            r->p++;
            if (c == '"') {
                if (r->p < r->end && *r->p == '"') {
                    r->p++;
                } else {
                    quoted = 0;
                    continue;
                }
            } else if (c == '\n') {
                r->line++;
            }
        } else if (c == '"' && !field_started) {
            r->p++;
            quoted = field_started = 1;
            continue;
        } else if (c == ',' || c == '\n' || (c == '\r' && (r->p + 1 >= r->end
                                                            || r->p[1] == '\n'))) {
            /* the end of a field */
            if (used < bufsize) {
                buf[used++] = '\0';
            } else {
                *why = "the record is too long";
            }
            if (*n < max) {
                (*n)++;
            } else {
                *why = "the record has too many fields";
            }
            if (c == ',') {
                r->p++;
                field_started = 0;
                if (*n < max && used <= bufsize) {
                    fields[*n] = buf + (used < bufsize ? used : bufsize - 1);
                }
                continue;
            }
            if (!at_end) {
                r->p += c == '\r' && r->p + 1 < r->end ? 2 : 1;
                r->line++;
            }
            return *why ? -1 : 1;
        } else {
            if (c == '"') {
                *why = "a quote inside a field that is not quoted";
            }
            r->p++;
            field_started = 1;
        }
        if (c == '\0') {
            *why = "the record holds a NUL byte (is the file UTF-16?)";
        }
        if (used + 1 < bufsize) {
            buf[used++] = c;
        } else {
            *why = "the record is too long";
        }
    }
}
