/*
 * test_sla_property.c - business-time arithmetic against a naive model.
 *
 * Thousands of random calendars in zones chosen for their awkwardness
 * (30- and 45-minute offsets, a 30-minute DST, the southern hemisphere,
 * Dublin's "negative" DST) are checked against a reference that is slow
 * and obviously right: it steps minute by minute, asks the C library for
 * each minute's local time (TZ set to the zone, localtime_r), and looks
 * the minute up in the calendar's JSON directly.  It shares no code with
 * services/sla/: not the TZif reader, not the civil-date arithmetic, not
 * the compiled calendar.
 *
 * Instants are minute-aligned and every zone here has had whole-minute
 * offsets changing on whole minutes since long before 2024, so a minute
 * is wholly working time or wholly not, and the reference counts 60
 * seconds or none for it.
 *
 * The run is reproducible: the seed is fixed (override it with env
 * MSP_SLA_SEED) and printed with every failure, together with the case
 * number and the calendar.
 *
 * A second test covers spans of years, too long for the reference: there
 * msp_business_between() (which skips ordinary weeks in bulk) must agree
 * with the sum of msp_business_intervals() (which never skips), and
 * msp_business_add() must land at the end of the last interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "sla/business.h"

#define ARRAY_LEN(a)      (sizeof(a) / sizeof((a)[0]))

#define NAIVE_CASES       4000
#define LONG_SPAN_CASES   300
#define DEFAULT_SEED      UINT64_C(20260308)

#define MINUTE            INT64_C(60)
#define HOUR              (60 * MINUTE)
#define DAY               (24 * HOUR)

static const char *const zones[] = {
    "America/New_York", "Europe/Berlin", "Australia/Sydney",
    "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns",
    "Pacific/Chatham", "UTC", "Europe/Dublin",
};

static const char *const day_keys[7] = {   /* indexed by tm_wday */
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"
};

static uint64_t seed = DEFAULT_SEED;


/* ---- random numbers ----------------------------------------------------- */

/* splitmix64: tiny, good enough, and the same on every machine. */
static uint64_t
next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t
random_between(uint64_t *state, int64_t lo, int64_t hi)
{
    return lo + (int64_t) (next_random(state) % (uint64_t) (hi - lo + 1));
}

static int
chance(uint64_t *state, int percent)
{
    return random_between(state, 0, 99) < percent;
}


/* ---- the zone, through the C library only ------------------------------- */

static void
use_zone(const char *zone)
{
    const char *dir = getenv("MSP_ZONEINFO_DIR");
    char tz[512];

    if (dir == NULL || dir[0] == '\0') {
        dir = "/usr/share/zoneinfo";
    }
    snprintf(tz, sizeof(tz), ":%s/%s", dir, zone);
    setenv("TZ", tz, 1);
    tzset();
}

static long
libc_offset(int64_t t)
{
    time_t tt = (time_t) t;
    struct tm tm;

    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

static int64_t
utc_of_date(int y, int m, int d)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };

    return (int64_t) timegm(&tm);
}

/* The offset changes of the current zone in [from, to), found by bisection. */
typedef struct {
    int64_t at[64];
    size_t  n;
} changes_t;

