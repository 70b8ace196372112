/*
 * calendar.c - compiling a tenant's working calendar.
 *
 * The input was checked by tenant_file.c before it got here, so errors
 * are not expected; they are still caught, because a calendar that is
 * wrong in memory would silently miscount every SLA of the tenant, and a
 * crash would take the worker down with it.
 */
#include "sla/calendar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_BYTES 64

typedef struct {
    int64_t         day;        /* days since 1970-01-01 */
    msp_day_hours_t hours;
} holiday_t;

struct msp_calendar {
    const msp_tz_t *tz;
    msp_day_hours_t week[7];    /* Monday first, like msp_weekday_from_days() */
    int64_t         week_seconds;
    holiday_t      *holidays;   /* sorted by day, no two on one day */
    size_t          holiday_count;
};

static const char *const day_names[7] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};


static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int
two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') {
        return -1;
    }
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* "HH:MM" as minutes of the day; "24:00" only when it may end a window. */
static int
parse_time_of_day(const json_t *value, int is_end, int *minutes)
{
    const char *s = json_string_value(value);
    int h, m;

    if (s == NULL || json_string_length(value) != 5 || s[2] != ':'
        || two_digits(s, &h) < 0 || two_digits(s + 3, &m) < 0 || m > 59)
    {
        return -1;
    }
    if (h > 23 && !(is_end && h == 24 && m == 0)) {
        return -1;
    }
    *minutes = h * 60 + m;
    return 0;
}

/* "YYYY-MM-DD", a date that exists, as a day number. */
static int
parse_date(const json_t *value, int64_t *day)
{
    const char *s = json_string_value(value);
    int c1, c2, m, d;

    if (s == NULL || json_string_length(value) != 10 || s[4] != '-' || s[7] != '-'
        || two_digits(s, &c1) < 0 || two_digits(s + 2, &c2) < 0
        || two_digits(s + 5, &m) < 0 || two_digits(s + 8, &d) < 0)
    {
        return -1;
    }

    int64_t y = c1 * 100 + c2;

    if (m < 1 || m > 12 || d < 1 || d > msp_days_in_month(y, m)) {
        return -1;
    }
    *day = msp_days_from_civil(y, m, d);
    return 0;
}

static int
compare_windows(const void *a, const void *b)
{
    const msp_window_t *x = a, *y = b;

    return (x->start > y->start) - (x->start < y->start);
}

/* Sorts the windows and merges those that overlap or touch. */
static void
normalize_day(msp_day_hours_t *day)
{
    unsigned kept = 0;

    qsort(day->windows, day->count, sizeof(day->windows[0]), compare_windows);
    for (unsigned i = 0; i < day->count; i++) {
        msp_window_t w = day->windows[i];

        if (kept > 0 && w.start <= day->windows[kept - 1].end) {
            if (w.end > day->windows[kept - 1].end) {
                day->windows[kept - 1].end = w.end;
            }
        } else {
            day->windows[kept++] = w;
        }
    }
    day->count = kept;
}

/* A day's windows: an array of {"start", "end"}; NULL means none. */
static int
compile_day(const json_t *windows, const char *path, msp_day_hours_t *day,
            char *err, size_t errlen)
{
    day->count = 0;
    if (windows == NULL || json_is_null(windows)) {
        return 0;
    }
    if (!json_is_array(windows)) {
        return fail(err, errlen, "%s: not an array of windows", path);
    }
    if (json_array_size(windows) > MSP_CALENDAR_WINDOWS_MAX) {
        return fail(err, errlen, "%s: more than %d windows", path,
                    MSP_CALENDAR_WINDOWS_MAX);
    }

    size_t i;
    const json_t *window;

    json_array_foreach(windows, i, window) {
        int start, end;

        if (!json_is_object(window)) {
            return fail(err, errlen, "%s[%zu]: not a window", path, i);
        }
        if (parse_time_of_day(json_object_get(window, "start"), 0, &start) < 0) {
            return fail(err, errlen, "%s[%zu].start: not a time HH:MM", path, i);
        }
        if (parse_time_of_day(json_object_get(window, "end"), 1, &end) < 0) {
            return fail(err, errlen, "%s[%zu].end: not a time HH:MM", path, i);
        }
        if (end <= start) {
            return fail(err, errlen, "%s[%zu]: ends before it starts", path, i);
        }
        day->windows[day->count].start = (uint16_t) start;
        day->windows[day->count].end = (uint16_t) end;
        day->count++;
    }
    normalize_day(day);
    return 0;
}

static int64_t
day_seconds(const msp_day_hours_t *day)
{
    int64_t minutes = 0;

    for (unsigned i = 0; i < day->count; i++) {
        minutes += day->windows[i].end - day->windows[i].start;
    }
    return minutes * 60;
}

