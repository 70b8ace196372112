/*
 * json_body.c - strict parsing of request bodies into typed fields, every
 * problem reported at once.
 */
#include "http/json_body.h"
#include "sla/tz.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
msp_body_parse(msp_body_t *b, const char *text, size_t len, msp_errors_t *errs,
               const char **why)
{
    memset(b, 0, sizeof(*b));
    b->errs = errs;

    if (text == NULL || len == 0) {
        *why = "The request body is empty; a JSON object is expected.";
        return -1;
    }

    json_error_t jerr;
    b->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (b->doc == NULL) {
        *why = "The request body is not valid JSON (or not valid UTF-8).";
        return -1;
    }
    if (!json_is_object(b->doc)) {
        json_decref(b->doc);
        b->doc = NULL;
        *why = "The request body must be a JSON object.";
        return -1;
    }
    return 0;
}

void
msp_body_free(msp_body_t *b)
{
    json_decref(b->doc);
    b->doc = NULL;
}

/* An error about a field, named with the body's prefix ("note.summary"). */
static void __attribute__((format(printf, 3, 4)))
body_error(msp_body_t *b, const char *key, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    char field[160];
    snprintf(field, sizeof(field), "%s%s", b->prefix ? b->prefix : "", key);
    msp_errors_add(b->errs, field, "%s", message);
}

static json_t *
take(msp_body_t *b, const char *key)
{
    if (b->nseen < sizeof(b->seen) / sizeof(b->seen[0])) {
        b->seen[b->nseen++] = key;
    }
    return json_object_get(b->doc, key);
}

int
msp_body_has(msp_body_t *b, const char *key)
{
    return take(b, key) != NULL;
}

static int
has_control_characters(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

static int
check_string(msp_body_t *b, const char *key, const json_t *v, size_t min, size_t max,
             const char **out)
{
    if (!json_is_string(v)) {
        body_error(b, key, "must be a string");
        return -1;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < min) {
        body_error(b, key, min == 1 ? "must not be empty"
                                              : "must be at least %zu characters", min);
        return -1;
    }
    if (len > max) {
        body_error(b, key, "must be at most %zu bytes", max);
        return -1;
    }
    if (strlen(s) != len || has_control_characters(s, len)) {
        body_error(b, key, "must not contain control characters");
        return -1;
    }
    *out = s;
    return 1;
}

int
msp_body_string(msp_body_t *b, const char *key, int required, size_t min, size_t max,
                const char **out)
{
    json_t *v = take(b, key);
    if (v == NULL) {
        if (required) {
            body_error(b, key, "is required");
            return -1;
        }
        return 0;
    }
    return check_string(b, key, v, min, max, out);
}

int
msp_body_enum(msp_body_t *b, const char *key, int required, const char *const *allowed,
              const char **out)
{
    const char *s;
    int rc = msp_body_string(b, key, required, 1, 64, &s);
    if (rc != 1) {
        return rc;
    }
    for (const char *const *a = allowed; *a != NULL; a++) {
        if (strcmp(s, *a) == 0) {
            *out = *a;
            return 1;
        }
    }
    char list[256];
    msp_join(allowed, list, sizeof(list));
    body_error(b, key, "must be one of: %s", list);
    return -1;
}

int
msp_body_nullable_string(msp_body_t *b, const char *key, size_t min, size_t max,
                         const char **out)
{
    json_t *v = take(b, key);
    if (v == NULL) {
        return 0;
    }
    if (json_is_null(v)) {
        *out = NULL;
        return 1;
    }
    return check_string(b, key, v, min, max, out);
}

int
msp_body_id_array(msp_body_t *b, const char *key, size_t max, long long *out, size_t *count)
{
    json_t *v = take(b, key);
    *count = 0;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_array(v)) {
        body_error(b, key, "must be an array of ids");
        return -1;
    }
    if (json_array_size(v) > max) {
        body_error(b, key, "must have at most %zu items", max);
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        char field[64];
        snprintf(field, sizeof(field), "%s[%zu]", key, i);
        if (!json_is_integer(item) || json_integer_value(item) <= 0) {
            body_error(b, field, "must be a positive integer");
            return -1;
        }
        long long id = json_integer_value(item);
        for (size_t j = 0; j < *count; j++) {
            if (out[j] == id) {
                body_error(b, field, "repeats id %lld", id);
                return -1;
            }
        }
        out[(*count)++] = id;
    }
    return 1;
}

/* The field, or NULL when absent (an error if required). */
static json_t *
take_present(msp_body_t *b, const char *key, int required)
{
    json_t *v = take(b, key);
    if (v == NULL && required) {
        body_error(b, key, "is required");
    }
    return v;
}

