/*
 * tenant_assets.c - the tenant file's assets section (tenants/FORMAT.md):
 * the patch window and refresh age the compliance and lifecycle figures
 * judge by, the custom fields the tenant keeps on its assets, each
 * declared with its type (the database checks every value against its
 * declaration: app.custom_field_problem, migrations/0026), and the
 * business services its assets run and the priority a ticket on each
 * criticality gets at least (app.business_impact, migrations/0028).
 */
#include "tenants/tenant_check.h"

#include <string.h>

/* At most this many custom fields, each name like a column's. */
#define CUSTOM_FIELDS_MAX 50
#define CHOICES_MAX       50

static const char *const custom_types[] = {
    "text", "integer", "boolean", "date", "choice", NULL
};

static void
check_patch_window_days(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, 365, errs);
}

static void
check_refresh_age_months(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 6, 240, errs);
}

static void
check_custom_type(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_one_of(value, path, custom_types, errs);
}

static void
check_boolean(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_require_kind(value, KIND_BOOLEAN, path, errs);
}

static void
check_max_length(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, 4000, errs);
}

static void
check_bound(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, -999999999999999LL, 999999999999999LL, errs);
}

static void
check_choices(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    size_t n = json_array_size(value);
    if (n < 1 || n > CHOICES_MAX) {
        msp_errors_add(errs, path, "must list 1 to %d choices", CHOICES_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        char item[FIELD_PATH_SIZE];
        const json_t *c = json_array_get(value, i);
        msp_tf_path_index(item, path, i);
        if (!msp_tf_require_kind(c, KIND_STRING, item, errs)) {
            continue;
        }
        size_t len = json_string_length(c);
        if (len < 1 || len > 200) {
            msp_errors_add(errs, item, "must be 1 to 200 characters");
        }
        for (size_t k = 0; k < i; k++) {
            if (msp_tf_strings_equal(c, json_array_get(value, k))) {
                msp_errors_add(errs, item, "repeats choice %zu", k);
            }
        }
    }
}

static const field_rule_t custom_field_rules[] = {
    { "type",       1, check_custom_type },
    { "required",   0, check_boolean },
    { "max_length", 0, check_max_length },
    { "min",        0, check_bound },
    { "max",        0, check_bound },
    { "choices",    0, check_choices },
    { NULL,         0, NULL }
};

/* Which members each type takes beyond type and required. */
static const char *
type_members(const char *type)
{
    return strcmp(type, "text") == 0 ? "max_length"
           : strcmp(type, "integer") == 0 ? "min max"
           : strcmp(type, "choice") == 0 ? "choices" : "";
}

static void
check_custom_field(const char *name, const json_t *decl, const char *path, msp_errors_t *errs)
{
    size_t len = strlen(name);
    int ok = len >= 1 && len <= 40 && is_lower(name[0]);
    for (size_t i = 1; i < len && ok; i++) {
        ok = is_lower(name[i]) || is_digit(name[i]) || name[i] == '_';
    }
    if (!ok) {
        msp_errors_add(errs, path, "a custom field's name is 1 to 40 lower-case letters, "
                       "digits and underscores, starting with a letter");
    }
    if (!msp_tf_check_object(decl, path, custom_field_rules, errs)) {
        return;
    }
    const char *type = json_string_value(json_object_get(decl, "type"));
    if (type == NULL || msp_tf_index_in(json_object_get(decl, "type"), custom_types) < 0) {
        return;
    }
    const char *allowed = type_members(type);
    const char *key;
    json_t *member;
    json_object_foreach((json_t *) decl, key, member) {
        if (strcmp(key, "type") != 0 && strcmp(key, "required") != 0
            && strstr(allowed, key) == NULL)
        {
            char at[FIELD_PATH_SIZE];
            msp_tf_path_member(at, path, key);
            msp_errors_add(errs, at, "is not for a custom field of type %s", type);
        }
    }
    if (strcmp(type, "choice") == 0 && json_object_get(decl, "choices") == NULL) {
        char at[FIELD_PATH_SIZE];
        msp_tf_path_member(at, path, "choices");
        msp_errors_add(errs, at, "is required for a custom field of type choice");
    }
    const json_t *min = json_object_get(decl, "min"), *max = json_object_get(decl, "max");
    if (json_is_integer(min) && json_is_integer(max)
        && json_integer_value(min) > json_integer_value(max))
    {
        char at[FIELD_PATH_SIZE];
        msp_tf_path_member(at, path, "max");
        msp_errors_add(errs, at, "is less than min");
    }
}

static void
check_custom_fields(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_OBJECT, path, errs)) {
        return;
    }
    if (json_object_size(value) > CUSTOM_FIELDS_MAX) {
        msp_errors_add(errs, path, "declares more than %d custom fields", CUSTOM_FIELDS_MAX);
    }
    const char *name;
    json_t *decl;
    json_object_foreach((json_t *) value, name, decl) {
        char at[FIELD_PATH_SIZE];
        msp_tf_path_member(at, path, name);
        check_custom_field(name, decl, at, errs);
    }
}