static int
compile_week(msp_calendar_t *cal, const json_t *calendar, char *err, size_t errlen)
{
    if (!json_is_object(calendar)) {
        return fail(err, errlen, "calendar: not an object");
    }
    for (int d = 0; d < 7; d++) {
        char path[PATH_MAX_BYTES];

        snprintf(path, sizeof(path), "calendar.%s", day_names[d]);
        if (compile_day(json_object_get(calendar, day_names[d]), path,
                        &cal->week[d], err, errlen) < 0)
        {
            return -1;
        }
        cal->week_seconds += day_seconds(&cal->week[d]);
    }
    return 0;
}

static int
compare_holidays(const void *a, const void *b)
{
    const holiday_t *x = a, *y = b;

    return (x->day > y->day) - (x->day < y->day);
}

static int
compile_holidays(msp_calendar_t *cal, const json_t *holidays, char *err, size_t errlen)
{
    if (holidays == NULL || json_is_null(holidays)) {
        return 0;
    }
    if (!json_is_array(holidays)) {
        return fail(err, errlen, "holidays: not an array");
    }

    size_t n = json_array_size(holidays);

    if (n == 0) {
        return 0;
    }
    cal->holidays = calloc(n, sizeof(*cal->holidays));
    if (cal->holidays == NULL) {
        return fail(err, errlen, "out of memory");
    }

    size_t i;
    const json_t *holiday;

    json_array_foreach(holidays, i, holiday) {
        holiday_t *h = &cal->holidays[i];
        char path[PATH_MAX_BYTES];

        if (!json_is_object(holiday)) {
            return fail(err, errlen, "holidays[%zu]: not an object", i);
        }
        if (parse_date(json_object_get(holiday, "date"), &h->day) < 0) {
            return fail(err, errlen, "holidays[%zu].date: not a date YYYY-MM-DD", i);
        }
        /* Without hours, or with an empty list, the day is closed. */
        snprintf(path, sizeof(path), "holidays[%zu].hours", i);
        if (compile_day(json_object_get(holiday, "hours"), path, &h->hours,
                        err, errlen) < 0)
        {
            return -1;
        }
        cal->holiday_count++;
    }

    qsort(cal->holidays, n, sizeof(*cal->holidays), compare_holidays);
    for (i = 1; i < n; i++) {
        if (cal->holidays[i].day == cal->holidays[i - 1].day) {
            int64_t y;
            int m, d;

            msp_civil_from_days(cal->holidays[i].day, &y, &m, &d);
            return fail(err, errlen, "holidays: two on %04lld-%02d-%02d",
                        (long long) y, m, d);
        }
    }
    return 0;
}

msp_calendar_t *
msp_calendar_new(const char *timezone, const json_t *calendar,
                 const json_t *holidays, char *err, size_t errlen)
{
    const msp_tz_t *tz = msp_tz_get(timezone);

    if (tz == NULL) {
        fail(err, errlen, "timezone: unknown timezone '%.64s'",
             timezone != NULL ? timezone : "(null)");
        return NULL;
    }

    msp_calendar_t *cal = calloc(1, sizeof(*cal));

    if (cal == NULL) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    cal->tz = tz;
    if (compile_week(cal, calendar, err, errlen) < 0
        || compile_holidays(cal, holidays, err, errlen) < 0)
    {
        msp_calendar_free(cal);
        return NULL;
    }
    return cal;
}

void
msp_calendar_free(msp_calendar_t *cal)
{
    if (cal != NULL) {
        free(cal->holidays);
        free(cal);
    }
}

const msp_tz_t *
msp_calendar_tz(const msp_calendar_t *cal)
{
    return cal->tz;
}

int64_t
msp_calendar_week_seconds(const msp_calendar_t *cal)
{
    return cal->week_seconds;
}

/*
 * The index of the first holiday on or after day.  Walks move a day or a
 * few at a time, so the hint is usually right or one short; otherwise a
 * binary search finds it.
 */
static size_t
holiday_position(const msp_calendar_t *cal, int64_t day, size_t *hint)
{
    const holiday_t *h = cal->holidays;
    size_t n = cal->holiday_count;
    size_t i = *hint;

    for (int tries = 0; tries < 2 && i <= n; tries++, i++) {
        if ((i == n || h[i].day >= day) && (i == 0 || h[i - 1].day < day)) {
            *hint = i;
            return i;
        }
    }

    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (h[mid].day < day) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *hint = lo;
    return lo;
}

const msp_day_hours_t *
msp_calendar_hours(const msp_calendar_t *cal, int64_t day, size_t *hint)
{
    size_t i = holiday_position(cal, day, hint);

    if (i < cal->holiday_count && cal->holidays[i].day == day) {
        return &cal->holidays[i].hours;
    }
    return &cal->week[msp_weekday_from_days(day)];
}

int64_t
msp_calendar_next_holiday(const msp_calendar_t *cal, int64_t day, size_t *hint)
{
    size_t i = holiday_position(cal, day, hint);

    return i < cal->holiday_count ? cal->holidays[i].day : INT64_MAX;
}
