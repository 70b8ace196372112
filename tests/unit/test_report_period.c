/*
 * test_report_period.c - report periods: their written forms, the ones
 * before them, and their instants in the tenant's zone across
 * daylight-saving changes, month and year ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reports/period.h"

/* 2026-03-08T07:00:00Z and the like, as Unix seconds. */
static int64_t
utc(int y, int m, int d, int hh, int mm)
{
    return msp_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

static msp_period_t
parsed(const char *text)
{
    msp_period_t p;
    const char *why = "unset";
    assert_int_equal(msp_period_parse(text, &p, &why), 0);
    assert_null(why);
    assert_string_equal(p.name, text);
    return p;
}

static void
bounds(const char *zone, const char *text, int64_t start, int64_t end)
{
    const msp_tz_t *tz = msp_tz_get(zone);
    assert_non_null(tz);
    msp_period_t p = parsed(text);
    int64_t s, e;
    msp_period_bounds(&p, tz, &s, &e);
    assert_int_equal(s, start);
    assert_int_equal(e, end);
}

static void
test_a_month_starts_at_the_tenants_midnight(void **state)
{
    (void) state;
    /* New York: EST (-5) in February, EDT (-4) from 8 March 2026. */
    bounds("America/New_York", "2026-02", utc(2026, 2, 1, 5, 0), utc(2026, 3, 1, 5, 0));
    bounds("America/New_York", "2026-03", utc(2026, 3, 1, 5, 0), utc(2026, 4, 1, 4, 0));
    /* Sydney: AEDT (+11) until 5 April 2026, then AEST (+10). */
    bounds("Australia/Sydney", "2026-04", utc(2026, 3, 31, 13, 0), utc(2026, 4, 30, 14, 0));
    bounds("UTC", "2026-04", utc(2026, 4, 1, 0, 0), utc(2026, 5, 1, 0, 0));
}

static void
test_days_on_which_the_clocks_change_are_23_or_25_hours(void **state)
{
    (void) state;
    bounds("America/New_York", "2026-03-08", utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0));
    bounds("America/New_York", "2026-11-01", utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0));
    bounds("Australia/Sydney", "2026-04-05", utc(2026, 4, 4, 13, 0), utc(2026, 4, 5, 14, 0));
    bounds("Australia/Sydney", "2026-10-04", utc(2026, 10, 3, 14, 0), utc(2026, 10, 4, 13, 0));
}

static void
test_a_day_whose_midnight_the_clock_skips_starts_at_one(void **state)
{
    (void) state;
    /* Santiago goes from -4 to -3 at 24:00 on the first Saturday of
     * September (6 September 2026 has no 00:00): the day starts at
     * 01:00 local, 04:00Z; the day before ends there. */
    bounds("America/Santiago", "2026-09-06", utc(2026, 9, 6, 4, 0), utc(2026, 9, 7, 3, 0));
    bounds("America/Santiago", "2026-09-05", utc(2026, 9, 5, 4, 0), utc(2026, 9, 6, 4, 0));
}

static void
test_weeks_quarters_and_ranges(void **state)
{
    (void) state;
    msp_period_t p = parsed("2026-W01");         /* 1 January 2026 is a Thursday */
    assert_int_equal(p.first_day, msp_days_from_civil(2025, 12, 29));
    assert_int_equal(p.end_day, msp_days_from_civil(2026, 1, 5));
    p = parsed("2026-W53");                      /* 2026 has 53 weeks */
    assert_int_equal(p.first_day, msp_days_from_civil(2026, 12, 28));
    p = parsed("2026-Q4");
    assert_int_equal(p.first_day, msp_days_from_civil(2026, 10, 1));
    assert_int_equal(p.end_day, msp_days_from_civil(2027, 1, 1));
    p = parsed("2026-03-01..2026-03-15");
    assert_int_equal(p.kind, MSP_PERIOD_RANGE);
    assert_int_equal(p.end_day - p.first_day, 14);
    bounds("America/New_York", "2026-W10", utc(2026, 3, 2, 5, 0), utc(2026, 3, 9, 4, 0));
}

static void
check_previous(const char *text, const char *expected)
{
    msp_period_t p = parsed(text), before;
    msp_period_previous(&p, &before);
    assert_string_equal(before.name, expected);
    assert_int_equal(before.end_day, p.first_day);
    assert_int_equal(before.kind, p.kind);
}

static void
test_the_period_before(void **state)
{
    (void) state;
    check_previous("2026-01", "2025-12");
    check_previous("2026-03", "2026-02");
    check_previous("2026-Q1", "2025-Q4");
    check_previous("2026-Q3", "2026-Q2");
    check_previous("2026-W01", "2025-W52");
    check_previous("2027-W01", "2026-W53");
    check_previous("2026-03-01", "2026-02-28");
    check_previous("2024-03-01", "2024-02-29");
    check_previous("2026-03-01..2026-03-15", "2026-02-15..2026-03-01");

    /* Twelve months back from March 2026 is March 2025. */
    msp_period_t p = parsed("2026-03");
    for (int i = 0; i < 12; i++) {
        msp_period_t before;
        msp_period_previous(&p, &before);
        p = before;
    }
    assert_string_equal(p.name, "2025-03");
}

static void
refused(const char *text, const char *why_part)
{
    msp_period_t p;
    const char *why = NULL;
    assert_int_equal(msp_period_parse(text, &p, &why), -1);
    assert_non_null(why);
    if (strstr(why, why_part) == NULL) {
        fail_msg("%s: %s", text, why);
    }
}

static void
test_bad_periods_are_refused_with_a_reason(void **state)
{
    (void) state;
    refused(NULL, "must be a day");
    refused("", "must be a day");
    refused("2026-13", "must be a day");
    refused("2026-00", "must be a day");
    refused("2026-02-29", "must be a day");
    refused("2026-Q5", "must be a day");
    refused("2026-W00", "must be a day");
    refused("2025-W53", "week 53 of a year that has 52");
    refused("1969-12", "must be a day");
    refused("2026-3", "must be a day");
    refused("2026-03-01 ", "must be a day");
    refused("march", "must be a day");
    refused("2026-03-15..2026-03-01", "must end after it starts");
    refused("2026-03-01..2026-03-01", "must end after it starts");
    refused("2025-01-01..2026-01-03", "at most 366 days");
    refused("2026-03-01...2026-03-15", "must be a day");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_month_starts_at_the_tenants_midnight),
        cmocka_unit_test(test_days_on_which_the_clocks_change_are_23_or_25_hours),
        cmocka_unit_test(test_a_day_whose_midnight_the_clock_skips_starts_at_one),
        cmocka_unit_test(test_weeks_quarters_and_ranges),
        cmocka_unit_test(test_the_period_before),
        cmocka_unit_test(test_bad_periods_are_refused_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
