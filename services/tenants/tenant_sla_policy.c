/*
 * tenant_sla_policy.c - the tenant file's sla_policy: the response and
 * resolution targets of each priority, warning thresholds and the statuses
 * that pause the clocks.
 */
#include "tenants/tenant_check.h"

const char *const msp_tf_pause_statuses[] = {
    "pending_customer", "pending_vendor", NULL
};


/* ---- SLA policy ------------------------------------------------------- */

static const field_rule_t priority_rules[] = {
    { "first_response_minutes", 1, msp_tf_check_minutes },
    { "resolution_minutes",     1, msp_tf_check_minutes },
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
    if (!msp_tf_check_object(value, path, priority_rules, errs)) {
        return;
    }

    const json_t *first = json_object_get(value, "first_response_minutes");
    const json_t *resolution = json_object_get(value, "resolution_minutes");
    char field[FIELD_PATH_SIZE];

    if (is_valid_minutes(first) && is_valid_minutes(resolution)
        && json_integer_value(resolution) < json_integer_value(first))
    {
        msp_tf_path_member(field, path, "resolution_minutes");
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
    msp_tf_check_object(value, path, priorities_rules, errs);
}

static void
check_warning_thresholds(const json_t *value, const char *path,
                         msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];
    json_int_t previous = 0;     /* below every valid threshold */

    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
        return;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        const json_t *item = json_array_get(value, i);

        msp_tf_path_index(field, path, i);
        if (!msp_tf_check_integer_range(item, field, 1, 99, errs)) {
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
    msp_tf_check_option_set(value, path, msp_tf_pause_statuses, 1, errs);
}

static const field_rule_t sla_policy_rules[] = {
    { "priorities",         1, check_priorities },
    { "warning_thresholds", 0, check_warning_thresholds },
    { "pause_statuses",     0, check_pause_statuses },
    { NULL,                 0, NULL }
};

void
msp_tf_check_sla_policy(const json_t *value, const char *path,
                        msp_errors_t *errs)
{
    msp_tf_check_object(value, path, sla_policy_rules, errs);
}
