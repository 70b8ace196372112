/*
 * tenant_escalation_policy.c - the tenant file's escalation_policy:
 * acknowledgement time, internal categories, automatic escalation, intake
 * and the rules of who may escalate what where.
 */
#include "tenants/tenant_check.h"

#include "escalations/escalation_policy.h"

#define NAME_MAX_CHARS        40           /* categories, escalation rules */

/*
 * Lists whose items must be distinct are compared pairwise; the caps keep
 * that quadratic work small for any file, however hostile.  No real tenant
 * comes near them.
 */
#define CATEGORIES_MAX        100
#define ESCALATION_RULES_MAX  50


/* ---- escalation policy ------------------------------------------------ */

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

static void
check_percent(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, 100, errs);
}

static void
check_boolean(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_require_kind(value, KIND_BOOLEAN, path, errs);
}

static void
check_internal_categories(const json_t *value, const char *path,
                          msp_errors_t *errs)
{
    char field[FIELD_PATH_SIZE];

    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
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

        msp_tf_path_index(field, path, i);
        if (!msp_tf_require_kind(item, KIND_STRING, field, errs)) {
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

            if (json_is_string(other) && msp_tf_strings_equal(item, other)) {
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
    msp_tf_check_object(value, path, automatic_rules, errs);
}

static void
check_intake(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_one_of(value, path, msp_esc_intakes, errs);
}

static void
check_rule_name(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (msp_tf_require_kind(value, KIND_STRING, path, errs)
        && !is_lower_name(value, '-'))
    {
        msp_errors_add(errs, path,
                       "must be 1 to 40 characters: a lower-case letter, "
                       "then lower-case letters, digits or '-'");
    }
}

static void
check_rule_kind(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_one_of(value, path, msp_esc_kinds, errs);
}

static void
check_rule_roles(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_option_set(value, path, msp_esc_roles, 0, errs);
}

static void
check_rule_from(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_option_set(value, path, msp_esc_from_sides, 0, errs);
}

/*
 * Targets of any kind here; whether they suit the rule's kind is checked
 * once the kind is known to be valid (check_targets_suit_kind).
 * msp_esc_targets lists every escalation target, in the order
 * escalation_policy.c lists the targets of each kind (functional, then
 * handoff, then hierarchical): the order a rule's "to" is normalized to.
 * msp_esc_target_ok() says which kind takes which.
 */
static void
check_rule_targets(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_option_set(value, path, msp_esc_targets, 0, errs);
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

    if (msp_tf_index_in(kind, msp_esc_kinds) < 0 || !json_is_array(to)) {
        return;
    }
    msp_tf_path_member(to_path, path, "to");
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
        if (first_time && msp_tf_index_in(target, msp_esc_targets) >= 0
            && msp_tf_index_in(target, suitable) < 0)
        {
            msp_tf_path_index(field, to_path, i);
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

        if (json_is_string(other) && msp_tf_strings_equal(name, other)) {
            msp_tf_path_member(field, path, "name");
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

    if (!msp_tf_require_kind(value, KIND_ARRAY, path, errs)) {
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

        msp_tf_path_index(field, path, i);
        if (!msp_tf_check_object(rule, field, escalation_rule_fields, errs)) {
            continue;
        }
        check_targets_suit_kind(rule, field, errs);
        if (count <= ESCALATION_RULES_MAX) {
            check_unique_rule_name(value, i, field, errs);
        }
    }
}

static const field_rule_t escalation_policy_rules[] = {
    { "acknowledgement_minutes", 0, msp_tf_check_minutes },
    { "internal_categories",     0, check_internal_categories },
    { "automatic",               0, check_automatic_escalation },
    { "intake",                  0, check_intake },
    { "rules",                   0, check_escalation_rules },
    { NULL,                      0, NULL }
};

void
msp_tf_check_escalation_policy(const json_t *value, const char *path,
                               msp_errors_t *errs)
{
    msp_tf_check_object(value, path, escalation_policy_rules, errs);
}