/* ---- business services ----------------------------------------------- */

#define SERVICES_MAX      100
#define SERVICE_ASSETS_MAX 1000

static const char *const criticalities[] = { "low", "medium", "high", "critical", NULL };
static const char *const priorities[] = { "P1", "P2", "P3", "P4", NULL };

static void
check_criticality(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_one_of(value, path, criticalities, errs);
}

/* An asset tag, as the assets table takes it: 1 to 64 characters. */
static void
check_tags(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    size_t n = json_array_size(value);
    if (n < 1 || n > SERVICE_ASSETS_MAX) {
        msp_errors_add(errs, path, "must list 1 to %d asset tags", SERVICE_ASSETS_MAX);
    }
    for (size_t i = 0; i < n && i < SERVICE_ASSETS_MAX; i++) {
        char item[FIELD_PATH_SIZE];
        const json_t *tag = json_array_get(value, i);
        msp_tf_path_index(item, path, i);
        if (!msp_tf_require_kind(tag, KIND_STRING, item, errs)) {
            continue;
        }
        if (json_string_length(tag) < 1 || json_string_length(tag) > 64) {
            msp_errors_add(errs, item, "must be an asset tag of 1 to 64 characters");
        }
        for (size_t k = 0; k < i; k++) {
            if (msp_tf_strings_equal(tag, json_array_get(value, k))) {
                msp_errors_add(errs, item, "repeats tag %zu", k);
            }
        }
    }
}

static const field_rule_t service_rules[] = {
    { "name",        1, msp_tf_check_display_text },
    { "criticality", 1, check_criticality },
    { "assets",      1, check_tags },
    { NULL,          0, NULL }
};

/* The service map: services named once each. */
static void
check_services(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    size_t n = json_array_size(value);
    if (n > SERVICES_MAX) {
        msp_errors_add(errs, path, "lists more than %d services", SERVICES_MAX);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char item[FIELD_PATH_SIZE], name[FIELD_PATH_SIZE];
        const json_t *service = json_array_get(value, i);
        msp_tf_path_index(item, path, i);
        if (!msp_tf_check_object(service, item, service_rules, errs)) {
            continue;
        }
        msp_tf_path_member(name, item, "name");
        for (size_t k = 0; k < i; k++) {
            const json_t *other = json_object_get(json_array_get(value, k), "name");
            if (json_is_string(other)
                && msp_tf_strings_equal(json_object_get(service, "name"), other))
            {
                msp_errors_add(errs, name, "repeats the name of service %zu", k);
            }
        }
    }
}

/* The floor per criticality: {"critical": "P1", ...}. */
static void
check_service_priority(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_OBJECT, path, errs)) {
        return;
    }
    const char *key;
    json_t *floor;
    json_object_foreach((json_t *) value, key, floor) {
        char at[FIELD_PATH_SIZE];
        msp_tf_path_member(at, path, key);
        if (!msp_in_list(key, criticalities)) {
            msp_errors_add(errs, at, "is not a criticality: low, medium, high or critical");
            continue;
        }
        msp_tf_check_one_of(floor, at, priorities, errs);
    }
}

static const field_rule_t asset_rules[] = {
    { "patch_window_days",  0, check_patch_window_days },
    { "refresh_age_months", 0, check_refresh_age_months },
    { "custom_fields",      0, check_custom_fields },
    { "services",           0, check_services },
    { "service_priority",   0, check_service_priority },
    { NULL,                 0, NULL }
};

void
msp_tf_check_assets(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_object(value, path, asset_rules, errs);
}
