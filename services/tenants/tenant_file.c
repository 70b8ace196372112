/*
 * tenant_file.c - validation and normalization of tenant files.
 *
 * The format is declared as tables of field rules (one table per JSON
 * object: which keys exist, which are required, which function checks each
 * value), walked by check_object().  Rules that relate two fields, such as
 * "end must be after start" or "no two holidays on one date", run after
 * the walk, and only on values that passed their own checks, so a single
 * mistake is reported once and not again by every rule that touches it.
 *
 * Every check reports under the JSON path of the value it looked at and
 * carries on: a user fixing a file wants to see all its mistakes at once.
 */
#include "tenants/tenant_file.h"

#include "escalations/escalation_policy.h"
#include "sla/tz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths longer than what an error can hold would be cut there anyway. */
#define FIELD_PATH_SIZE       sizeof(((msp_field_error_t *) 0)->field)

#define TEXT_MAX_BYTES        200
#define WINDOWS_PER_DAY_MAX   8
#define MINUTES_PER_DAY       1440
#define SLA_MINUTES_MAX       5256000      /* ten years */
#define TERM_MONTHS_MAX       120
#define TICKET_PREFIX_MAX     10
#define NAME_MAX_CHARS        40           /* categories, escalation rules */

/*
 * Lists whose items must be distinct are compared pairwise; the caps keep
 * that quadratic work small for any file, however hostile.  No real tenant
 * comes near them (ten years of holidays is about 150 entries).
 */
#define HOLIDAYS_MAX          1000
#define CATEGORIES_MAX        100
#define ESCALATION_RULES_MAX  50

#define DEFAULT_ZONEINFO_DIR  "/usr/share/zoneinfo"

#define EN_DASH               "\xe2\x80\x93"      /* U+2013, between times */
#define ZONE_NAME_MAX         255


static const char *const week_days[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", NULL
};

static const char *const co_management_models[] = {
    "fully_managed", "co_managed", "staff_augmentation", "project",
    "on_demand", NULL
};

static const char *const pause_statuses[] = {
    "pending_customer", "pending_vendor", NULL
};

/*
 * Every escalation target, in the order escalation_policy.c lists the
 * targets of each kind (functional, then handoff, then hierarchical): the
 * order a rule's "to" is normalized to.  msp_esc_target_ok() says which
 * kind takes which.
 */

/* ---- JSON paths ------------------------------------------------------- */

/*
 * Paths are built by hand rather than with snprintf: a path too long for
 * an error (keys are the user's) is simply cut short, and what is left
 * still says where to look.
 */
static size_t
path_append(char *out, size_t len, const char *text)
{
    while (*text != '\0' && len + 1 < FIELD_PATH_SIZE) {
        out[len++] = *text++;
    }
    out[len] = '\0';
    return len;
}

static void
path_member(char *out, const char *parent, const char *key)
{
    size_t len = path_append(out, 0, parent);

    if (parent[0] != '\0') {
        len = path_append(out, len, ".");
    }
    path_append(out, len, key);
}

static void
path_index(char *out, const char *parent, size_t index)
{
    char subscript[32];

    snprintf(subscript, sizeof(subscript), "[%zu]", index);
    path_append(out, path_append(out, 0, parent), subscript);
}


/* ---- JSON values ------------------------------------------------------ */

typedef enum {
    KIND_OBJECT,
    KIND_ARRAY,
    KIND_STRING,
    KIND_INTEGER,
    KIND_NUMBER,
    KIND_BOOLEAN
} value_kind_t;

static int
is_kind(const json_t *value, value_kind_t kind)
{
    switch (kind) {
    case KIND_OBJECT:  return json_is_object(value);
    case KIND_ARRAY:   return json_is_array(value);
    case KIND_STRING:  return json_is_string(value);
    case KIND_INTEGER: return json_is_integer(value);
    case KIND_NUMBER:  return json_is_number(value);
    case KIND_BOOLEAN: return json_is_boolean(value);
    }
    return 0;
}

static const char *
kind_requirement(value_kind_t kind)
{
    switch (kind) {
    case KIND_OBJECT:  return "must be an object";
    case KIND_ARRAY:   return "must be an array";
    case KIND_STRING:  return "must be a string";
    case KIND_INTEGER: return "must be an integer";
    case KIND_NUMBER:  return "must be a number";
    case KIND_BOOLEAN: return "must be true or false";
    }
    return "has the wrong type";
}

/* Returns 1 when value has the kind; otherwise reports it and returns 0. */
static int
require_kind(const json_t *value, value_kind_t kind, const char *path,
             msp_errors_t *errs)
{
    if (is_kind(value, kind)) {
        return 1;
    }
    msp_errors_add(errs, path, "%s", kind_requirement(kind));
    return 0;
}