static void
find_changes(int64_t from, int64_t to, changes_t *out)
{
    for (int64_t t = from; t < to && out->n < ARRAY_LEN(out->at); t += DAY) {
        if (libc_offset(t) == libc_offset(t + DAY)) {
            continue;
        }

        int64_t lo = t, hi = t + DAY;           /* offset(lo) != offset(hi) */

        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;

            if (libc_offset(mid) == libc_offset(lo)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        out->at[out->n++] = hi;
    }
}

static changes_t near_changes[ARRAY_LEN(zones)];   /* 2024-2030 */
static changes_t far_changes[ARRAY_LEN(zones)];    /* 2040-2045 */

static int
setup(void **state)
{
    (void) state;

    const char *s = getenv("MSP_SLA_SEED");

    if (s != NULL && s[0] != '\0') {
        seed = strtoull(s, NULL, 0);
    }
    for (size_t z = 0; z < ARRAY_LEN(zones); z++) {
        use_zone(zones[z]);
        find_changes(utc_of_date(2024, 1, 1), utc_of_date(2031, 1, 1), &near_changes[z]);
        find_changes(utc_of_date(2040, 1, 1), utc_of_date(2046, 1, 1), &far_changes[z]);
    }
    return 0;
}


/* ---- random calendars --------------------------------------------------- */

static int
random_minute(uint64_t *rng, int lo, int hi)
{
    /* Half the time on a quarter hour, where zones change and people
       start work; the other half anywhere. */
    if (chance(rng, 50) && hi - lo >= 15) {
        int q = (int) random_between(rng, (lo + 14) / 15, hi / 15);

        return q * 15;
    }
    return (int) random_between(rng, lo, hi);
}

static json_t *
window(int start, int end)
{
    char s[16], e[16];

    snprintf(s, sizeof(s), "%02d:%02d", start / 60, start % 60);
    snprintf(e, sizeof(e), "%02d:%02d", end / 60, end % 60);
    return json_pack("{s:s, s:s}", "start", s, "end", e);
}

/* A valid day: none, all day, or up to four windows, some touching. */
static json_t *
random_day(uint64_t *rng)
{
    json_t *day = json_array();
    int kind = (int) random_between(rng, 0, 9);

    if (kind <= 1) {
        return day;
    }
    if (kind == 2) {
        json_array_append_new(day, window(0, 1440));
        return day;
    }

    int count = (int) random_between(rng, 1, 4);
    int pos = chance(rng, 20) ? 0 : random_minute(rng, 0, 1200);

    for (int i = 0; i < count && pos < 1440; i++) {
        int start = pos;

        if (i > 0 && !chance(rng, 30)) {
            start = random_minute(rng, pos + 1 > 1439 ? 1439 : pos + 1, 1439);
        }
        if (start >= 1440) {
            break;
        }

        int end = chance(rng, 15) ? 1440 : random_minute(rng, start + 1, 1440);

        json_array_append_new(day, window(start, end));
        pos = end;
    }
    return day;
}

static json_t *
random_week(uint64_t *rng)
{
    json_t *calendar = json_object();

    for (int d = 0; d < 7; d++) {
        json_object_set_new(calendar, day_keys[d], random_day(rng));
    }
    return calendar;
}

static void
date_text(int64_t t, char out[40])
{
    time_t tt = (time_t) t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    snprintf(out, 40, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The local date of t as a UTC midnight, so that days can be added. */
static int64_t
local_day(int64_t t)
{
    time_t tt = (time_t) t;
    struct tm tm;

    localtime_r(&tt, &tm);
    return utc_of_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Up to four holidays on distinct dates around [from, to), half with hours. */
static json_t *
random_holidays(uint64_t *rng, int64_t from, int64_t to)
{
    json_t *holidays = json_array();
    int64_t first = local_day(from) - DAY, last = local_day(to) + DAY;
    int64_t days = (last - first) / DAY;
    int count = (int) random_between(rng, 0, 4);
    int64_t taken[4];
    int n = 0;

    for (int i = 0; i < count; i++) {
        int64_t day = first + random_between(rng, 0, days) * DAY;
        int seen = 0;

        for (int k = 0; k < n; k++) {
            seen |= taken[k] == day;
        }
        if (seen) {
            continue;
        }
        taken[n++] = day;

        char date[40];

        date_text(day, date);

        json_t *holiday = json_pack("{s:s, s:s}", "date", date, "name", "Holiday");

        if (chance(rng, 50)) {
            json_object_set_new(holiday, "hours", random_day(rng));
        }
        json_array_append_new(holidays, holiday);
    }
    return holidays;
}


/* ---- the reference ------------------------------------------------------ */

static int
minutes_of(const char *hhmm)
{
    return ((hhmm[0] - '0') * 10 + (hhmm[1] - '0')) * 60
           + (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
}

static int
in_windows(const json_t *windows, int minute)
{
    size_t i;
    const json_t *w;

    json_array_foreach(windows, i, w) {
        int start = minutes_of(json_string_value(json_object_get(w, "start")));
        int end = minutes_of(json_string_value(json_object_get(w, "end")));

        if (minute >= start && minute < end) {
            return 1;
        }
    }
    return 0;
}

/* Is the minute starting at t working time?  The TZ must be set. */
static int
naive_is_working(const json_t *calendar, const json_t *holidays, int64_t t)
{
    time_t tt = (time_t) t;
    struct tm tm;
    char date[40];

    localtime_r(&tt, &tm);
    snprintf(date, sizeof(date), "%04d-%02d-%02d",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);

    int minute = tm.tm_hour * 60 + tm.tm_min;
    size_t i;
    const json_t *h;

    json_array_foreach(holidays, i, h) {
        if (strcmp(json_string_value(json_object_get(h, "date")), date) == 0) {
            const json_t *hours = json_object_get(h, "hours");

            return hours != NULL && in_windows(hours, minute);
        }
    }
    return in_windows(json_object_get(calendar, day_keys[tm.tm_wday]), minute);
}


/* ---- checking one case -------------------------------------------------- */

typedef struct {
    int     number;
    int64_t from, to;
    json_t *calendar;
    json_t *holidays;
    const char *zone;
} case_t;

static void
report(const case_t *c, const char *what)
{
    char *cal = json_dumps(c->calendar, JSON_COMPACT | JSON_SORT_KEYS);
    char *hol = json_dumps(c->holidays, JSON_COMPACT);

    print_error("seed %llu case %d (%s): %s\n  from %lld to %lld\n"
                "  calendar %s\n  holidays %s\n",
                (unsigned long long) seed, c->number, c->zone, what,
                (long long) c->from, (long long) c->to, cal, hol);
    free(cal);
    free(hol);
}

typedef struct {
    int64_t from, to;
    unsigned char *rebuilt;     /* one flag a minute, from the intervals */
    int64_t last_end;
    int bad;
} rebuild_t;

static int
rebuild_interval(void *arg, int64_t start, int64_t end)
{
    rebuild_t *r = arg;

    /* In range, in order, and maximal: never touching the previous one. */
    if (start < r->from || end > r->to || start >= end || start <= r->last_end
        || start % MINUTE != 0 || end % MINUTE != 0)
    {
        r->bad = 1;
        return 1;
    }
    for (int64_t t = start; t < end; t += MINUTE) {
        r->rebuilt[(t - r->from) / MINUTE] = 1;
    }
    r->last_end = end;
    return 0;
}

/* The naive answer to add(from, n), from the minute flags. */
static int64_t
naive_add(const unsigned char *working, int64_t minutes, int64_t from, int64_t n)
{
    int64_t used = 0;

    if (n <= 0) {
        return from;
    }
    for (int64_t i = 0; i < minutes; i++) {
        if (!working[i]) {
            continue;
        }
        if (used + 60 >= n) {
            return from + i * MINUTE + (n - used);
        }
        used += 60;
    }
    return INT64_MIN;           /* the caller asks only for n within the span */
}

static int
check_case(const case_t *c)
{
    char err[128];
    msp_calendar_t *cal = msp_calendar_new(c->zone, c->calendar, c->holidays,
                                           err, sizeof(err));

    if (cal == NULL) {
        report(c, err);
        return -1;
    }

    int64_t minutes = (c->to - c->from) / MINUTE;
    unsigned char *working = calloc((size_t) minutes + 1, 1);
    unsigned char *rebuilt = calloc((size_t) minutes + 1, 1);
    int64_t total = 0;
    int rc = 0;
    char what[256];

    assert_non_null(working);
    assert_non_null(rebuilt);
    for (int64_t i = 0; i < minutes; i++) {
        working[i] = (unsigned char) naive_is_working(c->calendar, c->holidays,
                                                      c->from + i * MINUTE);
        total += working[i] ? 60 : 0;
    }

    int64_t between = msp_business_between(cal, c->from, c->to);

    if (between != total) {
        snprintf(what, sizeof(what), "between: expected %lld, got %lld",
                 (long long) total, (long long) between);
        report(c, what);
        rc = -1;
        goto done;
    }

    rebuild_t r = { c->from, c->to, rebuilt, INT64_MIN, 0 };

    msp_business_intervals(cal, c->from, c->to, rebuild_interval, &r);
    if (r.bad || memcmp(working, rebuilt, (size_t) minutes) != 0) {
        report(c, "intervals do not match the working minutes, or are not "
                  "ordered and maximal");
        rc = -1;
        goto done;
    }

    uint64_t rng = seed ^ (uint64_t) c->number * 7919;
    int64_t amounts[6] = { 0, 60, total, total - 1, 0, 0 };

    amounts[4] = total > 0 ? random_between(&rng, 1, total) : 0;
    amounts[5] = total > 0 ? random_between(&rng, 1, total / 60 + 1) * 60 : 0;
    for (size_t k = 0; k < ARRAY_LEN(amounts); k++) {
        int64_t n = amounts[k];

        if (n < 0 || n > total) {
            continue;
        }

        int64_t expected = naive_add(working, minutes, c->from, n);
        int64_t got = msp_business_add(cal, c->from, n);

        if (got != expected) {
            snprintf(what, sizeof(what), "add %lld: expected %lld, got %lld",
                     (long long) n, (long long) expected, (long long) got);
            report(c, what);
            rc = -1;
            goto done;
        }
    }

done:
    free(working);
    free(rebuilt);
    msp_calendar_free(cal);
    return rc;
}

/* A minute-aligned instant, mostly within days of an offset change. */
static int64_t
random_anchor(uint64_t *rng, size_t zone)
{
    const changes_t *near = &near_changes[zone], *far = &far_changes[zone];
    int pick = (int) random_between(rng, 0, 99);
    int64_t t;

    if (pick < 70 && near->n > 0) {
        t = near->at[random_between(rng, 0, (int64_t) near->n - 1)];
    } else if (pick < 85 && far->n > 0) {
        t = far->at[random_between(rng, 0, (int64_t) far->n - 1)];
    } else if (pick < 95) {
        t = random_between(rng, utc_of_date(2024, 1, 1), utc_of_date(2031, 1, 1));
    } else {
        t = random_between(rng, utc_of_date(2040, 1, 1), utc_of_date(2046, 1, 1));
    }
    return t - t % MINUTE;
}

static void
random_calendars_match_the_naive_reference(void **state)
{
    (void) state;
    int failures = 0;

    for (int i = 0; i < NAIVE_CASES && failures < 5; i++) {
        uint64_t rng = seed * 1000003 + (uint64_t) i;
        size_t zone = (size_t) random_between(&rng, 0, ARRAY_LEN(zones) - 1);
        case_t c = { .number = i, .zone = zones[zone] };

        use_zone(c.zone);
        int64_t span = random_between(&rng, 1, chance(&rng, 60) ? 2 * 1440 : 10 * 1440);

        /* Mostly spans that contain the anchor, sometimes just after it. */
        c.from = random_anchor(&rng, zone) - random_between(&rng, -120, span) * MINUTE;
        c.to = c.from + span * MINUTE;
        c.calendar = random_week(&rng);
        c.holidays = random_holidays(&rng, c.from, c.to);

        if (check_case(&c) < 0) {
            failures++;
        }
        json_decref(c.calendar);
        json_decref(c.holidays);
    }
    assert_int_equal(failures, 0);
}


/* ---- long spans: bulk skipping against the day-by-day walk -------------- */

typedef struct {
    int64_t sum;
    int64_t last_end;
} sum_t;

static int
sum_interval(void *arg, int64_t start, int64_t end)
{
    sum_t *s = arg;

    s->sum += end - start;
    s->last_end = end;
    return 0;
}

static void
long_spans_agree_with_the_day_by_day_walk(void **state)
{
    (void) state;
    int failures = 0;

    for (int i = 0; i < LONG_SPAN_CASES && failures < 5; i++) {
        uint64_t rng = seed * 999983 + (uint64_t) i;
        size_t zone = (size_t) random_between(&rng, 0, ARRAY_LEN(zones) - 1);
        case_t c = { .number = i, .zone = zones[zone] };

        use_zone(c.zone);
        c.from = random_between(&rng, utc_of_date(2024, 1, 1), utc_of_date(2046, 1, 1));
        c.to = c.from + random_between(&rng, 1, 3 * 366 * DAY);
        c.calendar = random_week(&rng);
        c.holidays = json_array();

        /* Holidays scattered over the span, to interrupt the skipping. */
        int count = (int) random_between(&rng, 0, 30);

        for (int k = 0; k < count; k++) {
            int64_t day = local_day(c.from) + random_between(&rng, 0, (c.to - c.from) / DAY) * DAY;
            char date[40];
            int dup = 0;
            size_t j;
            json_t *h;

            date_text(day, date);
            json_array_foreach(c.holidays, j, h) {
                dup |= strcmp(json_string_value(json_object_get(h, "date")), date) == 0;
            }
            if (!dup) {
                json_t *holiday = json_pack("{s:s, s:s}", "date", date, "name", "H");

                if (chance(&rng, 50)) {
                    json_object_set_new(holiday, "hours", random_day(&rng));
                }
                json_array_append_new(c.holidays, holiday);
            }
        }

        char err[128];
        msp_calendar_t *cal = msp_calendar_new(c.zone, c.calendar, c.holidays,
                                               err, sizeof(err));
        char what[256];

        assert_non_null(cal);

        sum_t s = { 0, c.from };
        msp_business_intervals(cal, c.from, c.to, sum_interval, &s);

        int64_t between = msp_business_between(cal, c.from, c.to);
        int64_t added = msp_business_add(cal, c.from, between);
        int64_t expected_add = between > 0 ? s.last_end : c.from;

        if (between != s.sum || added != expected_add) {
            snprintf(what, sizeof(what),
                     "between %lld, intervals sum %lld; add %lld, last end %lld",
                     (long long) between, (long long) s.sum,
                     (long long) added, (long long) expected_add);
            report(&c, what);
            failures++;
        }
        msp_calendar_free(cal);
        json_decref(c.calendar);
        json_decref(c.holidays);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_calendars_match_the_naive_reference),
        cmocka_unit_test(long_spans_agree_with_the_day_by_day_walk),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
