/*
 * test_sweep.c - what a sweep's result says (msp_sweep_count),
 * on results built with libpq's own result constructors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "call/sweep.h"

/* One row, one column holding value (NULL: an SQL NULL). */
static PGresult *
one_value(const char *value)
{
    PGresult         *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc      col = { .name = "sla_sweep", .format = 0, .typid = 23, .typlen = 4,
                              .atttypmod = -1 };
    assert_non_null(res);
    assert_true(PQsetResultAttrs(res, 1, &col));
    if (value != NULL) {
        assert_true(PQsetvalue(res, 0, 0, (char *) value, (int) strlen(value)));
    } else {
        assert_true(PQsetvalue(res, 0, 0, NULL, -1));
    }
    return res;
}

static long
events_of(const char *value, char *why)
{
    PGresult *res = one_value(value);
    long      n = msp_sweep_count(res, why, 256);
    PQclear(res);
    return n;
}

static void
events_written_are_counted(void **state)
{
    (void) state;
    char why[256];
    assert_int_equal(events_of("0", why), 0);
    assert_int_equal(events_of("37", why), 37);
}

static void
minus_one_means_another_sweeper(void **state)
{
    (void) state;
    char why[256];
    assert_int_equal(events_of("-1", why), MSP_SWEEP_BUSY);
}

static void
anything_else_is_a_failure_that_says_why(void **state)
{
    (void) state;
    char why[256];
    assert_int_equal(events_of("-2", why), MSP_SWEEP_FAILED);
    assert_string_equal(why, "unexpected result \"-2\"");
    assert_int_equal(events_of("12x", why), MSP_SWEEP_FAILED);
    assert_int_equal(events_of("", why), MSP_SWEEP_FAILED);
    assert_int_equal(events_of(NULL, why), MSP_SWEEP_FAILED);
}

static void
no_result_or_an_error_is_a_failure(void **state)
{
    (void) state;
    char why[256];
    assert_int_equal(msp_sweep_count(NULL, why, sizeof(why)), MSP_SWEEP_FAILED);
    assert_string_equal(why, "no result (SQLSTATE none)");

    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    assert_int_equal(msp_sweep_count(res, why, sizeof(why)), MSP_SWEEP_FAILED);
    PQclear(res);

    PGresult *empty = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_int_equal(msp_sweep_count(empty, why, sizeof(why)), MSP_SWEEP_FAILED);
    PQclear(empty);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_written_are_counted),
        cmocka_unit_test(minus_one_means_another_sweeper),
        cmocka_unit_test(anything_else_is_a_failure_that_says_why),
        cmocka_unit_test(no_result_or_an_error_is_a_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