int
msp_body_integer(msp_body_t *b, const char *key, int required, long long min, long long max,
                 long long *out)
{
    json_t *v = take_present(b, key, required);
    if (v == NULL) {
        return required ? -1 : 0;
    }
    if (!json_is_integer(v)) {
        body_error(b, key, "must be an integer");
        return -1;
    }
    long long n = json_integer_value(v);
    if (n < min || n > max) {
        body_error(b, key, "must be from %lld to %lld", min, max);
        return -1;
    }
    *out = n;
    return 1;
}

int
msp_body_bool(msp_body_t *b, const char *key, int required, int *out)
{
    json_t *v = take_present(b, key, required);
    if (v == NULL) {
        return required ? -1 : 0;
    }
    if (!json_is_boolean(v)) {
        body_error(b, key, "must be true or false");
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

int
msp_body_date(msp_body_t *b, const char *key, int required, const char **out,
              long long *day)
{
    const char *s;
    int rc = msp_body_string(b, key, required, 1, 64, &s);
    if (rc != 1) {
        return rc;
    }
    int64_t d;
    switch (msp_civil_date(s, strlen(s), &d)) {
    case 0:
        *out = s;
        *day = d;
        return 1;
    case MSP_DATE_MALFORMED:
        body_error(b, key, "must be a date as YYYY-MM-DD");
        return -1;
    default:
        body_error(b, key, "%s is not a calendar date", s);
        return -1;
    }
}

int
msp_body_finish(msp_body_t *b)
{
    const char *key;
    json_t *value;
    json_object_foreach(b->doc, key, value) {
        int known = 0;
        for (size_t i = 0; i < b->nseen && !known; i++) {
            known = strcmp(b->seen[i], key) == 0;
        }
        if (!known) {
            body_error(b, key, "unknown field");
        }
    }
    return msp_errors_any(b->errs);
}

int
msp_body_object(msp_body_t *b, const char *key, int required, const char *prefix,
                msp_body_t *sub)
{
    memset(sub, 0, sizeof(*sub));
    sub->errs = b->errs;
    sub->prefix = prefix;
    json_t *v = take(b, key);
    if (v == NULL) {
        if (required) {
            body_error(b, key, "is required");
        }
        return 0;
    }
    if (!json_is_object(v)) {
        body_error(b, key, "must be an object");
        return -1;
    }
    sub->doc = json_incref(v);
    return 1;
}

/* The largest sum numeric(14, 2) holds. */
#define AMOUNT_MAX 999999999999.99

int
msp_body_amount(msp_body_t *b, const char *key, int required, double *out)
{
    json_t *v = take_present(b, key, required);
    if (v == NULL) {
        return 0;
    }
    double x = json_number_value(v);
    if (!json_is_number(v) || x < 0 || x > AMOUNT_MAX) {
        body_error(b, key, "must be an amount from 0 to 999999999999.99");
        return -1;
    }
    /* whole cents, give or take what binary fractions lose */
    double cents = x * 100;
    long long whole = (long long) (cents + 0.5);
    double off = cents - (double) whole;
    if ((off < 0 ? -off : off) > 1e-6 * (cents > 1 ? cents : 1)) {
        body_error(b, key, "must have at most two decimals");
        return -1;
    }
    *out = (double) whole / 100;
    return 1;
}

int
msp_body_array(msp_body_t *b, const char *key, int required, size_t max, size_t *n)
{
    json_t *v = take_present(b, key, required);
    *n = 0;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_array(v)) {
        body_error(b, key, "must be an array");
        return -1;
    }
    if (json_array_size(v) > max) {
        body_error(b, key, "must have at most %zu items", max);
        return -1;
    }
    *n = json_array_size(v);
    return 1;
}

int
msp_body_item(msp_body_t *b, const char *key, size_t i, char *prefix, size_t prefix_len,
              msp_body_t *sub)
{
    memset(sub, 0, sizeof(*sub));
    sub->errs = b->errs;
    int len = snprintf(prefix, prefix_len, "%s%s[%zu]", b->prefix ? b->prefix : "", key, i);
    json_t *v = json_array_get(json_object_get(b->doc, key), i);
    if (!json_is_object(v)) {
        msp_errors_add(b->errs, prefix, "must be an object");
        return -1;
    }
    if (len > 0 && (size_t) len + 1 < prefix_len) {
        prefix[len] = '.';
        prefix[len + 1] = '\0';
    }
    sub->prefix = prefix;
    sub->doc = json_incref(v);
    return 1;
}