/*
 * JSON strings may contain "\u0000"; comparing by length as well keeps
 * "co_managed\u0000x" from passing for "co_managed".
 */
static int
string_equals(const json_t *value, const char *literal)
{
    return json_is_string(value)
           && json_string_length(value) == strlen(literal)
           && strcmp(json_string_value(value), literal) == 0;
}

static int
strings_equal(const json_t *a, const json_t *b)
{
    size_t len = json_string_length(a);

    return len == json_string_length(b)
           && memcmp(json_string_value(a), json_string_value(b), len) == 0;
}

/* Index of value in a NULL-terminated list of strings, or -1. */
static int
index_in(const json_t *value, const char *const options[])
{
    for (int i = 0; options[i] != NULL; i++) {
        if (string_equals(value, options[i])) {
            return i;
        }
    }
    return -1;
}

static void
report_not_one_of(const char *path, const char *const options[],
                  msp_errors_t *errs)
{
    char list[200];

    msp_join(options, list, sizeof(list));
    msp_errors_add(errs, path, "must be one of: %s", list);
}

/* Returns value's index in options when it is one of them; else reports. */
static int
check_one_of(const json_t *value, const char *path,
             const char *const options[], msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return -1;
    }

    int index = index_in(value, options);

    if (index < 0) {
        report_not_one_of(path, options, errs);
    }
    return index;
}

/*
 * An array of distinct values from options (a NULL-terminated list of at
 * most 32), empty only when may_be_empty.  Each item is reported under its
 * own index.
 */
static void
check_option_set(const json_t *value, const char *path,
                 const char *const options[], int may_be_empty,
                 msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];
    unsigned long seen = 0;

    if (!require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    if (json_array_size(value) == 0 && !may_be_empty) {
        msp_errors_add(errs, path, "must not be empty");
        return;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        path_index(field, path, i);

        int index = check_one_of(json_array_get(value, i), field, options, errs);

        if (index < 0) {
            continue;
        }
        if (seen & (1UL << index)) {
            msp_errors_add(errs, field, "is listed twice");
        }
        seen |= 1UL << index;
    }
}

static int
is_lower(char c) { return c >= 'a' && c <= 'z'; }

static int
is_upper(char c) { return c >= 'A' && c <= 'Z'; }

static int
is_digit(char c) { return c >= '0' && c <= '9'; }

/*
 * A category's or an escalation rule's name: 1 to 40 characters, a
 * lower-case letter, then lower-case letters, digits or the separator
 * ('_' for categories, '-' for rules).
 */
static int
is_lower_name(const json_t *value, char separator)
{
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);

    if (len < 1 || len > NAME_MAX_CHARS || !is_lower(s[0])) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != separator) {
            return 0;
        }
    }
    return 1;
}


/* ---- objects: the rule tables and their walker ------------------------ */

typedef void (*check_fn)(const json_t *value, const char *path,
                         msp_errors_t *errs);

typedef struct {
    const char *key;
    int         required;
    check_fn    check;
} field_rule_t;

static const field_rule_t *
find_rule(const field_rule_t *rules, const char *key)
{
    for (const field_rule_t *r = rules; r->key != NULL; r++) {
        if (strcmp(r->key, key) == 0) {
            return r;
        }
    }
    return NULL;
}

static void
report_unknown_fields(const json_t *object, const char *path,
                      const field_rule_t *rules, msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];
    /* jansson's iterator API takes a non-const object; it only reads. */
    json_t *iterable = (json_t *) object;
    const char *key;
    json_t *value;

    json_object_foreach(iterable, key, value) {
        if (find_rule(rules, key) == NULL) {
            path_member(field, path, key);
            msp_errors_add(errs, field, "unknown field");
        }
    }
}

/*
 * Checks that value is an object holding only the keys in rules (a table
 * ended by a NULL key), that the required ones are present, and runs each
 * present member's check.  Returns 1 when value is an object at all, so a
 * caller knows whether its own cross-field rules can look inside.
 */
static int
check_object(const json_t *value, const char *path, const field_rule_t *rules,
             msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!require_kind(value, KIND_OBJECT, path, errs)) {
        return 0;
    }
    report_unknown_fields(value, path, rules, errs);

    for (const field_rule_t *r = rules; r->key != NULL; r++) {
        const json_t *member = json_object_get(value, r->key);

        path_member(field, path, r->key);
        if (member == NULL) {
            if (r->required) {
                msp_errors_add(errs, field, "is required");
            }
            continue;
        }
        r->check(member, field, errs);
    }
    return 1;
}


/* ---- scalars ---------------------------------------------------------- */

