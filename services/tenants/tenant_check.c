/*
 * tenant_check.c - the tenant file validator's machinery (tenant_check.h):
 * JSON paths, value kinds and enumerations, the walker of the rule
 * tables, and the scalars more than one section checks.
 */
#include "tenants/tenant_check.h"

#include <stdio.h>
#include <string.h>

#define TEXT_MAX_BYTES        200


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

void
msp_tf_path_member(char *out, const char *parent, const char *key)
{
    size_t len = path_append(out, 0, parent);

    if (parent[0] != '\0') {
        len = path_append(out, len, ".");
    }
    path_append(out, len, key);
}

void
msp_tf_path_index(char *out, const char *parent, size_t index)
{
    char subscript[32];

    snprintf(subscript, sizeof(subscript), "[%zu]", index);
    path_append(out, path_append(out, 0, parent), subscript);
}


/* ---- JSON values ------------------------------------------------------ */

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

int
msp_tf_require_kind(const json_t *value, value_kind_t kind, const char *path,
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
int
msp_tf_string_equals(const json_t *value, const char *literal)
{
    return json_is_string(value)
           && json_string_length(value) == strlen(literal)
           && strcmp(json_string_value(value), literal) == 0;
}

int
msp_tf_strings_equal(const json_t *a, const json_t *b)
{
    size_t len = json_string_length(a);

    return len == json_string_length(b)
           && memcmp(json_string_value(a), json_string_value(b), len) == 0;
}

int
msp_tf_index_in(const json_t *value, const char *const options[])
{
    for (int i = 0; options[i] != NULL; i++) {
        if (msp_tf_string_equals(value, options[i])) {
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

int
msp_tf_check_one_of(const json_t *value, const char *path,
                    const char *const options[], msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
        return -1;
    }

    int index = msp_tf_index_in(value, options);

    if (index < 0) {
        report_not_one_of(path, options, errs);
    }
    return index;
}

void
msp_tf_check_option_set(const json_t *value, const char *path,
                        const char *const options[], int may_be_empty,
                        msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];
    unsigned long seen = 0;

    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    if (json_array_size(value) == 0 && !may_be_empty) {
        msp_errors_add(errs, path, "must not be empty");
        return;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        msp_tf_path_index(field, path, i);

        int index = msp_tf_check_one_of(json_array_get(value, i), field,
                                        options, errs);

        if (index < 0) {
            continue;
        }
        if (seen & (1UL << index)) {
            msp_errors_add(errs, field, "is listed twice");
        }
        seen |= 1UL << index;
    }
}


/* ---- objects: the rule tables and their walker ------------------------ */

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
            msp_tf_path_member(field, path, key);
            msp_errors_add(errs, field, "unknown field");
        }
    }
}

int
msp_tf_check_object(const json_t *value, const char *path,
                    const field_rule_t *rules, msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!msp_tf_require_kind(value, KIND_OBJECT, path, errs)) {
        return 0;
    }
    report_unknown_fields(value, path, rules, errs);

    for (const field_rule_t *r = rules; r->key != NULL; r++) {
        const json_t *member = json_object_get(value, r->key);

        msp_tf_path_member(field, path, r->key);
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

int
msp_tf_check_integer_range(const json_t *value, const char *path,
                           json_int_t min, json_int_t max, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_INTEGER, path, errs)) {
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

void
msp_tf_check_minutes(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, SLA_MINUTES_MAX, errs);
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

void
msp_tf_check_display_text(const json_t *value, const char *path,
                          msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
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
