/*
 * period.c - report periods in the tenant's own time (period.h).
 */
#include "reports/period.h"

#include <stdio.h>
#include <string.h>

static const char bad_period[] =
    "must be a day (2026-03-08), an ISO week (2026-W10), a month (2026-03), a quarter "
    "(2026-Q1) or a range of days (2026-03-01..2026-04-01, the second date excluded)";

static int
year_ok(int y)
{
    return y >= 1970 && y <= 9999;
}

/* "YYYY-MM-DD" at s (exactly 10 characters) as a day number; -1 when it
 * is not a date that exists. */
static int
read_date(const char *s, int64_t *day)
{
    return msp_civil_date(s, 10, day) == 0 && year_ok(msp_civil_digits(s, 4)) ? 0 : -1;
}

/* The Monday of ISO week 1 of year y: the week with the year's first
 * Thursday, so the one that holds 4 January. */
static int64_t
iso_week1_monday(int64_t y)
{
    int64_t jan4 = msp_days_from_civil(y, 1, 4);
    return jan4 - msp_weekday_from_days(jan4);
}

static void
format_date(int64_t day, char *out, size_t len)
{
    int64_t y;
    int m, d;
    msp_civil_from_days(day, &y, &m, &d);
    snprintf(out, len, "%04lld-%02d-%02d", (long long) y, m, d);
}

/* Fills p->name from its kind and days.  The years are 1970..9999, so
 * every form fits; it is written in a roomy buffer first only so that the
 * compiler can see that. */
static void
name_period(msp_period_t *p)
{
    char name[64];
    int64_t y;
    int m, d;
    msp_civil_from_days(p->first_day, &y, &m, &d);
    switch (p->kind) {
    case MSP_PERIOD_DAY:
        format_date(p->first_day, name, sizeof(name));
        break;
    case MSP_PERIOD_WEEK: {
        /* A week belongs to the ISO year of its Thursday. */
        int64_t ty;
        int tm, td;
        msp_civil_from_days(p->first_day + 3, &ty, &tm, &td);
        snprintf(name, sizeof(name), "%04lld-W%02lld", (long long) ty,
                 (long long) ((p->first_day - iso_week1_monday(ty)) / 7 + 1));
        break;
    }
    case MSP_PERIOD_MONTH:
        snprintf(name, sizeof(name), "%04lld-%02d", (long long) y, m);
        break;
    case MSP_PERIOD_QUARTER:
        snprintf(name, sizeof(name), "%04lld-Q%d", (long long) y, (m - 1) / 3 + 1);
        break;
    case MSP_PERIOD_RANGE: {
        char from[24], to[24];
        format_date(p->first_day, from, sizeof(from));
        format_date(p->end_day, to, sizeof(to));
        snprintf(name, sizeof(name), "%.10s..%.10s", from, to);
        break;
    }
    }
    snprintf(p->name, sizeof(p->name), "%.*s", (int) sizeof(p->name) - 1, name);
}

/* The first day of month m (which may run past 1..12) of year y. */
static int64_t
month_start(int64_t y, int m)
{
    y += (m - 1) / 12 - (m < 1);
    m = ((m - 1) % 12 + 12) % 12 + 1;
    return msp_days_from_civil(y, m, 1);
}

int
msp_period_parse(const char *text, msp_period_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = bad_period;
    size_t len = text ? strlen(text) : 0;
    int y = len >= 4 ? msp_civil_digits(text, 4) : -1;

    if (len == 10 && read_date(text, &out->first_day) == 0) {
        out->kind = MSP_PERIOD_DAY;
        out->end_day = out->first_day + 1;
    } else if (len == 8 && text[4] == '-' && text[5] == 'W' && year_ok(y)) {
        int w = msp_civil_digits(text + 6, 2);
        int weeks = (int) ((iso_week1_monday(y + 1) - iso_week1_monday(y)) / 7);
        if (w < 1 || w > weeks) {
            *why = w == 53 ? "names week 53 of a year that has 52" : bad_period;
            return -1;
        }
        out->kind = MSP_PERIOD_WEEK;
        out->first_day = iso_week1_monday(y) + 7 * (w - 1);
        out->end_day = out->first_day + 7;
    } else if (len == 7 && text[4] == '-' && text[5] == 'Q' && year_ok(y)) {
        int q = msp_civil_digits(text + 6, 1);
        if (q < 1 || q > 4) {
            return -1;
        }
        out->kind = MSP_PERIOD_QUARTER;
        out->first_day = month_start(y, 3 * (q - 1) + 1);
        out->end_day = month_start(y, 3 * q + 1);
    } else if (len == 7 && text[4] == '-' && year_ok(y)) {
        int m = msp_civil_digits(text + 5, 2);
        if (m < 1 || m > 12) {
            return -1;
        }
        out->kind = MSP_PERIOD_MONTH;
        out->first_day = month_start(y, m);
        out->end_day = month_start(y, m + 1);
    } else if (len == 22 && memcmp(text + 10, "..", 2) == 0
               && read_date(text, &out->first_day) == 0
               && read_date(text + 12, &out->end_day) == 0)
    {
        if (out->end_day <= out->first_day) {
            *why = "must end after it starts: the second date is the first day after the "
                   "range";
            return -1;
        }
        if (out->end_day - out->first_day > MSP_PERIOD_MAX_DAYS) {
            *why = "must span at most 366 days; for longer, ask for each period";
            return -1;
        }
        out->kind = MSP_PERIOD_RANGE;
    } else {
        return -1;
    }
    name_period(out);
    *why = NULL;
    return 0;
}

void
msp_period_previous(const msp_period_t *p, msp_period_t *out)
{
    int64_t y;
    int m, d;
    msp_civil_from_days(p->first_day, &y, &m, &d);
    *out = *p;
    switch (p->kind) {
    case MSP_PERIOD_DAY:
    case MSP_PERIOD_WEEK:
    case MSP_PERIOD_RANGE:
        out->first_day = p->first_day - (p->end_day - p->first_day);
        break;
    case MSP_PERIOD_MONTH:
        out->first_day = month_start(y, m - 1);
        break;
    case MSP_PERIOD_QUARTER:
        out->first_day = month_start(y, m - 3);
        break;
    }
    out->end_day = p->first_day;
    name_period(out);
}

void
msp_period_bounds(const msp_period_t *p, const msp_tz_t *tz, int64_t *start, int64_t *end)
{
    *start = msp_tz_day_start(tz, p->first_day);
    *end = msp_tz_day_start(tz, p->end_day);
}
