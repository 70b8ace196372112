/*
 * tenant_calendar.c - the tenant file's calendar and holidays, and the
 * dates, times of day and working-hours windows they are written in.
 */
#include "tenants/tenant_check.h"

#include "sla/tz.h"

#define WINDOWS_PER_DAY_MAX   8
#define MINUTES_PER_DAY       1440

/*
 * Holidays must fall on distinct dates, and are compared pairwise; the cap
 * keeps that quadratic work small for any file, however hostile.  No real
 * tenant comes near it (ten years of holidays is about 150 entries).
 */
#define HOLIDAYS_MAX          1000

#define EN_DASH               "\xe2\x80\x93"      /* U+2013, between times */


const char *const msp_tf_week_days[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", NULL
};


/* ---- dates ------------------------------------------------------------ */

static int
is_valid_date(const json_t *value)
{
    int64_t day;

    return json_is_string(value)
           && msp_civil_date(json_string_value(value),
                             json_string_length(value), &day) == 0;
}

void
msp_tf_check_date(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);
    int64_t     day;

    switch (msp_civil_date(s, json_string_length(value), &day)) {
    case 0:
        break;
    case MSP_DATE_MALFORMED:
        msp_errors_add(errs, path, "must be a date as YYYY-MM-DD");
        break;
    default:
        msp_errors_add(errs, path, "%s is not a calendar date", s);
        break;
    }
}


/* ---- times of day and windows ----------------------------------------- */

#define CLOCK_MALFORMED     (-1)
#define CLOCK_OUT_OF_RANGE  (-2)

/*
 * "HH:MM" as minutes after midnight, 0..1440.  "24:00" parses: whether it
 * may appear (only as an end) is the caller's rule.
 */
static int
parse_clock(const char *s, size_t len)
{
    if (len != 5 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':'
        || !is_digit(s[3]) || !is_digit(s[4]))
    {
        return CLOCK_MALFORMED;
    }

    int hours = msp_civil_digits(s, 2);
    int minutes = msp_civil_digits(s + 3, 2);

    if (hours > 24 || minutes > 59 || (hours == 24 && minutes > 0)) {
        return CLOCK_OUT_OF_RANGE;
    }
    return hours * 60 + minutes;
}

/* The window's start or end in minutes, or a negative CLOCK_ status. */
static int
window_clock(const json_t *window, const char *key)
{
    const json_t *value = json_object_get(window, key);

    if (!json_is_string(value)) {
        return CLOCK_MALFORMED;
    }
    return parse_clock(json_string_value(value), json_string_length(value));
}

/* minutes is 0..1440, as parse_clock() returns it. */
static void
format_clock(int minutes, char out[6])
{
    int hours = minutes / 60, rest = minutes % 60;

    out[0] = (char) ('0' + hours / 10);
    out[1] = (char) ('0' + hours % 10);
    out[2] = ':';
    out[3] = (char) ('0' + rest / 10);
    out[4] = (char) ('0' + rest % 10);
    out[5] = '\0';
}

/* Reports a malformed time; returns its minutes, or -1 once reported. */
static int
check_clock(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
        return -1;
    }

    const char *s = json_string_value(value);
    int minutes = parse_clock(s, json_string_length(value));

    if (minutes == CLOCK_MALFORMED) {
        msp_errors_add(errs, path, "must be a time as HH:MM, e.g. 08:30");
        return -1;
    }
    if (minutes == CLOCK_OUT_OF_RANGE) {
        msp_errors_add(errs, path, "'%s' is not a time of day (00:00 to 24:00)",
                       s);
        return -1;
    }
    return minutes;
}

static void
check_window_start(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (check_clock(value, path, errs) == MINUTES_PER_DAY) {
        msp_errors_add(errs, path, "24:00 is allowed only as an end; "
                       "start at 00:00 of the next day");
    }
}

static void
check_window_end(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (check_clock(value, path, errs) == 0) {
        msp_errors_add(errs, path, "must be after 00:00; a day ends at 24:00");
    }
}

/* Start and end of a window that passed every check of its own. */
static int
window_bounds(const json_t *window, int *start, int *end)
{
    *start = window_clock(window, "start");
    *end = window_clock(window, "end");
    return *start >= 0 && *start < MINUTES_PER_DAY
           && *end > *start && *end <= MINUTES_PER_DAY;
}

static const field_rule_t window_rules[] = {
    { "start", 1, check_window_start },
    { "end",   1, check_window_end },
    { NULL,    0, NULL }
};