/* Returns 1 when value is an integer in [min, max]; otherwise reports. */
static int
check_integer_range(const json_t *value, const char *path, json_int_t min,
                    json_int_t max, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_INTEGER, path, errs)) {
        return 0;
    }

    json_int_t n = json_integer_value(value);

    if (n < min) {
        if (min == 1) {
            msp_errors_add(errs, path, "must be greater than 0");
        } else {
            msp_errors_add(errs, path, "must be at least %" JSON_INTEGER_FORMAT,
                           min);
        }
        return 0;
    }
    if (n > max) {
        msp_errors_add(errs, path, "must be at most %" JSON_INTEGER_FORMAT,
                       max);
        return 0;
    }
    return 1;
}

static void
check_minutes(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_integer_range(value, path, 1, SLA_MINUTES_MAX, errs);
}

static void
check_percent(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_integer_range(value, path, 1, 100, errs);
}

static void
check_term_months(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_integer_range(value, path, 1, TERM_MONTHS_MAX, errs);
}

static void
check_boolean(const json_t *value, const char *path, msp_errors_t *errs)
{
    require_kind(value, KIND_BOOLEAN, path, errs);
}

static void
check_amount(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (require_kind(value, KIND_NUMBER, path, errs)
        && json_number_value(value) < 0)
    {
        msp_errors_add(errs, path, "must not be negative");
    }
}

/*
 * C0 controls, DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F).
 * jansson has already checked that the bytes are valid UTF-8.
 */
static int
has_control_character(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
        if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
            return 1;
        }
    }
    return 0;
}

/* A name shown to people: the tenant's, a holiday's. */
static void
check_display_text(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    size_t len = json_string_length(value);

    if (len == 0) {
        msp_errors_add(errs, path, "must not be empty");
    } else if (len > TEXT_MAX_BYTES) {
        msp_errors_add(errs, path, "must be at most %d bytes (it is %zu)",
                       TEXT_MAX_BYTES, len);
    } else if (has_control_character(
                   (const unsigned char *) json_string_value(value), len))
    {
        msp_errors_add(errs, path, "must not contain control characters");
    }
}

static void
check_slug(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);
    size_t len = json_string_length(value);

    if (len < 2 || len > 31) {
        msp_errors_add(errs, path, "must be 2 to 31 characters");
        return;
    }
    if (!is_lower(s[0])) {
        msp_errors_add(errs, path, "must start with a lower-case letter");
        return;
    }
    for (size_t i = 1; i < len; i++) {
        if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-') {
            msp_errors_add(errs, path,
                           "may contain only lower-case letters, digits and '-'");
            return;
        }
        if (s[i] == '-' && s[i - 1] == '-') {
            msp_errors_add(errs, path, "must not contain '--'");
            return;
        }
    }
    if (s[len - 1] == '-') {
        msp_errors_add(errs, path, "must not end with '-'");
        return;
    }
    /* Tokens name the provider's staff with msp_org "provider". */
    if (strcmp(s, "provider") == 0) {
        msp_errors_add(errs, path, "\"provider\" is the provider's own organisation, not a "
                       "tenant");
    }
}

static void
check_ticket_prefix(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    int ok = len >= 2 && len <= TICKET_PREFIX_MAX && is_upper(s[0]);

    for (size_t i = 1; ok && i < len; i++) {
        ok = is_upper(s[i]) || is_digit(s[i]);
    }
    if (!ok) {
        msp_errors_add(errs, path,
                       "must be 2 to 10 characters: an upper-case letter, "
                       "then upper-case letters or digits");
    }
}

static void
check_timezone(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *name = json_string_value(value);
    int embedded_nul = strlen(name) != json_string_length(value);

    if (embedded_nul || !msp_timezone_exists(name)) {
        msp_errors_add(errs, path, "unknown timezone '%.64s'", name);
    }
}

static void
check_co_management_model(const json_t *value, const char *path,
                          msp_errors_t *errs)
{
    check_one_of(value, path, co_management_models, errs);
}

static void
check_currency(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);

    if (json_string_length(value) != 3
        || !is_upper(s[0]) || !is_upper(s[1]) || !is_upper(s[2]))
    {
        msp_errors_add(errs, path,
                       "must be a three-letter ISO 4217 code in capitals, "
                       "e.g. USD");
    }
}


/* ---- dates ------------------------------------------------------------ */

typedef enum { DATE_OK, DATE_MALFORMED, DATE_NOT_A_DAY } date_status_t;

static int
digits_value(const char *s, size_t n)
{
    int value = 0;

    for (size_t i = 0; i < n; i++) {
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

/* "YYYY-MM-DD", a day that exists in the Gregorian calendar. */
static date_status_t
parse_date(const char *s, size_t len)
{
    static const char shape[] = "dddd-dd-dd";

    if (len != sizeof(shape) - 1) {
        return DATE_MALFORMED;
    }
    for (size_t i = 0; i < len; i++) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i]) {
            return DATE_MALFORMED;
        }
    }

    int year = digits_value(s, 4);
    int month = digits_value(s + 5, 2);
    int day = digits_value(s + 8, 2);

    if (year < 1 || month < 1 || month > 12
        || day < 1 || day > msp_days_in_month(year, month))
    {
        return DATE_NOT_A_DAY;
    }
    return DATE_OK;
}

