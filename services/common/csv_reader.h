/*
 * csv_reader.h - reading RFC 4180 CSV a record at a time: fields
 * separated by commas, records by CRLF or LF, a field in double quotes
 * may hold commas, line breaks and doubled quotes.  Imports (mspctl)
 * read exports of other tools with it, so every problem is named with
 * the line it is on.
 */
#ifndef MSP_CSV_READER_H
#define MSP_CSV_READER_H

#include <stddef.h>

typedef struct {
    const char *p, *end;       /* what is left to read */
    long        line;          /* of the next record, from 1 */
} msp_csv_reader_t;

/* Reads text[0..len); a UTF-8 byte order mark is skipped. */
void msp_csv_open(msp_csv_reader_t *r, const char *text, size_t len);

/*
 * The next record: up to max fields, unquoted into buf (NUL-terminated
 * each), fields[i] pointing into it, *n of them; *line is the line it
 * starts on.  Returns 1 for a record, 0 at the end, -1 for a record that
 * cannot be read (*why says why; the reader has gone past it, so the
 * next call reads the record after it), -2 for text that cannot be read
 * on from there (a quote never closed).
 */
int msp_csv_next(msp_csv_reader_t *r, char **fields, size_t max, size_t *n, char *buf,
                 size_t bufsize, long *line, const char **why);

#endif