static void
check_window(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_check_object(value, path, window_rules, errs)) {
        return;
    }

    int start = window_clock(value, "start");
    int end = window_clock(value, "end");
    char field[FIELD_PATH_SIZE], from[6], to[6];

    /* A time that is bad on its own has been reported already. */
    if (start < 0 || start >= MINUTES_PER_DAY || end <= 0 || end > start) {
        return;
    }
    msp_tf_path_member(field, path, "end");
    format_clock(start, from);
    format_clock(end, to);
    if (end == start) {
        msp_errors_add(errs, field, "must be after start (%s)", from);
    } else {
        msp_errors_add(errs, field,
                       "must be after start (%s); a window that crosses "
                       "midnight is written as two windows on consecutive "
                       "days, %s" EN_DASH "24:00 and 00:00" EN_DASH "%s",
                       from, from, to);
    }
}

/* Reports the first earlier window that the window at index overlaps. */
static void
check_no_overlap(const json_t *windows, size_t index, const char *path,
                 msp_errors_t *errs)
{
    int start, end, other_start, other_end;
    char from[6], to[6];

    if (!window_bounds(json_array_get(windows, index), &start, &end)) {
        return;
    }
    for (size_t j = 0; j < index; j++) {
        if (!window_bounds(json_array_get(windows, j), &other_start, &other_end)) {
            continue;
        }
        /* Touching windows (12:00-12:00) share no minute: fine. */
        if (start < other_end && other_start < end) {
            format_clock(other_start, from);
            format_clock(other_end, to);
            msp_errors_add(errs, path, "overlaps the window %s" EN_DASH "%s",
                           from, to);
            return;
        }
    }
}

/* The working hours of one day: a calendar day or a partial holiday. */
static void
check_day_windows(const json_t *value, const char *path, msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }

    size_t count = json_array_size(value);

    if (count > WINDOWS_PER_DAY_MAX) {
        msp_errors_add(errs, path, "has %zu windows; at most %d are allowed",
                       count, WINDOWS_PER_DAY_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        msp_tf_path_index(field, path, i);
        check_window(json_array_get(value, i), field, errs);
        if (count <= WINDOWS_PER_DAY_MAX) {
            check_no_overlap(value, i, field, errs);
        }
    }
}


/* ---- calendar and holidays -------------------------------------------- */

static const field_rule_t calendar_rules[] = {
    { "monday",    0, check_day_windows },
    { "tuesday",   0, check_day_windows },
    { "wednesday", 0, check_day_windows },
    { "thursday",  0, check_day_windows },
    { "friday",    0, check_day_windows },
    { "saturday",  0, check_day_windows },
    { "sunday",    0, check_day_windows },
    { NULL,        0, NULL }
};

void
msp_tf_check_calendar(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_check_object(value, path, calendar_rules, errs)) {
        return;
    }

    size_t windows = 0;

    for (int d = 0; msp_tf_week_days[d] != NULL; d++) {
        windows += json_array_size(json_object_get(value, msp_tf_week_days[d]));
    }
    /* A tenant that never works would never start an SLA clock. */
    if (windows == 0) {
        msp_errors_add(errs, path,
                       "must have at least one working-hours window in the week");
    }
}

static const field_rule_t holiday_rules[] = {
    { "date",  1, msp_tf_check_date },
    { "name",  1, msp_tf_check_display_text },
    { "hours", 0, check_day_windows },
    { NULL,    0, NULL }
};

static void
check_unique_holiday(const json_t *holidays, size_t index, const char *path,
                     msp_errors_t *errs)
{
    const json_t *date = json_object_get(json_array_get(holidays, index), "date");
    char field[FIELD_PATH_SIZE];

    if (!is_valid_date(date)) {
        return;
    }
    for (size_t j = 0; j < index; j++) {
        const json_t *other = json_object_get(json_array_get(holidays, j), "date");

        if (is_valid_date(other) && msp_tf_strings_equal(date, other)) {
            msp_tf_path_member(field, path, "date");
            msp_errors_add(errs, field, "%s is already a holiday in holidays[%zu]",
                           json_string_value(date), j);
            return;
        }
    }
}

void
msp_tf_check_holidays(const json_t *value, const char *path, msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }

    size_t count = json_array_size(value);

    if (count > HOLIDAYS_MAX) {
        msp_errors_add(errs, path, "has %zu holidays; at most %d are allowed",
                       count, HOLIDAYS_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *holiday = json_array_get(value, i);

        msp_tf_path_index(field, path, i);
        if (msp_tf_check_object(holiday, field, holiday_rules, errs)
            && count <= HOLIDAYS_MAX)
        {
            check_unique_holiday(value, i, field, errs);
        }
    }
}