static int
is_valid_date(const json_t *value)
{
    return json_is_string(value)
           && parse_date(json_string_value(value),
                         json_string_length(value)) == DATE_OK;
}

static void
check_date(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);

    switch (parse_date(s, json_string_length(value))) {
    case DATE_OK:
        break;
    case DATE_MALFORMED:
        msp_errors_add(errs, path, "must be a date as YYYY-MM-DD");
        break;
    case DATE_NOT_A_DAY:
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

    int hours = digits_value(s, 2);
    int minutes = digits_value(s + 3, 2);

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
    if (!require_kind(value, KIND_STRING, path, errs)) {
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
    if (!check_object(value, path, window_rules, errs)) {
        return;
    }

    int start = window_clock(value, "start");
    int end = window_clock(value, "end");
    char field[FIELD_PATH_SIZE], from[6], to[6];

    /* A time that is bad on its own has been reported already. */
    if (start < 0 || start >= MINUTES_PER_DAY || end <= 0 || end > start) {
        return;
    }
    path_member(field, path, "end");
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

    if (!require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }

    size_t count = json_array_size(value);

    if (count > WINDOWS_PER_DAY_MAX) {
        msp_errors_add(errs, path, "has %zu windows; at most %d are allowed",
                       count, WINDOWS_PER_DAY_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        path_index(field, path, i);
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

static void
check_calendar(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!check_object(value, path, calendar_rules, errs)) {
        return;
    }

    size_t windows = 0;

    for (int d = 0; week_days[d] != NULL; d++) {
        windows += json_array_size(json_object_get(value, week_days[d]));
    }
    /* A tenant that never works would never start an SLA clock. */
    if (windows == 0) {
        msp_errors_add(errs, path,
                       "must have at least one working-hours window in the week");
    }
}

static const field_rule_t holiday_rules[] = {
    { "date",  1, check_date },
    { "name",  1, check_display_text },
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

        if (is_valid_date(other) && strings_equal(date, other)) {
            path_member(field, path, "date");
            msp_errors_add(errs, field, "%s is already a holiday in holidays[%zu]",
                           json_string_value(date), j);
            return;
        }
    }
}

static void
check_holidays(const json_t *value, const char *path, msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }

    size_t count = json_array_size(value);

    if (count > HOLIDAYS_MAX) {
        msp_errors_add(errs, path, "has %zu holidays; at most %d are allowed",
                       count, HOLIDAYS_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *holiday = json_array_get(value, i);

        path_index(field, path, i);
        if (check_object(holiday, field, holiday_rules, errs)
            && count <= HOLIDAYS_MAX)
        {
            check_unique_holiday(value, i, field, errs);
        }
    }
}


/* ---- SLA policy ------------------------------------------------------- */

static const field_rule_t priority_rules[] = {
    { "first_response_minutes", 1, check_minutes },
    { "resolution_minutes",     1, check_minutes },
    { NULL,                     0, NULL }
};

static int
is_valid_minutes(const json_t *value)
{
    return json_is_integer(value)
           && json_integer_value(value) >= 1
           && json_integer_value(value) <= SLA_MINUTES_MAX;
}

static void
check_priority(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!check_object(value, path, priority_rules, errs)) {
        return;
    }

    const json_t *first = json_object_get(value, "first_response_minutes");
    const json_t *resolution = json_object_get(value, "resolution_minutes");
    char field[FIELD_PATH_SIZE];

    if (is_valid_minutes(first) && is_valid_minutes(resolution)
        && json_integer_value(resolution) < json_integer_value(first))
    {
        path_member(field, path, "resolution_minutes");
        msp_errors_add(errs, field,
                       "must be at least first_response_minutes (%"
                       JSON_INTEGER_FORMAT ")", json_integer_value(first));
    }
}

static const field_rule_t priorities_rules[] = {
    { "P1", 1, check_priority },
    { "P2", 1, check_priority },
    { "P3", 1, check_priority },
    { "P4", 1, check_priority },
    { NULL, 0, NULL }
};

static void
check_priorities(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_object(value, path, priorities_rules, errs);
}

static void
check_warning_thresholds(const json_t *value, const char *path,
                         msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];
    json_int_t previous = 0;     /* below every valid threshold */

    if (!require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        const json_t *item = json_array_get(value, i);

        path_index(field, path, i);
        if (!check_integer_range(item, field, 1, 99, errs)) {
            continue;
        }

        json_int_t threshold = json_integer_value(item);

        if (threshold <= previous) {
            msp_errors_add(errs, field,
                           "must be greater than the threshold before it (%"
                           JSON_INTEGER_FORMAT ")", previous);
        }
        previous = threshold;
    }
}

