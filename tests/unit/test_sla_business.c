/*
 * test_sla_business.c - time zones, calendars and business-time arithmetic,
 * on cases worked out by hand.
 *
 * Every expectation is written as local wall time with its offset, and the
 * comment above it says how it was reached, so that a reader can check the
 * case without running anything.  Instants in the test text are parsed with
 * timegm(), not with the code under test.
 *
 * Calendars are written in a small notation to keep the cases readable:
 *   "mon 08:00-12:00 13:00-18:00 | sat 09:00-13:00"   weekday windows
 *   "weekdays 09:00-17:00", "daily 00:00-24:00"       several days at once
 *   "2026-12-25 | 2026-12-24 08:00-12:00"             holidays, with hours or not
 *
 * The dates used: 2026-01-05 is a Monday; 2026-03-08 and 2026-11-01 are the
 * US DST changes, 2026-03-29 and 2026-10-25 the EU ones, 2026-04-05 and
 * 2026-10-04 Sydney's (all Sundays).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sla/business.h"

#define HOUR   INT64_C(3600)
#define DAY    (24 * HOUR)


/* ---- helpers ------------------------------------------------------------ */

/* "2026-03-08T03:00:00-04:00" (or ...Z) as a Unix instant. */
static int64_t
at(const char *text)
{
    struct tm tm = { 0 };
    int oh = 0, om = 0, consumed = 0;
    char sign = 'Z';

    if (sscanf(text, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    {
        fail_msg("bad instant in test: %s", text);
    }
    if (text[consumed] != 'Z'
        && sscanf(text + consumed, "%c%d:%d", &sign, &oh, &om) != 3)
    {
        fail_msg("bad offset in test: %s", text);
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;

    int64_t offset = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);

    return (int64_t) timegm(&tm) - offset;
}

#define assert_instant(actual, expected_text) \
    assert_instant_at((actual), (expected_text), __LINE__)

static void
assert_instant_at(int64_t actual, const char *expected_text, int line)
{
    int64_t expected = at(expected_text);

    if (actual != expected) {
        fail_msg("line %d: expected %s (%lld), got %lld (%+lld s)", line,
                 expected_text, (long long) expected, (long long) actual,
                 (long long) (actual - expected));
    }
}

static const char *const day_keys[7] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

/* "08:00-12:00 13:00-18:00" as an array of windows. */
static json_t *
windows_json(char *spec)
{
    json_t *windows = json_array();
    char *save = NULL;

    for (char *w = strtok_r(spec, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        char start[6], end[6];

        if (strlen(w) != 11 || w[5] != '-') {
            fail_msg("bad window in test: %s", w);
        }
        memcpy(start, w, 5);
        start[5] = '\0';
        memcpy(end, w + 6, 5);
        end[5] = '\0';
        json_array_append_new(windows, json_pack("{s:s, s:s}", "start", start, "end", end));
    }
    return windows;
}

/* A week in the notation above: "mon 08:00-12:00 | weekdays ... | daily ...". */
static json_t *
week_json(const char *spec)
{
    json_t *week = json_object();
    char *copy = strdup(spec), *save = NULL;

    for (int d = 0; d < 7; d++) {
        json_object_set_new(week, day_keys[d], json_array());
    }
    for (char *part = strtok_r(copy, "|", &save); part != NULL;
         part = strtok_r(NULL, "|", &save))
    {
        char name[16];
        int consumed = 0;

        if (sscanf(part, " %15s %n", name, &consumed) != 1) {
            continue;
        }

        int first = -1, last = -1;

        if (strcmp(name, "weekdays") == 0) {
            first = 0, last = 4;
        } else if (strcmp(name, "daily") == 0) {
            first = 0, last = 6;
        } else {
            for (int d = 0; d < 7; d++) {
                if (strncmp(day_keys[d], name, 3) == 0 && strlen(name) == 3) {
                    first = last = d;
                }
            }
        }
        if (first < 0) {
            fail_msg("bad day in test: %s", name);
        }
        for (int d = first; d <= last; d++) {
            char *windows = strdup(part + consumed);

            json_object_set_new(week, day_keys[d], windows_json(windows));
            free(windows);
        }
    }
    free(copy);
    return week;
}

/* Holidays: "2026-12-25 | 2026-12-24 08:00-12:00". */
static json_t *
holidays_json(const char *spec)
{
    json_t *holidays = json_array();
    char *copy = strdup(spec), *save = NULL;

    for (char *part = strtok_r(copy, "|", &save); part != NULL;
         part = strtok_r(NULL, "|", &save))
    {
        char date[11];
        int consumed = 0;

        if (sscanf(part, " %10s %n", date, &consumed) != 1) {
            continue;
        }

        json_t *holiday = json_pack("{s:s, s:s}", "date", date, "name", "Holiday");

        if (part[consumed] != '\0') {
            json_object_set_new(holiday, "hours", windows_json(part + consumed));
        }
        json_array_append_new(holidays, holiday);
    }
    free(copy);
    return holidays;
}

static msp_calendar_t *
calendar(const char *zone, const char *week, const char *holidays)
{
    json_t *w = week_json(week);
    json_t *h = holidays_json(holidays != NULL ? holidays : "");
    char err[128] = "";
    msp_calendar_t *cal = msp_calendar_new(zone, w, h, err, sizeof(err));

    if (cal == NULL) {
        fail_msg("calendar for %s rejected: %s", zone, err);
    }
    json_decref(w);
    json_decref(h);
    return cal;
}

/* Collects the intervals of msp_business_intervals(). */
typedef struct {
    int64_t start[16];
    int64_t end[16];
    int     n;
    int     stop_after;         /* return 7 from this call on, when > 0 */
} intervals_t;

static int
collect(void *arg, int64_t start, int64_t end)
{
    intervals_t *iv = arg;

    if (iv->n < 16) {
        iv->start[iv->n] = start;
        iv->end[iv->n] = end;
    }
    iv->n++;
    return iv->stop_after > 0 && iv->n >= iv->stop_after ? 7 : 0;
}

static void
format(const msp_tz_t *tz, const char *instant, char *buf)
{
    msp_tz_format_local(tz, at(instant), buf, 32);
}


/* ---- civil dates -------------------------------------------------------- */

static void
civil_dates_round_trip(void **state)
{
    (void) state;
    int64_t y;
    int m, d;

    assert_int_equal(msp_days_from_civil(1970, 1, 1), 0);
    /* 30 years of 365 days, plus 7 leap days (72 .. 96), plus Jan and Feb 2000. */
    assert_int_equal(msp_days_from_civil(2000, 3, 1), 30 * 365 + 7 + 31 + 29);
    assert_int_equal(msp_days_from_civil(1969, 12, 31), -1);

    msp_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    msp_civil_from_days(msp_days_from_civil(2028, 2, 29), &y, &m, &d);
    assert_true(y == 2028 && m == 2 && d == 29);
    msp_civil_from_days(msp_days_from_civil(-400, 3, 1), &y, &m, &d);
    assert_true(y == -400 && m == 3 && d == 1);

    assert_int_equal(msp_weekday_from_days(0), 3);                         /* Thursday */
    assert_int_equal(msp_weekday_from_days(msp_days_from_civil(2026, 1, 5)), 0);   /* Monday */
    assert_int_equal(msp_weekday_from_days(-1), 2);                        /* Wednesday */

    assert_int_equal(msp_days_in_month(1900, 2), 28);
    assert_int_equal(msp_days_in_month(2000, 2), 29);
    assert_int_equal(msp_days_in_month(2027, 2), 28);
    assert_int_equal(msp_days_in_month(2026, 4), 30);
}


/* ---- zones -------------------------------------------------------------- */

static void
unknown_or_unsafe_zone_names_are_refused(void **state)
{
    (void) state;

    assert_null(msp_tz_get(NULL));
    assert_null(msp_tz_get(""));
    assert_null(msp_tz_get("Mars/Olympus"));
    assert_null(msp_tz_get("../../etc/passwd"));
    assert_null(msp_tz_get("/usr/share/zoneinfo/UTC"));
    assert_null(msp_tz_get("America//New_York"));
    assert_null(msp_tz_get("America/New_York/"));
    assert_null(msp_tz_get("America/New York"));
    assert_null(msp_tz_get("zone.tab"));            /* '.' is not allowed */
    assert_null(msp_tz_get("America"));             /* a directory */

    /* Loaded once: the same zone every time. */
    const msp_tz_t *a = msp_tz_get("America/New_York");

    assert_non_null(a);
    assert_ptr_equal(a, msp_tz_get("America/New_York"));
    assert_string_equal(msp_tz_name(a), "America/New_York");
}

static void
new_york_offsets_and_changes(void **state)
{
    (void) state;
    const msp_tz_t *ny = msp_tz_get("America/New_York");

    assert_non_null(ny);
    /* 2026-03-08 02:00 EST (07:00Z) becomes 03:00 EDT. */
    assert_int_equal(msp_tz_offset(ny, at("2026-03-08T06:59:59Z")), -5 * HOUR);
    assert_int_equal(msp_tz_offset(ny, at("2026-03-08T07:00:00Z")), -4 * HOUR);
    assert_instant(msp_tz_next_change(ny, at("2026-01-01T00:00:00Z")), "2026-03-08T07:00:00Z");
    /* 2026-11-01 02:00 EDT (06:00Z) becomes 01:00 EST. */
    assert_instant(msp_tz_next_change(ny, at("2026-03-08T07:00:00Z")), "2026-11-01T06:00:00Z");
    assert_int_equal(msp_tz_offset(ny, at("2026-11-01T06:00:00Z")), -5 * HOUR);
}

static void
footer_rule_serves_years_after_the_table(void **state)
{
    (void) state;
    const msp_tz_t *ny = msp_tz_get("America/New_York");

    /* The file lists transitions to 2037; 2050 comes from the footer
       EST5EDT,M3.2.0,M11.1.0.  March 2050 begins on a Tuesday, so its
       second Sunday is the 13th; 02:00 EST is 07:00Z.  November 2050
       begins on a Tuesday, first Sunday the 6th, 02:00 EDT is 06:00Z. */
    assert_instant(msp_tz_next_change(ny, at("2050-01-01T00:00:00Z")), "2050-03-13T07:00:00Z");
    assert_int_equal(msp_tz_offset(ny, at("2050-03-13T06:59:59Z")), -5 * HOUR);
    assert_int_equal(msp_tz_offset(ny, at("2050-03-13T07:00:00Z")), -4 * HOUR);
    assert_instant(msp_tz_next_change(ny, at("2050-03-13T07:00:00Z")), "2050-11-06T06:00:00Z");

    /* And far out: March 2199 begins on a Friday, second Sunday the 10th. */
    assert_instant(msp_tz_next_change(ny, at("2199-01-01T00:00:00Z")), "2199-03-10T07:00:00Z");

    /* A spring-forward window in 2050 is short, as in 2026 (see below). */
    msp_calendar_t *cal = calendar("America/New_York", "sun 01:00-03:00", NULL);

    assert_int_equal(msp_business_between(cal, at("2050-03-12T00:00:00-05:00"),
                                          at("2050-03-14T00:00:00-04:00")), HOUR);
    msp_calendar_free(cal);
}

static void
lord_howe_has_a_thirty_minute_dst(void **state)
{
    (void) state;
    const msp_tz_t *lh = msp_tz_get("Australia/Lord_Howe");

    assert_non_null(lh);
    /* +11:00 in the southern summer, +10:30 in winter. */
    assert_int_equal(msp_tz_offset(lh, at("2026-01-15T00:00:00Z")), 11 * HOUR);
    assert_int_equal(msp_tz_offset(lh, at("2026-07-15T00:00:00Z")), 10 * HOUR + 1800);
    /* DST ends first Sunday of April, 2026-04-05, 02:00 at +11 = 04-04 15:00Z;
       the clock goes back to 01:30. */
    assert_instant(msp_tz_next_change(lh, at("2026-01-01T00:00:00Z")), "2026-04-04T15:00:00Z");
    assert_int_equal(msp_tz_offset(lh, at("2026-04-04T14:59:59Z")), 11 * HOUR);
    assert_int_equal(msp_tz_offset(lh, at("2026-04-04T15:00:00Z")), 10 * HOUR + 1800);
    /* DST starts first Sunday of October, 2026-10-04, 02:00 at +10:30 =
       10-03 15:30Z; the clock jumps to 02:30. */
    assert_instant(msp_tz_next_change(lh, at("2026-04-04T15:00:00Z")), "2026-10-03T15:30:00Z");

    char buf[32];

    format(lh, "2026-04-04T14:59:59Z", buf);
    assert_string_equal(buf, "2026-04-05T01:59:59+11:00");
    format(lh, "2026-04-04T15:00:00Z", buf);
    assert_string_equal(buf, "2026-04-05T01:30:00+10:30");

    /* The footer <+1030>-10:30<+11>-11,M10.1.0,M4.1.0 beyond the table:
       October 2060 begins on a Friday, first Sunday the 3rd. */
    assert_instant(msp_tz_next_change(lh, at("2060-07-01T00:00:00Z")), "2060-10-02T15:30:00Z");
}

static void
other_zones_offsets(void **state)
{
    (void) state;
    const msp_tz_t *utc = msp_tz_get("UTC");
    const msp_tz_t *kolkata = msp_tz_get("Asia/Kolkata");
    const msp_tz_t *dublin = msp_tz_get("Europe/Dublin");

    assert_non_null(utc);
    assert_non_null(kolkata);
    assert_non_null(dublin);
    assert_int_equal(msp_tz_offset(utc, at("2026-06-01T00:00:00Z")), 0);
    assert_true(msp_tz_next_change(utc, at("2026-06-01T00:00:00Z")) == INT64_MAX);
    assert_int_equal(msp_tz_offset(kolkata, at("2026-06-01T00:00:00Z")), 5 * HOUR + 1800);
    assert_true(msp_tz_next_change(kolkata, at("2026-06-01T00:00:00Z")) == INT64_MAX);
    /* Dublin's "negative DST" (IST-1GMT0,M10.5.0,M3.5.0/1): +1 in summer. */
    assert_int_equal(msp_tz_offset(dublin, at("2026-01-15T00:00:00Z")), 0);
    assert_int_equal(msp_tz_offset(dublin, at("2026-07-15T00:00:00Z")), HOUR);
    assert_int_equal(msp_tz_offset(dublin, at("2050-01-15T00:00:00Z")), 0);
    assert_int_equal(msp_tz_offset(dublin, at("2050-07-15T00:00:00Z")), HOUR);
}

static void
local_time_is_formatted_on_both_sides_of_a_change(void **state)
{
    (void) state;
    const msp_tz_t *ny = msp_tz_get("America/New_York");
    const msp_tz_t *berlin = msp_tz_get("Europe/Berlin");
    char buf[32];

    format(ny, "2026-03-08T06:59:59Z", buf);
    assert_string_equal(buf, "2026-03-08T01:59:59-05:00");
    format(ny, "2026-03-08T07:00:00Z", buf);
    assert_string_equal(buf, "2026-03-08T03:00:00-04:00");
    format(ny, "2026-11-01T05:59:59Z", buf);
    assert_string_equal(buf, "2026-11-01T01:59:59-04:00");
    format(ny, "2026-11-01T06:00:00Z", buf);
    assert_string_equal(buf, "2026-11-01T01:00:00-05:00");

    format(berlin, "2026-10-25T00:59:59Z", buf);
    assert_string_equal(buf, "2026-10-25T02:59:59+02:00");
    format(berlin, "2026-10-25T01:00:00Z", buf);
    assert_string_equal(buf, "2026-10-25T02:00:00+01:00");

    format(msp_tz_get("Asia/Kolkata"), "2026-01-05T03:30:00Z", buf);
    assert_string_equal(buf, "2026-01-05T09:00:00+05:30");
    format(msp_tz_get("UTC"), "2026-01-05T03:30:00Z", buf);
    assert_string_equal(buf, "2026-01-05T03:30:00+00:00");

    /* Before 1883 New York kept local mean time, -4:56:02.  Rounded to
       -04:56, and the wall time shown in that offset, the text still
       denotes the instant: 00:00Z less 4:56 is 19:04 the day before. */
    format(ny, "1800-01-01T00:00:00Z", buf);
    assert_string_equal(buf, "1799-12-31T19:04:00-04:56");

    /* A short buffer is cut, never overrun. */
    char small[11];

    msp_tz_format_local(ny, at("2026-03-08T07:00:00Z"), small, sizeof(small));
    assert_string_equal(small, "2026-03-08");
}


/* ---- footers of every form, from TZif files written here --------------- */

static char zone_dir[64];

static void
put32(FILE *f, uint32_t v)
{
    unsigned char b[4] = { (unsigned char) (v >> 24), (unsigned char) (v >> 16),
                           (unsigned char) (v >> 8), (unsigned char) v };

    fwrite(b, 1, 4, f);
}

static void
put64(FILE *f, int64_t v)
{
    put32(f, (uint32_t) ((uint64_t) v >> 32));
    put32(f, (uint32_t) v);
}

typedef struct {
    int            version;         /* 1, 2 or 3 */
    int            transitions;
    const int64_t *times;
    const unsigned char *types_of;
    int            types;
    const int32_t *utoffs;
    const char    *footer;          /* NULL for version 1 */
} tzif_spec_t;

static void
tzif_block(FILE *f, const tzif_spec_t *s, int width)
{
    /* Header: magic, version, 15 unused bytes, then the six counts. */
    fwrite("TZif", 1, 4, f);
    fputc(s->version == 1 ? 0 : '0' + s->version, f);
    for (int i = 0; i < 15; i++) {
        fputc(0, f);
    }
    put32(f, 0);                    /* isutcnt */
    put32(f, 0);                    /* isstdcnt */
    put32(f, 0);                    /* leapcnt */
    put32(f, (uint32_t) s->transitions);
    put32(f, (uint32_t) s->types);
    put32(f, 4);                    /* charcnt: "ZZZ\0" */

    for (int i = 0; i < s->transitions; i++) {
        if (width == 8) {
            put64(f, s->times[i]);
        } else {
            put32(f, (uint32_t) s->times[i]);
        }
    }
    if (s->transitions > 0) {
        fwrite(s->types_of, 1, (size_t) s->transitions, f);
    }
    for (int i = 0; i < s->types; i++) {
        put32(f, (uint32_t) s->utoffs[i]);
        fputc(0, f);                /* isdst: irrelevant here */
        fputc(0, f);                /* desigidx */
    }
    fwrite("ZZZ", 1, 4, f);
}

static void
write_zone(const char *name, const tzif_spec_t *s)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", zone_dir, name);

    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    tzif_block(f, s, 4);
    if (s->version > 1) {
        tzif_block(f, s, 8);
        fprintf(f, "\n%s\n", s->footer);
    }
    fclose(f);
}

/* A version 2 zone of no transitions, governed wholly by its footer. */
static const msp_tz_t *
footer_zone(const char *name, const char *footer)
{
    static const int32_t utoff[1] = { 0 };
    tzif_spec_t s = { 2, 0, NULL, NULL, 1, utoff, footer };

    write_zone(name, &s);
    return msp_tz_get(name);
}

static int
make_zone_dir(void **state)
{
    (void) state;
    snprintf(zone_dir, sizeof(zone_dir), "/tmp/msp-tz-test-XXXXXX");
    if (mkdtemp(zone_dir) == NULL) {
        return -1;
    }
    setenv("MSP_ZONEINFO_DIR", zone_dir, 1);
    return 0;
}

static int
remove_zone_dir(void **state)
{
    (void) state;
    char cmd[128];

    unsetenv("MSP_ZONEINFO_DIR");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zone_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
footer_day_forms(void **state)
{
    (void) state;

    /* Jn counts 1-365 and never Feb 29: J60 is March 1 even in 2028.
       02:00 EST is 07:00Z.  J300 is Oct 27 (273 days to the end of
       September, +27); 02:00 EDT is 06:00Z. */
    const msp_tz_t *julian = footer_zone("Julian", "EST5EDT,J60/2,J300/2");

    assert_non_null(julian);
    assert_instant(msp_tz_next_change(julian, at("2028-01-01T00:00:00Z")), "2028-03-01T07:00:00Z");
    assert_instant(msp_tz_next_change(julian, at("2028-03-01T07:00:00Z")), "2028-10-27T06:00:00Z");

    /* n counts 0-365 and does count Feb 29: day 59 is Feb 29 in 2028 and
       March 1 in 2027; day 299 of 2027 is Oct 27. */
    const msp_tz_t *zero = footer_zone("ZeroBased", "EST5EDT,59/2,299/2");

    assert_non_null(zero);
    assert_instant(msp_tz_next_change(zero, at("2028-01-01T00:00:00Z")), "2028-02-29T07:00:00Z");
    assert_instant(msp_tz_next_change(zero, at("2027-01-01T00:00:00Z")), "2027-03-01T07:00:00Z");
    assert_instant(msp_tz_next_change(zero, at("2027-03-01T07:00:00Z")), "2027-10-27T06:00:00Z");

    /* Negative hours (Nuuk): -1 is 23:00 the Saturday before the last
       Sunday of March, 2026-03-29, at -02: 2026-03-29T01:00Z.  The end,
       0:00 on 2026-10-25 at -01, is 01:00Z too. */
    const msp_tz_t *nuuk = footer_zone("NegativeHour", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");

    assert_non_null(nuuk);
    assert_instant(msp_tz_next_change(nuuk, at("2026-01-01T00:00:00Z")), "2026-03-29T01:00:00Z");
    assert_int_equal(msp_tz_offset(nuuk, at("2026-03-29T01:00:00Z")), -HOUR);
    assert_instant(msp_tz_next_change(nuuk, at("2026-03-29T01:00:00Z")), "2026-10-25T01:00:00Z");

    /* Hours past 24 (RFC 8536): DST from Jan 1 00:00 to Dec 31 25:00 is
       all year, and the offset never changes. */
    const msp_tz_t *always = footer_zone("AlwaysDst", "EST5EDT,0/0,J365/25");

    assert_non_null(always);
    assert_int_equal(msp_tz_offset(always, at("2030-06-01T00:00:00Z")), -4 * HOUR);
    assert_int_equal(msp_tz_offset(always, at("2031-01-01T04:30:00Z")), -4 * HOUR);
    assert_int_equal(msp_tz_offset(always, at("2031-01-01T05:30:00Z")), -4 * HOUR);
    assert_true(msp_tz_next_change(always, at("2030-06-01T00:00:00Z")) == INT64_MAX);

    /* A change at hour 26 of a day is 02:00 the next: M3.2.0/26 in 2026 is
       Monday 2026-03-09 02:00 EST = 07:00Z. */
    const msp_tz_t *late = footer_zone("LateHour", "EST5EDT,M3.2.0/26,M11.1.0");

    assert_non_null(late);
    assert_instant(msp_tz_next_change(late, at("2026-01-01T00:00:00Z")), "2026-03-09T07:00:00Z");

    /* Offsets with minutes, quoted names, no DST. */
    const msp_tz_t *plain = footer_zone("Plain", "<+0530>-5:30");

    assert_non_null(plain);
    assert_int_equal(msp_tz_offset(plain, at("2026-01-01T00:00:00Z")), 5 * HOUR + 1800);
    assert_true(msp_tz_next_change(plain, 0) == INT64_MAX);

    /* Lord Howe's half-hour DST written out in full. */
    const msp_tz_t *lh = footer_zone("HalfHour", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");

    assert_non_null(lh);
    assert_instant(msp_tz_next_change(lh, at("2026-01-01T00:00:00Z")), "2026-04-04T15:00:00Z");

    /* Footers that are not POSIX TZ strings make the file invalid. */
    assert_null(footer_zone("BadFooter1", "EST"));
    assert_null(footer_zone("BadFooter2", "EST5EDT,M3.2.0"));
    assert_null(footer_zone("BadFooter3", "EST5EDT,M13.2.0,M11.1.0"));
    assert_null(footer_zone("BadFooter4", "EST5EDT,M3.2.0,M11.1.0/168"));
    assert_null(footer_zone("BadFooter5", "EST5EDT,M3.2.0,M11.1.0x"));
}

static void
table_and_footer_take_turns(void **state)
{
    (void) state;

    /* Version 1: no footer; the last type holds forever.  A rename at
       1500000000 keeps +02:00 and is not a change. */
    static const int64_t times[3] = { 1000000000, 1500000000, 1600000000 };
    static const unsigned char kinds[3] = { 1, 2, 0 };
    static const int32_t utoffs[3] = { 3600, 7200, 7200 };
    tzif_spec_t v1 = { 1, 3, times, kinds, 3, utoffs, NULL };

    write_zone("Version1", &v1);

    const msp_tz_t *z = msp_tz_get("Version1");

    assert_non_null(z);
    assert_int_equal(msp_tz_offset(z, 0), 3600);            /* type 0 before */
    assert_int_equal(msp_tz_offset(z, 1000000000), 7200);
    assert_int_equal(msp_tz_next_change(z, 0), 1000000000);
    assert_int_equal(msp_tz_next_change(z, 1000000000), 1600000000);
    assert_int_equal(msp_tz_offset(z, 1600000000), 3600);
    assert_true(msp_tz_next_change(z, 1600000000) == INT64_MAX);

    /* Version 3 with a footer: after the last transition (2000000000,
       2033-05-18) the rule EST5EDT,M3.2.0,M11.1.0 governs. */
    static const int64_t t3[1] = { 2000000000 };
    static const unsigned char k3[1] = { 1 };
    static const int32_t u3[2] = { 0, -14400 };
    tzif_spec_t v3 = { 3, 1, t3, k3, 2, u3, "EST5EDT,M3.2.0,M11.1.0" };

    write_zone("Version3", &v3);
    z = msp_tz_get("Version3");
    assert_non_null(z);
    assert_int_equal(msp_tz_offset(z, 1999999999), 0);
    assert_int_equal(msp_tz_next_change(z, 0), 2000000000);
    /* November 2033 begins on a Tuesday: first Sunday the 6th. */
    assert_instant(msp_tz_next_change(z, 2000000000), "2033-11-06T06:00:00Z");

    /* Files that are not TZif, or are cut short, are refused. */
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/NotTzif", zone_dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("# a comment, like zone.tab\n", f);
    fclose(f);
    assert_null(msp_tz_get("NotTzif"));

    snprintf(path, sizeof(path), "%s/Truncated", zone_dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    tzif_block(f, &v3, 4);
    fclose(f);
    assert_int_equal(truncate(path, 50), 0);
    assert_null(msp_tz_get("Truncated"));

    /* Transitions out of order. */
    static const int64_t backwards[2] = { 2000000000, 1000000000 };
    static const unsigned char k2[2] = { 1, 0 };
    tzif_spec_t bad = { 2, 2, backwards, k2, 2, u3, "" };

    write_zone("Backwards", &bad);
    assert_null(msp_tz_get("Backwards"));
}


/* ---- calendars ---------------------------------------------------------- */

static void
calendar_rejects_bad_input(void **state)
{
    (void) state;
    char err[128];
    json_t *week = week_json("mon 08:00-12:00");
    json_t *h = NULL;

    assert_null(msp_calendar_new("Mars/Olympus", week, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown timezone"));
    assert_null(msp_calendar_new(NULL, week, NULL, NULL, 0));
    assert_null(msp_calendar_new("UTC", NULL, NULL, err, sizeof(err)));

    static const char *const bad_weeks[] = {
        "{\"monday\": {}}",
        "{\"monday\": [1]}",
        "{\"monday\": [{\"start\": \"08:00\"}]}",
        "{\"monday\": [{\"start\": \"8:00\", \"end\": \"12:00\"}]}",
        "{\"monday\": [{\"start\": \"24:00\", \"end\": \"24:00\"}]}",
        "{\"monday\": [{\"start\": \"08:00\", \"end\": \"24:01\"}]}",
        "{\"monday\": [{\"start\": \"08:60\", \"end\": \"12:00\"}]}",
        "{\"monday\": [{\"start\": \"12:00\", \"end\": \"12:00\"}]}",
        "{\"monday\": [{\"start\": \"12:00\", \"end\": \"08:00\"}]}",
        "{\"monday\": [{\"start\": 8, \"end\": \"12:00\"}]}",
        "{\"monday\": [{\"start\":\"00:00\",\"end\":\"01:00\"},{\"start\":\"01:00\",\"end\":\"02:00\"},"
        "{\"start\":\"02:00\",\"end\":\"03:00\"},{\"start\":\"03:00\",\"end\":\"04:00\"},"
        "{\"start\":\"04:00\",\"end\":\"05:00\"},{\"start\":\"05:00\",\"end\":\"06:00\"},"
        "{\"start\":\"06:00\",\"end\":\"07:00\"},{\"start\":\"07:00\",\"end\":\"08:00\"},"
        "{\"start\":\"08:00\",\"end\":\"09:00\"}]}",
        "[]",
    };

    for (size_t i = 0; i < sizeof(bad_weeks) / sizeof(bad_weeks[0]); i++) {
        json_t *w = json_loads(bad_weeks[i], 0, NULL);

        assert_non_null(w);
        err[0] = '\0';
        if (msp_calendar_new("UTC", w, NULL, err, sizeof(err)) != NULL) {
            fail_msg("accepted %s", bad_weeks[i]);
        }
        assert_true(err[0] != '\0');
        json_decref(w);
    }

    static const char *const bad_holidays[] = {
        "{}",
        "[1]",
        "[{\"name\": \"x\"}]",
        "[{\"date\": \"2027-02-29\"}]",
        "[{\"date\": \"2026-13-01\"}]",
        "[{\"date\": \"2026-1-01\"}]",
        "[{\"date\": \"2026-12-25\", \"hours\": [{\"start\": \"x\", \"end\": \"12:00\"}]}]",
        "[{\"date\": \"2026-12-25\"}, {\"date\": \"2026-12-25\"}]",
    };

    for (size_t i = 0; i < sizeof(bad_holidays) / sizeof(bad_holidays[0]); i++) {
        h = json_loads(bad_holidays[i], 0, NULL);
        assert_non_null(h);
        err[0] = '\0';
        if (msp_calendar_new("UTC", week, h, err, sizeof(err)) != NULL) {
            fail_msg("accepted holidays %s", bad_holidays[i]);
        }
        assert_true(err[0] != '\0');
        json_decref(h);
    }
    json_decref(week);
}

static void
windows_that_touch_or_overlap_are_one_stretch(void **state)
{
    (void) state;
    /* 08:00-12:00 and 12:00-17:00 touch; 16:00-18:00 overlaps the second.
       The day is one stretch 08:00-18:00, ten hours, counted once. */
    msp_calendar_t *cal = calendar("UTC", "mon 12:00-17:00 08:00-12:00 16:00-18:00", NULL);
    intervals_t iv = { .n = 0 };

    assert_int_equal(msp_business_between(cal, at("2026-01-05T00:00:00Z"),
                                          at("2026-01-06T00:00:00Z")), 10 * HOUR);
    msp_business_intervals(cal, at("2026-01-05T00:00:00Z"), at("2026-01-06T00:00:00Z"),
                           collect, &iv);
    assert_int_equal(iv.n, 1);
    assert_instant(iv.start[0], "2026-01-05T08:00:00Z");
    assert_instant(iv.end[0], "2026-01-05T18:00:00Z");
    msp_calendar_free(cal);
}


/* ---- business time ------------------------------------------------------ */

static void
window_across_midnight(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "mon 22:00-24:00 | tue 00:00-06:00", NULL);
    intervals_t iv = { .n = 0 };

    /* Monday 21:00 to Tuesday 07:00: 2 h on Monday + 6 h on Tuesday. */
    assert_int_equal(msp_business_between(cal, at("2026-01-05T21:00:00Z"),
                                          at("2026-01-06T07:00:00Z")), 8 * HOUR);
    /* From Monday 23:00, 3 h: 1 h to midnight, 2 h into Tuesday. */
    assert_instant(msp_business_add(cal, at("2026-01-05T23:00:00Z"), 3 * HOUR),
                   "2026-01-06T02:00:00Z");
    /* The two windows are one stretch, 22:00 Monday to 06:00 Tuesday. */
    msp_business_intervals(cal, at("2026-01-05T00:00:00Z"), at("2026-01-07T00:00:00Z"),
                           collect, &iv);
    assert_int_equal(iv.n, 1);
    assert_instant(iv.start[0], "2026-01-05T22:00:00Z");
    assert_instant(iv.end[0], "2026-01-06T06:00:00Z");
    msp_calendar_free(cal);
}

static void
split_shift(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "weekdays 08:00-12:00 13:00-18:00", NULL);

    /* 10:00-14:00: 10-12 is 2 h, the lunch hour none, 13-14 is 1 h. */
    assert_int_equal(msp_business_between(cal, at("2026-01-05T10:00:00Z"),
                                          at("2026-01-05T14:00:00Z")), 3 * HOUR);
    /* From 11:00, 2 h: 1 h to 12:00, lunch, then 1 h from 13:00. */
    assert_instant(msp_business_add(cal, at("2026-01-05T11:00:00Z"), 2 * HOUR),
                   "2026-01-05T14:00:00Z");
    /* From 11:00, 1 h ends the morning window: 12:00, not 13:00. */
    assert_instant(msp_business_add(cal, at("2026-01-05T11:00:00Z"), HOUR),
                   "2026-01-05T12:00:00Z");
    /* From the lunch break, 30 min: 13:30. */
    assert_instant(msp_business_add(cal, at("2026-01-05T12:30:00Z"), 1800),
                   "2026-01-05T13:30:00Z");

    intervals_t iv = { .n = 0 };

    msp_business_intervals(cal, at("2026-01-05T09:00:00Z"), at("2026-01-05T20:00:00Z"),
                           collect, &iv);
    assert_int_equal(iv.n, 2);
    assert_instant(iv.start[0], "2026-01-05T09:00:00Z");       /* cut to from */
    assert_instant(iv.end[0], "2026-01-05T12:00:00Z");
    assert_instant(iv.start[1], "2026-01-05T13:00:00Z");
    assert_instant(iv.end[1], "2026-01-05T18:00:00Z");
    msp_calendar_free(cal);
}

static void
friday_to_monday_over_a_weekend(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("America/New_York", "weekdays 09:00-17:00", NULL);

    /* Friday 16:00, 2 h: 1 h on Friday, the weekend is closed, 1 h on
       Monday from 09:00. */
    assert_instant(msp_business_add(cal, at("2026-01-09T16:00:00-05:00"), 2 * HOUR),
                   "2026-01-12T10:00:00-05:00");
    assert_int_equal(msp_business_between(cal, at("2026-01-09T16:00:00-05:00"),
                                          at("2026-01-12T10:00:00-05:00")), 2 * HOUR);
    msp_calendar_free(cal);
}

static void
full_holiday(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "weekdays 09:00-17:00", "2026-01-07");

    /* Tuesday 16:00, 2 h: 1 h on Tuesday, Wednesday the 7th is closed,
       1 h on Thursday from 09:00. */
    assert_instant(msp_business_add(cal, at("2026-01-06T16:00:00Z"), 2 * HOUR),
                   "2026-01-08T10:00:00Z");
    /* Tuesday to Thursday inclusive: 8 + 0 + 8. */
    assert_int_equal(msp_business_between(cal, at("2026-01-06T00:00:00Z"),
                                          at("2026-01-09T00:00:00Z")), 16 * HOUR);
    msp_calendar_free(cal);
}

static void
partial_holiday(void **state)
{
    (void) state;
    /* Wednesday the 7th works 08:00-12:00 instead of 09:00-17:00. */
    msp_calendar_t *cal = calendar("UTC", "weekdays 09:00-17:00", "2026-01-07 08:00-12:00");

    assert_int_equal(msp_business_between(cal, at("2026-01-07T00:00:00Z"),
                                          at("2026-01-08T00:00:00Z")), 4 * HOUR);
    /* Tuesday 16:00, 2 h: 1 h on Tuesday, then 08:00-09:00 on Wednesday. */
    assert_instant(msp_business_add(cal, at("2026-01-06T16:00:00Z"), 2 * HOUR),
                   "2026-01-07T09:00:00Z");
    /* Wednesday 11:00, 2 h: 1 h to 12:00, then Thursday 09:00-10:00. */
    assert_instant(msp_business_add(cal, at("2026-01-07T11:00:00Z"), 2 * HOUR),
                   "2026-01-08T10:00:00Z");
    /* An empty "hours" list closes the day like no hours at all. */
    json_t *week = week_json("weekdays 09:00-17:00");
    json_t *h = json_loads("[{\"date\": \"2026-01-07\", \"name\": \"x\", \"hours\": []}]", 0, NULL);
    msp_calendar_t *closed = msp_calendar_new("UTC", week, h, NULL, 0);

    assert_non_null(closed);
    assert_int_equal(msp_business_between(closed, at("2026-01-07T00:00:00Z"),
                                          at("2026-01-08T00:00:00Z")), 0);
    msp_calendar_free(closed);
    json_decref(week);
    json_decref(h);
    msp_calendar_free(cal);
}

static void
new_york_spring_forward(void **state)
{
    (void) state;
    /* 2026-03-08: at 02:00 EST (07:00Z) the clock jumps to 03:00 EDT.  Of
       the window 01:00-03:00 only 01:00-02:00 EST (06:00Z-07:00Z) exists. */
    msp_calendar_t *cal = calendar("America/New_York", "sun 01:00-03:00", NULL);
    intervals_t iv = { .n = 0 };

    assert_int_equal(msp_business_between(cal, at("2026-03-07T00:00:00-05:00"),
                                          at("2026-03-09T00:00:00-04:00")), HOUR);
    msp_business_intervals(cal, at("2026-03-07T00:00:00-05:00"),
                           at("2026-03-09T00:00:00-04:00"), collect, &iv);
    assert_int_equal(iv.n, 1);
    assert_instant(iv.start[0], "2026-03-08T01:00:00-05:00");
    assert_instant(iv.end[0], "2026-03-08T03:00:00-04:00");
    /* The hour is used up at the jump, shown as 03:00 EDT. */
    assert_instant(msp_business_add(cal, at("2026-03-08T00:00:00-05:00"), HOUR),
                   "2026-03-08T03:00:00-04:00");
    /* One more second waits for the next Sunday, 01:00 EDT (05:00Z). */
    assert_instant(msp_business_add(cal, at("2026-03-08T00:00:00-05:00"), HOUR + 1),
                   "2026-03-15T01:00:01-04:00");
    msp_calendar_free(cal);

    /* A whole-day window on that Sunday is 23 hours long. */
    cal = calendar("America/New_York", "sun 00:00-24:00", NULL);
    assert_int_equal(msp_business_between(cal, at("2026-03-08T00:00:00-05:00"),
                                          at("2026-03-09T00:00:00-04:00")), 23 * HOUR);
    msp_calendar_free(cal);
}

static void
new_york_fall_back(void **state)
{
    (void) state;
    /* 2026-11-01: at 02:00 EDT (06:00Z) the clock goes back to 01:00 EST.
       The window 00:00-03:00 is 00:00-02:00 EDT (04:00Z-06:00Z) and then
       01:00-03:00 EST (06:00Z-08:00Z): 4 hours, one stretch. */
    msp_calendar_t *cal = calendar("America/New_York", "sun 00:00-03:00", NULL);
    intervals_t iv = { .n = 0 };

    assert_int_equal(msp_business_between(cal, at("2026-10-31T00:00:00-04:00"),
                                          at("2026-11-02T00:00:00-05:00")), 4 * HOUR);
    msp_business_intervals(cal, at("2026-10-31T00:00:00-04:00"),
                           at("2026-11-02T00:00:00-05:00"), collect, &iv);
    assert_int_equal(iv.n, 1);
    assert_instant(iv.start[0], "2026-11-01T00:00:00-04:00");
    assert_instant(iv.end[0], "2026-11-01T03:00:00-05:00");
    /* 2.5 h from midnight: 2 h of EDT, then 30 min into the repeated hour. */
    assert_instant(msp_business_add(cal, at("2026-11-01T00:00:00-04:00"), 2 * HOUR + 1800),
                   "2026-11-01T01:30:00-05:00");
    msp_calendar_free(cal);

    /* The repeated hour alone, 01:00-02:00, counts twice: 2 hours. */
    cal = calendar("America/New_York", "sun 01:00-02:00", NULL);
    assert_int_equal(msp_business_between(cal, at("2026-11-01T00:00:00-04:00"),
                                          at("2026-11-02T00:00:00-05:00")), 2 * HOUR);
    msp_calendar_free(cal);

    /* A whole-day window on that Sunday is 25 hours long. */
    cal = calendar("America/New_York", "sun 00:00-24:00", NULL);
    assert_int_equal(msp_business_between(cal, at("2026-11-01T00:00:00-04:00"),
                                          at("2026-11-02T00:00:00-05:00")), 25 * HOUR);
    msp_calendar_free(cal);
}

static void
berlin_changes(void **state)
{
    (void) state;
    /* 2026-03-29: 02:00 CET (01:00Z) becomes 03:00 CEST.  The window
       02:00-03:00 lies wholly in the gap: nothing.  01:00-04:00 is
       01:00-02:00 CET plus 03:00-04:00 CEST: 2 hours. */
    msp_calendar_t *gap = calendar("Europe/Berlin", "sun 02:00-03:00", NULL);
    msp_calendar_t *around = calendar("Europe/Berlin", "sun 01:00-04:00", NULL);

    assert_int_equal(msp_business_between(gap, at("2026-03-29T00:00:00+01:00"),
                                          at("2026-03-30T00:00:00+02:00")), 0);
    assert_int_equal(msp_business_between(around, at("2026-03-29T00:00:00+01:00"),
                                          at("2026-03-30T00:00:00+02:00")), 2 * HOUR);
    /* 90 minutes from 01:30: 30 min to 02:00 CET = 03:00 CEST, and an hour on. */
    assert_instant(msp_business_add(around, at("2026-03-29T01:30:00+01:00"), 5400),
                   "2026-03-29T04:00:00+02:00");

    /* 2026-10-25: 03:00 CEST (01:00Z) goes back to 02:00 CET.  02:00-03:00
       happens twice: 02:00-03:00 CEST (00:00Z-01:00Z) and 02:00-03:00 CET
       (01:00Z-02:00Z): 2 hours. */
    assert_int_equal(msp_business_between(gap, at("2026-10-25T00:00:00+02:00"),
                                          at("2026-10-26T00:00:00+01:00")), 2 * HOUR);
    assert_instant(msp_business_add(gap, at("2026-10-25T00:00:00+02:00"), 5400),
                   "2026-10-25T02:30:00+01:00");
    msp_calendar_free(gap);
    msp_calendar_free(around);
}

static void
sydney_changes(void **state)
{
    (void) state;
    /* Southern hemisphere: DST ends 2026-04-05, 03:00 AEDT (+11, which is
       04-04 16:00Z) going back to 02:00 AEST.  The window 02:00-03:00 is
       lived twice: 15:00Z-16:00Z and 16:00Z-17:00Z. */
    msp_calendar_t *cal = calendar("Australia/Sydney", "sun 02:00-03:00", NULL);

    assert_int_equal(msp_business_between(cal, at("2026-04-05T00:00:00+11:00"),
                                          at("2026-04-06T00:00:00+10:00")), 2 * HOUR);
    msp_calendar_free(cal);

    /* DST starts 2026-10-04, 02:00 AEST (10-03 16:00Z) jumping to 03:00
       AEDT.  01:00-04:00 is 01:00-02:00 AEST plus 03:00-04:00 AEDT; the
       whole day 00:00-24:00 is 23 hours. */
    cal = calendar("Australia/Sydney", "sun 01:00-04:00", NULL);
    assert_int_equal(msp_business_between(cal, at("2026-10-04T00:00:00+10:00"),
                                          at("2026-10-05T00:00:00+11:00")), 2 * HOUR);
    /* From 01:30, 1 h: 30 min to the jump, 30 min after 03:00 AEDT. */
    assert_instant(msp_business_add(cal, at("2026-10-04T01:30:00+10:00"), HOUR),
                   "2026-10-04T03:30:00+11:00");
    msp_calendar_free(cal);

    cal = calendar("Australia/Sydney", "sun 00:00-24:00", NULL);
    assert_int_equal(msp_business_between(cal, at("2026-10-04T00:00:00+10:00"),
                                          at("2026-10-05T00:00:00+11:00")), 23 * HOUR);
    msp_calendar_free(cal);
}

static void
kolkata_half_hour_offset(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("Asia/Kolkata", "weekdays 09:00-17:30", NULL);

    /* Monday 00:00Z-Tuesday 00:00Z is Monday 05:30-Tuesday 05:30 IST: only
       Monday's window, 8.5 h. */
    assert_int_equal(msp_business_between(cal, at("2026-01-05T00:00:00Z"),
                                          at("2026-01-06T00:00:00Z")), 8 * HOUR + 1800);
    /* 08:30 IST (03:00Z), 1 h: the window opens at 09:00, so 10:00 IST. */
    assert_instant(msp_business_add(cal, at("2026-01-05T03:00:00Z"), HOUR),
                   "2026-01-05T10:00:00+05:30");
    msp_calendar_free(cal);
}

static void
around_the_clock(void **state)
{
    (void) state;
    /* 24x7: every instant is working time; DST only relabels the clock. */
    msp_calendar_t *cal = calendar("Europe/Berlin", "daily 00:00-24:00", NULL);
    intervals_t iv = { .n = 0 };
    int64_t a = at("2026-03-28T00:00:00Z"), b = at("2026-03-30T00:00:00Z");

    assert_int_equal(msp_business_between(cal, a, b), b - a);
    assert_int_equal(msp_business_between(cal, at("2026-10-24T12:34:56Z"),
                                          at("2026-10-26T01:02:03Z")),
                     at("2026-10-26T01:02:03Z") - at("2026-10-24T12:34:56Z"));
    assert_int_equal(msp_business_between(cal, at("2026-01-01T00:00:00Z"),
                                          at("2027-01-01T00:00:00Z")), 365 * DAY);
    assert_int_equal(msp_business_add(cal, a, 10 * DAY), a + 10 * DAY);
    msp_business_intervals(cal, a, a + 40 * DAY, collect, &iv);
    assert_int_equal(iv.n, 1);
    assert_int_equal(iv.start[0], a);
    assert_int_equal(iv.end[0], a + 40 * DAY);
    msp_calendar_free(cal);
}

static void
start_outside_working_hours(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "weekdays 09:00-17:00", NULL);

    /* Monday 18:00, after hours: 30 min into Tuesday's window. */
    assert_instant(msp_business_add(cal, at("2026-01-05T18:00:00Z"), 1800),
                   "2026-01-06T09:30:00Z");
    /* Saturday noon, 1 h: the weekend is closed, Monday 10:00. */
    assert_instant(msp_business_add(cal, at("2026-01-10T12:00:00Z"), HOUR),
                   "2026-01-12T10:00:00Z");
    msp_calendar_free(cal);
}

static void
target_across_the_year_end(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("America/New_York", "weekdays 09:00-17:00",
                                   "2026-12-25 | 2026-12-31 09:00-12:00 | 2027-01-01");

    /* Wednesday 2026-12-30 15:00 EST, 8 h: 2 h on Wednesday (6 left),
       3 h on the short Thursday the 31st (3 left), Friday Jan 1 closed,
       the weekend, and Monday 2027-01-04 09:00 + 3 h = 12:00. */
    assert_instant(msp_business_add(cal, at("2026-12-30T15:00:00-05:00"), 8 * HOUR),
                   "2027-01-04T12:00:00-05:00");
    assert_int_equal(msp_business_between(cal, at("2026-12-30T15:00:00-05:00"),
                                          at("2027-01-04T12:00:00-05:00")), 8 * HOUR);
    /* Christmas week: Mon-Thu 4 x 8 h, Friday the 25th closed. */
    assert_int_equal(msp_business_between(cal, at("2026-12-21T00:00:00-05:00"),
                                          at("2026-12-28T00:00:00-05:00")), 32 * HOUR);
    msp_calendar_free(cal);
}

static void
whole_window_ends_at_its_end(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "weekdays 09:00-17:00", NULL);

    /* Monday 09:00 + 8 h is Monday 17:00, not Tuesday 09:00. */
    assert_instant(msp_business_add(cal, at("2026-01-05T09:00:00Z"), 8 * HOUR),
                   "2026-01-05T17:00:00Z");
    /* Friday 09:00 + 8 h is Friday 17:00, not Monday 09:00. */
    assert_instant(msp_business_add(cal, at("2026-01-09T09:00:00Z"), 8 * HOUR),
                   "2026-01-09T17:00:00Z");
    /* Three whole weeks of 40 h from Monday 09:00 end on a Friday 17:00;
       this goes through the week-skipping path. */
    assert_instant(msp_business_add(cal, at("2026-01-05T00:00:00Z"), 120 * HOUR),
                   "2026-01-23T17:00:00Z");
    /* Zero is the start itself, working time or not; so is a negative. */
    assert_instant(msp_business_add(cal, at("2026-01-10T12:00:00Z"), 0), "2026-01-10T12:00:00Z");
    assert_instant(msp_business_add(cal, at("2026-01-10T12:00:00Z"), -5), "2026-01-10T12:00:00Z");
    msp_calendar_free(cal);
}

static void
long_spans(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("America/New_York", "weekdays 09:00-17:00",
                                   "2026-11-26 | 2026-12-25");

    /* 2026 has 261 weekdays (52 weeks and Thursday, Jan 1); two are
       holidays: 259 x 8 h. */
    assert_int_equal(msp_business_between(cal, at("2026-01-01T00:00:00-05:00"),
                                          at("2027-01-01T00:00:00-05:00")), 259 * 8 * HOUR);
    /* Using all of it from New Year's Day ends Thursday Dec 31 at 17:00. */
    assert_instant(msp_business_add(cal, at("2026-01-01T00:00:00-05:00"), 259 * 8 * HOUR),
                   "2026-12-31T17:00:00-05:00");
    msp_calendar_free(cal);
}

static void
no_working_time_never_arrives(void **state)
{
    (void) state;
    msp_calendar_t *none = calendar("UTC", "", NULL);
    msp_calendar_t *once = calendar("UTC", "", "2026-06-01 09:00-10:00");

    assert_true(msp_business_add(none, at("2026-01-01T00:00:00Z"), 1) == INT64_MAX);
    assert_int_equal(msp_business_between(none, 0, at("2100-01-01T00:00:00Z")), 0);
    /* One working hour in all of time: 1 h is reached, 1 h + 1 s never. */
    assert_instant(msp_business_add(once, at("2026-01-01T00:00:00Z"), HOUR),
                   "2026-06-01T10:00:00Z");
    assert_true(msp_business_add(once, at("2026-01-01T00:00:00Z"), HOUR + 1) == INT64_MAX);
    /* Beyond the covered range nothing is working time. */
    assert_true(msp_business_add(once, INT64_MAX - 10, 1) == INT64_MAX);
    assert_int_equal(msp_business_between(once, INT64_MIN, INT64_MAX), HOUR);
    msp_calendar_free(none);
    msp_calendar_free(once);
}

static void
empty_and_reversed_ranges(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "daily 00:00-24:00", NULL);
    intervals_t iv = { .n = 0 };

    assert_int_equal(msp_business_between(cal, 100, 100), 0);
    assert_int_equal(msp_business_between(cal, 100, 50), 0);
    assert_int_equal(msp_business_intervals(cal, 100, 50, collect, &iv), 0);
    assert_int_equal(iv.n, 0);
    msp_calendar_free(cal);
}

static void
intervals_stop_when_told(void **state)
{
    (void) state;
    msp_calendar_t *cal = calendar("UTC", "weekdays 09:00-17:00", NULL);
    intervals_t iv = { .n = 0, .stop_after = 2 };

    /* A week holds five intervals; the callback says stop at the second. */
    assert_int_equal(msp_business_intervals(cal, at("2026-01-05T00:00:00Z"),
                                            at("2026-01-12T00:00:00Z"), collect, &iv), 7);
    assert_int_equal(iv.n, 2);
    assert_instant(iv.start[1], "2026-01-06T09:00:00Z");
    msp_calendar_free(cal);
}

int
main(void)
{
    const struct CMUnitTest zone_files[] = {
        cmocka_unit_test(footer_day_forms),
        cmocka_unit_test(table_and_footer_take_turns),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(civil_dates_round_trip),
        cmocka_unit_test(unknown_or_unsafe_zone_names_are_refused),
        cmocka_unit_test(new_york_offsets_and_changes),
        cmocka_unit_test(footer_rule_serves_years_after_the_table),
        cmocka_unit_test(lord_howe_has_a_thirty_minute_dst),
        cmocka_unit_test(other_zones_offsets),
        cmocka_unit_test(local_time_is_formatted_on_both_sides_of_a_change),
        cmocka_unit_test(calendar_rejects_bad_input),
        cmocka_unit_test(windows_that_touch_or_overlap_are_one_stretch),
        cmocka_unit_test(window_across_midnight),
        cmocka_unit_test(split_shift),
        cmocka_unit_test(friday_to_monday_over_a_weekend),
        cmocka_unit_test(full_holiday),
        cmocka_unit_test(partial_holiday),
        cmocka_unit_test(new_york_spring_forward),
        cmocka_unit_test(new_york_fall_back),
        cmocka_unit_test(berlin_changes),
        cmocka_unit_test(sydney_changes),
        cmocka_unit_test(kolkata_half_hour_offset),
        cmocka_unit_test(around_the_clock),
        cmocka_unit_test(start_outside_working_hours),
        cmocka_unit_test(target_across_the_year_end),
        cmocka_unit_test(whole_window_ends_at_its_end),
        cmocka_unit_test(long_spans),
        cmocka_unit_test(no_working_time_never_arrives),
        cmocka_unit_test(empty_and_reversed_ranges),
        cmocka_unit_test(intervals_stop_when_told),
    };

    /* The system zones are loaded first (the cache keeps them by name),
       then the zone directory is pointed at files written by the tests. */
    int failed = cmocka_run_group_tests_name("sla_business", tests, NULL, NULL);

    failed += cmocka_run_group_tests_name("sla_zone_files", zone_files,
                                          make_zone_dir, remove_zone_dir);
    return failed;
}
