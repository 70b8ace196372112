/*
 * test_csv_reader.c - RFC 4180 records a time-tracking export may hold,
 * and the ones that cannot be read (common/csv_reader.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/csv_reader.h"

typedef struct {
    char   *f[8];
    size_t  n;
    char    buf[64];
    long    line;
    const char *why;
} record_t;

static int
next(msp_csv_reader_t *r, record_t *rec)
{
    return msp_csv_next(r, rec->f, 8, &rec->n, rec->buf, sizeof(rec->buf), &rec->line,
                        &rec->why);
}

static void
test_quoted_fields_and_line_ends(void **state)
{
    (void) state;
    static const char text[] = "\xEF\xBB\xBF" "a,b,c\r\n"
                               "1,\"two, \"\"2\"\"\",\"three\nlines\n\"\n"
                               ",,\r\n"
                               "last,row";
    msp_csv_reader_t r;
    record_t rec;
    msp_csv_open(&r, text, sizeof(text) - 1);
    assert_int_equal(next(&r, &rec), 1);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.f[0], "a");                 /* the BOM is not part of it */
    assert_int_equal(rec.line, 1);
    assert_int_equal(next(&r, &rec), 1);
    assert_int_equal(rec.line, 2);
    assert_string_equal(rec.f[1], "two, \"2\"");
    assert_string_equal(rec.f[2], "three\nlines\n");
    assert_int_equal(next(&r, &rec), 1);
    assert_int_equal(rec.line, 5);                      /* after the two quoted breaks */
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.f[2], "");
    assert_int_equal(next(&r, &rec), 1);
    assert_string_equal(rec.f[1], "row");
    assert_int_equal(next(&r, &rec), 0);
}

static void
test_records_that_cannot_be_read(void **state)
{
    (void) state;
    char text[200];
    memset(text, 'x', sizeof(text));
    memcpy(text, "a,b\n", 4);
    text[150] = '\n';                                  /* a record longer than the buffer */
    static const char rest[] = "1,2,3,4,5,6,7,8,9\nok,\"x\"\nbad\"quote\n\"open,";
    memcpy(text + 151, rest, sizeof(rest) - 1);
    msp_csv_reader_t r;
    record_t rec;
    msp_csv_open(&r, text, 151 + sizeof(rest) - 1);
    assert_int_equal(next(&r, &rec), 1);
    assert_int_equal(next(&r, &rec), -1);
    assert_string_equal(rec.why, "the record is too long");
    assert_int_equal(rec.line, 2);
    assert_int_equal(next(&r, &rec), -1);               /* the reader went past it */
    assert_string_equal(rec.why, "the record has too many fields");
    assert_int_equal(rec.line, 3);
    assert_int_equal(next(&r, &rec), 1);
    assert_string_equal(rec.f[1], "x");
    assert_int_equal(next(&r, &rec), -1);
    assert_non_null(strstr(rec.why, "quote"));
    assert_int_equal(next(&r, &rec), -2);
    assert_string_equal(rec.why, "a quoted field is never closed");
    assert_int_equal(rec.line, 6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoted_fields_and_line_ends),
        cmocka_unit_test(test_records_that_cannot_be_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