static void
check_pause_statuses(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_option_set(value, path, pause_statuses, 1, errs);
}

static const field_rule_t sla_policy_rules[] = {
    { "priorities",         1, check_priorities },
    { "warning_thresholds", 0, check_warning_thresholds },
    { "pause_statuses",     0, check_pause_statuses },
    { NULL,                 0, NULL }
};

static void
check_sla_policy(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_object(value, path, sla_policy_rules, errs);
}


/* ---- escalation policy ------------------------------------------------ */

static void
check_internal_categories(const json_t *value, const char *path,
                          msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }

    size_t count = json_array_size(value);

    if (count > CATEGORIES_MAX) {
        msp_errors_add(errs, path, "has %zu categories; at most %d are allowed",
                       count, CATEGORIES_MAX);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(value, i);

        path_index(field, path, i);
        if (!require_kind(item, KIND_STRING, field, errs)) {
            continue;
        }
        if (!is_lower_name(item, '_')) {
            msp_errors_add(errs, field,
                           "must be 1 to 40 characters: a lower-case letter, "
                           "then lower-case letters, digits or '_'");
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const json_t *other = json_array_get(value, j);

            if (json_is_string(other) && strings_equal(item, other)) {
                msp_errors_add(errs, field, "is listed twice");
                break;
            }
        }
    }
}

static const field_rule_t automatic_rules[] = {
    { "notify_lead_at_percent",   0, check_percent },
    { "escalate_tier_at_percent", 0, check_percent },
    { "hierarchical_on_breach",   0, check_boolean },
    { NULL,                       0, NULL }
};

static void
check_automatic_escalation(const json_t *value, const char *path,
                           msp_errors_t *errs)
{
    check_object(value, path, automatic_rules, errs);
}

static void
check_intake(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_one_of(value, path, msp_esc_intakes, errs);
}

static void
check_rule_name(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (require_kind(value, KIND_STRING, path, errs) && !is_lower_name(value, '-')) {
        msp_errors_add(errs, path,
                       "must be 1 to 40 characters: a lower-case letter, "
                       "then lower-case letters, digits or '-'");
    }
}

static void
check_rule_kind(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_one_of(value, path, msp_esc_kinds, errs);
}

static void
check_rule_roles(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_option_set(value, path, msp_esc_roles, 0, errs);
}

static void
check_rule_from(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_option_set(value, path, msp_esc_from_sides, 0, errs);
}

/* Targets of any kind here; whether they suit the rule's kind is checked
 * once the kind is known to be valid (check_targets_suit_kind). */
static void
check_rule_targets(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_option_set(value, path, msp_esc_targets, 0, errs);
}

static const field_rule_t escalation_rule_fields[] = {
    { "name",   1, check_rule_name },
    { "kind",   1, check_rule_kind },
    { "roles",  1, check_rule_roles },
    { "from",   1, check_rule_from },
    { "to",     1, check_rule_targets },
    { "assign", 0, check_boolean },
    { NULL,     0, NULL }
};

/*
 * Reports each target of the rule that its kind does not go to (a handoff
 * to "provider:lead"), naming the ones it does.  Only targets and kinds
 * that passed their own checks are looked at, each target once.
 */
static void
check_targets_suit_kind(const json_t *rule, const char *path, msp_errors_t *errs)
{
    const json_t *kind = json_object_get(rule, "kind");
    const json_t *to = json_object_get(rule, "to");
    const char *suitable[MSP_ESC_TARGET_COUNT + 1];
    char to_path[FIELD_PATH_SIZE], field[FIELD_PATH_SIZE], list[200];
    size_t n = 0;

    if (index_in(kind, msp_esc_kinds) < 0 || !json_is_array(to)) {
        return;
    }
    path_member(to_path, path, "to");
    for (size_t t = 0; msp_esc_targets[t] != NULL; t++) {
        if (msp_esc_target_ok(json_string_value(kind), msp_esc_targets[t])) {
            suitable[n++] = msp_esc_targets[t];
        }
    }
    suitable[n] = NULL;
    msp_join(suitable, list, sizeof(list));

    for (size_t i = 0; i < json_array_size(to); i++) {
        const json_t *target = json_array_get(to, i);
        int first_time = 1;

        for (size_t j = 0; j < i && first_time; j++) {
            first_time = !json_equal(json_array_get(to, j), target);
        }
        if (first_time && index_in(target, msp_esc_targets) >= 0
            && index_in(target, suitable) < 0)
        {
            path_index(field, to_path, i);
            msp_errors_add(errs, field, "is not a target of a %s escalation; "
                           "must be one of: %s", json_string_value(kind), list);
        }
    }
}

static void
check_unique_rule_name(const json_t *rules, size_t index, const char *path,
                       msp_errors_t *errs)
{
    const json_t *name = json_object_get(json_array_get(rules, index), "name");
    char field[FIELD_PATH_SIZE];

    if (!json_is_string(name) || !is_lower_name(name, '-')) {
        return;
    }
    for (size_t j = 0; j < index; j++) {
        const json_t *other = json_object_get(json_array_get(rules, j), "name");

        if (json_is_string(other) && strings_equal(name, other)) {
            path_member(field, path, "name");
            msp_errors_add(errs, field, "%s is already the name of rules[%zu]",
                           json_string_value(name), j);
            return;
        }
    }
}

static void
check_escalation_rules(const json_t *value, const char *path, msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }

    size_t count = json_array_size(value);

    if (count == 0) {
        msp_errors_add(errs, path, "must not be empty; leave rules out to use "
                       "the co_management_model's defaults");
        return;
    }
    if (count > ESCALATION_RULES_MAX) {
        msp_errors_add(errs, path, "has %zu rules; at most %d are allowed",
                       count, ESCALATION_RULES_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *rule = json_array_get(value, i);

        path_index(field, path, i);
        if (!check_object(rule, field, escalation_rule_fields, errs)) {
            continue;
        }
        check_targets_suit_kind(rule, field, errs);
        if (count <= ESCALATION_RULES_MAX) {
            check_unique_rule_name(value, i, field, errs);
        }
    }
}

static const field_rule_t escalation_policy_rules[] = {
    { "acknowledgement_minutes", 0, check_minutes },
    { "internal_categories",     0, check_internal_categories },
    { "automatic",               0, check_automatic_escalation },
    { "intake",                  0, check_intake },
    { "rules",                   0, check_escalation_rules },
    { NULL,                      0, NULL }
};

static void
check_escalation_policy(const json_t *value, const char *path,
                        msp_errors_t *errs)
{
    check_object(value, path, escalation_policy_rules, errs);
}


/* ---- contract --------------------------------------------------------- */

static const field_rule_t contract_rules[] = {
    { "monthly_fee", 1, check_amount },
    { "hourly_rate", 1, check_amount },
    { "currency",    1, check_currency },
    { "start_date",  0, check_date },
    { "term_months", 0, check_term_months },
    { NULL,          0, NULL }
};

static void
check_contract(const json_t *value, const char *path, msp_errors_t *errs)
{
    check_object(value, path, contract_rules, errs);
}


/* ---- the document ----------------------------------------------------- */

static const field_rule_t tenant_rules[] = {
    { "slug",                1, check_slug },
    { "name",                1, check_display_text },
    { "ticket_prefix",       0, check_ticket_prefix },
    { "timezone",            1, check_timezone },
    { "co_management_model", 1, check_co_management_model },
    { "calendar",            1, check_calendar },
    { "holidays",            0, check_holidays },
    { "sla_policy",          1, check_sla_policy },
    { "escalation_policy",   0, check_escalation_policy },
    { "contract",            1, check_contract },
    { NULL,                  0, NULL }
};

static void
check_slug_matches_file(const json_t *doc, const char *expected_slug,
                        msp_errors_t *errs)
{
    const json_t *slug = json_object_get(doc, "slug");

    if (json_is_string(slug) && !string_equals(slug, expected_slug)) {
        msp_errors_add(errs, "slug", "must be '%s', as the file is %s.json",
                       expected_slug, expected_slug);
    }
}

int
msp_tenant_validate(const json_t *doc, const char *expected_slug,
                    msp_errors_t *errs)
{
    size_t before = errs->n + errs->dropped;

    if (!json_is_object(doc)) {
        msp_errors_add(errs, "", "must be a JSON object");
        return -1;
    }
    check_object(doc, "", tenant_rules, errs);
    if (expected_slug != NULL) {
        check_slug_matches_file(doc, expected_slug, errs);
    }
    return errs->n + errs->dropped == before ? 0 : -1;
}


/* ---- normalization ---------------------------------------------------- */

/* Sets obj[key] to value (a new reference, taken) unless key is present. */
static int
set_default(json_t *obj, const char *key, json_t *value)
{
    if (json_object_get(obj, key) != NULL) {
        json_decref(value);
        return 0;
    }
    return json_object_set_new(obj, key, value);
}

/* obj[key] as an object, created empty when absent; NULL on OOM. */
static json_t *
object_member(json_t *obj, const char *key)
{
    if (set_default(obj, key, json_object()) != 0) {
        return NULL;
    }
    return json_object_get(obj, key);
}

static const char *
string_member(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? s : "";
}

static int
compare_by_start(const void *a, const void *b)
{
    return strcmp(string_member(*(json_t *const *) a, "start"),
                  string_member(*(json_t *const *) b, "start"));
}

static int
compare_by_date(const void *a, const void *b)
{
    return strcmp(string_member(*(json_t *const *) a, "date"),
                  string_member(*(json_t *const *) b, "date"));
}

static int
compare_strings(const void *a, const void *b)
{
    const char *x = json_string_value(*(json_t *const *) a);
    const char *y = json_string_value(*(json_t *const *) b);

    return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

/*
 * Replaces the array obj[key] by a sorted copy.  "HH:MM" and "YYYY-MM-DD"
 * sort as strings in time order, and validation has made the keys within
 * one array distinct, so the result does not depend on the input order.
 */
static int
sort_member(json_t *obj, const char *key, int (*compare)(const void *, const void *))
{
    json_t *array = json_object_get(obj, key);
    size_t count = json_array_size(array);

    if (count < 2) {
        return 0;
    }

    json_t **items = malloc(count * sizeof(*items));
    json_t *sorted = json_array();
    int rc = 0;

    if (items == NULL || sorted == NULL) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        items[i] = json_array_get(array, i);
    }
    qsort(items, count, sizeof(*items), compare);
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = json_array_append(sorted, items[i]);
    }
    if (rc == 0) {
        rc = json_object_set(obj, key, sorted);
    }

done:
    json_decref(sorted);
    free(items);
    return rc;
}

/* Whole amounts are stored as integers, so 1500 and 1500.0 normalize alike. */
static int
canonicalize_amount(json_t *obj, const char *key)
{
    const double exact_limit = 9007199254740992.0;     /* 2^53 */
    json_t *value = json_object_get(obj, key);

    if (!json_is_real(value)) {
        return 0;
    }

    double amount = json_real_value(value);

    if (amount < -exact_limit || amount > exact_limit
        || (double) (json_int_t) amount != amount)
    {
        return 0;
    }
    return json_object_set_new(obj, key, json_integer((json_int_t) amount));
}

static void
default_ticket_prefix(const char *slug, char out[TICKET_PREFIX_MAX + 1])
{
    size_t n = 0;

    for (const char *p = slug; *p != '\0' && n < TICKET_PREFIX_MAX; p++) {
        if (*p != '-') {
            out[n++] = is_lower(*p) ? (char) (*p - 'a' + 'A') : *p;
        }
    }
    out[n] = '\0';
}

static int
normalize_ticket_prefix(json_t *doc)
{
    char prefix[TICKET_PREFIX_MAX + 1];

    default_ticket_prefix(string_member(doc, "slug"), prefix);
    return set_default(doc, "ticket_prefix", json_string(prefix));
}

/* A missing day and an empty day both mean no working hours: write []. */
static int
normalize_calendar(json_t *doc)
{
    json_t *calendar = object_member(doc, "calendar");

    if (calendar == NULL) {
        return -1;
    }
    for (int d = 0; week_days[d] != NULL; d++) {
        if (set_default(calendar, week_days[d], json_array()) != 0
            || sort_member(calendar, week_days[d], compare_by_start) != 0)
        {
            return -1;
        }
    }
    return 0;
}

/* Absent hours and empty hours both mean closed all day: drop them. */
static int
normalize_holiday(json_t *holiday)
{
    json_t *hours = json_object_get(holiday, "hours");

    if (hours != NULL && json_array_size(hours) == 0) {
        return json_object_del(holiday, "hours");
    }
    return sort_member(holiday, "hours", compare_by_start);
}

static int
normalize_holidays(json_t *doc)
{
    if (set_default(doc, "holidays", json_array()) != 0
        || sort_member(doc, "holidays", compare_by_date) != 0)
    {
        return -1;
    }

    json_t *holidays = json_object_get(doc, "holidays");

    for (size_t i = 0; i < json_array_size(holidays); i++) {
        if (normalize_holiday(json_array_get(holidays, i)) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
normalize_sla_policy(json_t *doc)
{
    json_t *sla = object_member(doc, "sla_policy");

    if (sla == NULL
        || set_default(sla, "warning_thresholds",
                       json_pack("[iii]", 50, 75, 90)) != 0
        || set_default(sla, "pause_statuses",
                       json_pack("[ss]", pause_statuses[0],
                                 pause_statuses[1])) != 0
        || sort_member(sla, "pause_statuses", compare_strings) != 0)
    {
        return -1;
    }
    return 0;
}

/*
 * Replaces the array obj[key], whose items validation has made distinct
 * values of options, by the same values in the order of options.
 */
static int
order_member(json_t *obj, const char *key, const char *const options[])
{
    json_t *array = json_object_get(obj, key);
    json_t *ordered = json_array();
    int rc = ordered != NULL ? 0 : -1;

    for (int o = 0; rc == 0 && options[o] != NULL; o++) {
        for (size_t i = 0; i < json_array_size(array); i++) {
            if (string_equals(json_array_get(array, i), options[o])) {
                rc = json_array_append(ordered, json_array_get(array, i));
                break;
            }
        }
    }
    if (rc == 0) {
        rc = json_object_set(obj, key, ordered);
    }
    json_decref(ordered);
    return rc;
}

/*
 * Rules keep their order: it means something, as a refused move names the
 * first rule of its kind that names the role (msp_esc_allowed).  Within a
 * rule, roles, sides and targets take the order of their enumerations.
 * Absent rules and intake stay absent: the model's defaults are applied
 * when the policy is evaluated (msp_esc_effective), not written here.
 */
static int
normalize_escalation_rules(json_t *escalation)
{
    json_t *rules = json_object_get(escalation, "rules");

    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *rule = json_array_get(rules, i);

        if (set_default(rule, "assign", json_false()) != 0
            || order_member(rule, "roles", msp_esc_roles) != 0
            || order_member(rule, "from", msp_esc_from_sides) != 0
            || order_member(rule, "to", msp_esc_targets) != 0)
        {
            return -1;
        }
    }
    return 0;
}

static int
normalize_escalation_policy(json_t *doc)
{
    json_t *escalation = object_member(doc, "escalation_policy");

    if (escalation == NULL
        || set_default(escalation, "acknowledgement_minutes",
                       json_integer(30)) != 0
        || set_default(escalation, "internal_categories", json_array()) != 0
        || sort_member(escalation, "internal_categories", compare_strings) != 0)
    {
        return -1;
    }

    json_t *automatic = object_member(escalation, "automatic");

    if (automatic == NULL
        || set_default(automatic, "notify_lead_at_percent", json_integer(75)) != 0
        || set_default(automatic, "escalate_tier_at_percent", json_integer(90)) != 0
        || set_default(automatic, "hierarchical_on_breach", json_true()) != 0)
    {
        return -1;
    }
    return normalize_escalation_rules(escalation);
}

static int
normalize_contract(json_t *doc)
{
    json_t *contract = object_member(doc, "contract");

    if (contract == NULL
        || canonicalize_amount(contract, "monthly_fee") != 0
        || canonicalize_amount(contract, "hourly_rate") != 0)
    {
        return -1;
    }
    return 0;
}

json_t *
msp_tenant_normalize(const json_t *doc)
{
    json_t *copy = json_deep_copy(doc);

    if (copy == NULL) {
        return NULL;
    }
    if (normalize_ticket_prefix(copy) != 0
        || normalize_calendar(copy) != 0
        || normalize_holidays(copy) != 0
        || normalize_sla_policy(copy) != 0
        || normalize_escalation_policy(copy) != 0
        || normalize_contract(copy) != 0)
    {
        json_decref(copy);
        return NULL;
    }
    return copy;
}


/* ---- time zones ------------------------------------------------------- */

/*
 * Only characters that occur in IANA zone names, in components that are
 * not empty.  '.' is not among them, so no component can be "..", and a
 * leading '/' is refused, so the name can never leave the zoneinfo
 * directory.  Refusing "Europe//Berlin" and "Europe/" keeps one spelling
 * per zone for what is stored and handed to PostgreSQL.
 */
static int
is_safe_zone_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > ZONE_NAME_MAX
        || name[0] == '/' || name[len - 1] == '/')
    {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (c == '/' && i > 0 && name[i - 1] == '/') {
            return 0;
        }
        if (!is_lower(c) && !is_upper(c) && !is_digit(c)
            && c != '/' && c != '_' && c != '-' && c != '+')
        {
            return 0;
        }
    }
    return 1;
}

/*
 * Directories, zone.tab and other non-zone files live beside the zones;
 * the magic tells them apart.  O_NONBLOCK keeps a FIFO from hanging us.
 */
static int
is_tzif_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        return 0;
    }

    struct stat st;
    char magic[4];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
             && read(fd, magic, sizeof(magic)) == (ssize_t) sizeof(magic)
             && memcmp(magic, "TZif", sizeof(magic)) == 0;

    close(fd);
    return ok;
}

int
msp_timezone_exists(const char *name)
{
    char path[4096];

    if (name == NULL || !is_safe_zone_name(name)) {
        return 0;
    }

    const char *dir = secure_getenv("MSP_ZONEINFO_DIR");

    if (dir == NULL || dir[0] == '\0') {
        dir = DEFAULT_ZONEINFO_DIR;
    }

    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (n < 0 || (size_t) n >= sizeof(path)) {
        return 0;
    }
    return is_tzif_file(path);
}
