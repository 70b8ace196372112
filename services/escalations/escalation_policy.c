/*
 * escalation_policy.c - escalation policies: defaults per co-management model, a
 * tenant's overrides, and whether one move is allowed.
 */
#include "escalations/escalation_policy.h"

#include <stddef.h>
#include <string.h>

const char *const msp_esc_kinds[] = { "functional", "handoff", "hierarchical", NULL };
const char *const msp_esc_roles[] = {
    "technician", "lead", "account_manager", "admin", "it_staff", "it_leader", NULL
};
const char *const msp_esc_from_sides[] = {
    "provider", "internal_it", "vendor", "customer", NULL
};
const char *const msp_esc_intakes[] = { "provider", "internal_it", NULL };

/* Every target, in the order rules list them. */
const char *const msp_esc_targets[MSP_ESC_TARGET_COUNT + 1] = {
    "provider:L1", "provider:L2", "provider:L3", "internal_it", "vendor",
    "provider:lead", "provider:account_manager", "internal_it:it_leader", NULL
};

static const char *const functional_targets[] = { "provider:L2", "provider:L3", NULL };
static const char *const handoff_targets[] = {
    "provider:L1", "provider:L2", "provider:L3", "internal_it", "vendor", NULL
};
static const char *const hierarchical_targets[] = {
    "provider:lead", "provider:account_manager", "internal_it:it_leader", NULL
};

static int
in_list(const char *value, const char *const *list)
{
    for (; value != NULL && *list != NULL; list++) {
        if (strcmp(value, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

int
msp_esc_target_ok(const char *kind, const char *target)
{
    if (kind == NULL) {
        return 0;
    }
    if (strcmp(kind, "functional") == 0) {
        return in_list(target, functional_targets);
    }
    if (strcmp(kind, "handoff") == 0) {
        return in_list(target, handoff_targets);
    }
    return strcmp(kind, "hierarchical") == 0 && in_list(target, hierarchical_targets);
}

int
msp_esc_target_split(const char *target, const char **side, const char **tier,
                     const char **role)
{
    static const struct {
        const char *target, *side, *tier, *role;
    } parts[] = {
        { "provider:L1", "provider", "L1", NULL },
        { "provider:L2", "provider", "L2", NULL },
        { "provider:L3", "provider", "L3", NULL },
        { "internal_it", "internal_it", NULL, NULL },
        { "vendor", "vendor", NULL, NULL },
        { "provider:lead", "provider", NULL, "lead" },
        { "provider:account_manager", "provider", NULL, "account_manager" },
        { "internal_it:it_leader", "internal_it", NULL, "it_leader" },
    };
    for (size_t i = 0; target != NULL && i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (strcmp(target, parts[i].target) == 0) {
            *side = parts[i].side;
            *tier = parts[i].tier;
            *role = parts[i].role;
            return 0;
        }
    }
    return -1;
}

/* ---- the defaults ---------------------------------------------------- */

/* A rule of the defaults; lists are space-separated. */
typedef struct {
    const char *name, *kind, *roles, *from, *to;
    int         assign;
} default_rule_t;

#define PROVIDER_STAFF "technician lead admin"
#define TENANT_STAFF   "it_staff it_leader"
#define ANY_STAFF      "technician lead account_manager admin it_staff it_leader"
#define ALL_SIDES      "provider internal_it vendor customer"
#define PROVIDER_TIERS "provider:L1 provider:L2 provider:L3"

static const default_rule_t provider_tiers = {
    "provider-tiers", "functional", PROVIDER_STAFF, "provider", "provider:L2 provider:L3", 0
};
static const default_rule_t management = {
    "management", "hierarchical", ANY_STAFF, ALL_SIDES,
    "provider:lead provider:account_manager internal_it:it_leader", 0
};
static const default_rule_t provider_returns = {
    "provider-returns", "handoff", PROVIDER_STAFF, "provider", "internal_it", 0
};

static const default_rule_t *const fully_managed[] = {
    &provider_tiers,
    &(const default_rule_t) { "provider-vendor", "handoff", PROVIDER_STAFF, "provider vendor",
                              PROVIDER_TIERS " vendor", 0 },
    &management, NULL
};
static const default_rule_t *const co_managed[] = {
    &provider_tiers,
    &(const default_rule_t) { "provider-handoff", "handoff", PROVIDER_STAFF, "provider vendor",
                              PROVIDER_TIERS " internal_it vendor", 0 },
    &(const default_rule_t) { "internal-handoff", "handoff", TENANT_STAFF,
                              "internal_it vendor", "provider:L1 internal_it vendor", 0 },
    &management, NULL
};
static const default_rule_t *const staff_augmentation[] = {
    &provider_tiers,
    &(const default_rule_t) { "internal-directs-tiers", "functional", TENANT_STAFF, "provider",
                              "provider:L2 provider:L3", 0 },
    &(const default_rule_t) { "internal-assigns", "handoff", TENANT_STAFF,
                              "provider internal_it vendor",
                              PROVIDER_TIERS " internal_it vendor", 1 },
    &provider_returns, &management, NULL
};
static const default_rule_t *const project[] = {
    &provider_tiers,
    &(const default_rule_t) { "internal-hands-over", "handoff", TENANT_STAFF,
                              "internal_it vendor", PROVIDER_TIERS " internal_it vendor", 0 },
    &provider_returns, &management, NULL
};
static const default_rule_t *const on_demand[] = {
    &provider_tiers,
    &(const default_rule_t) { "internal-hands-over", "handoff", TENANT_STAFF,
                              "internal_it vendor", "provider:L1 internal_it vendor", 0 },
    &provider_returns, &management, NULL
};

static const struct {
    const char                  *model;
    const char                  *intake;
    const default_rule_t *const *rules;
} models[] = {
    { "fully_managed", "provider", fully_managed },
    { "co_managed", "provider", co_managed },
    { "staff_augmentation", "internal_it", staff_augmentation },
    { "project", "internal_it", project },
    { "on_demand", "internal_it", on_demand },
};

static int
model_index(const char *model)
{
    for (size_t i = 0; model != NULL && i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(model, models[i].model) == 0) {
            return (int) i;
        }
    }
    return -1;
}

/* "a b c" -> ["a", "b", "c"] */
static json_t *
words(const char *list)
{
    json_t *out = json_array();
    while (out != NULL && *list != '\0') {
        size_t n = strcspn(list, " ");
        json_array_append_new(out, json_stringn(list, n));
        list += n;
        list += strspn(list, " ");
    }
    return out;
}

json_t *
msp_esc_default_rules(const char *model)
{
    int m = model_index(model);
    if (m < 0) {
        return NULL;
    }
    json_t *rules = json_array();
    for (const default_rule_t *const *r = models[m].rules; rules != NULL && *r != NULL; r++) {
        json_t *rule = json_pack("{s:s, s:s, s:o, s:o, s:o, s:b}", "name", (*r)->name,
                                 "kind", (*r)->kind, "roles", words((*r)->roles),
                                 "from", words((*r)->from), "to", words((*r)->to),
                                 "assign", (*r)->assign);
        if (rule == NULL || json_array_append_new(rules, rule) != 0) {
            json_decref(rules);
            return NULL;
        }
    }
    return rules;
}

const char *
msp_esc_default_intake(const char *model)
{
    int m = model_index(model);
    return m < 0 ? NULL : models[m].intake;
}

/* ---- the effective policy ------------------------------------------- */

static int
array_has(const json_t *array, const char *value)
{
    size_t i;
    const json_t *v;
    json_array_foreach(array, i, v) {
        const char *s = json_string_value(v);
        if (s != NULL && value != NULL && strcmp(s, value) == 0) {
            return 1;
        }
    }
    return 0;
}

/* {role: {kind: [targets]}} over every rule, whatever its `from`. */
static json_t *
matrix_of(const json_t *rules)
{
    json_t *matrix = json_object();
    for (int r = 0; matrix != NULL && msp_esc_roles[r] != NULL; r++) {
        json_t *by_kind = json_object();
        json_object_set_new(matrix, msp_esc_roles[r], by_kind);
        for (int k = 0; by_kind != NULL && msp_esc_kinds[k] != NULL; k++) {
            json_t *targets = json_array();
            json_object_set_new(by_kind, msp_esc_kinds[k], targets);
            size_t i;
            const json_t *rule;
            json_array_foreach(rules, i, rule) {
                const char *kind = json_string_value(json_object_get(rule, "kind"));
                if (kind == NULL || strcmp(kind, msp_esc_kinds[k]) != 0
                    || !array_has(json_object_get(rule, "roles"), msp_esc_roles[r]))
                {
                    continue;
                }
                size_t j;
                const json_t *t;
                json_array_foreach(json_object_get(rule, "to"), j, t) {
                    if (!array_has(targets, json_string_value(t))) {
                        json_array_append(targets, (json_t *) t);
                    }
                }
            }
        }
    }
    return matrix;
}

json_t *
msp_esc_effective(const char *model, const json_t *escalation_policy)
{
    if (model_index(model) < 0) {
        return NULL;
    }
    const json_t *given = json_object_get(escalation_policy, "rules");
    json_t *rules = given != NULL ? json_deep_copy(given) : msp_esc_default_rules(model);
    const char *intake = json_string_value(json_object_get(escalation_policy, "intake"));
    const json_t *categories = json_object_get(escalation_policy, "internal_categories");
    const json_t *ack = json_object_get(escalation_policy, "acknowledgement_minutes");
    const json_t *automatic = json_object_get(escalation_policy, "automatic");
    json_t *matrix = rules ? matrix_of(rules) : NULL;
    if (matrix == NULL) {
        json_decref(rules);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:o}",
                     "model", model,
                     "intake", intake ? intake : msp_esc_default_intake(model),
                     "internal_categories",
                     categories ? json_deep_copy(categories) : json_array(),
                     "acknowledgement_minutes", ack ? json_deep_copy(ack) : json_integer(30),
                     "automatic", automatic ? json_deep_copy(automatic) : json_object(),
                     "rules", rules,
                     "rules_from", given != NULL ? "tenant_file" : "model",
                     "matrix", matrix);
}

const char *
msp_esc_intake_side(const json_t *effective, const char *category)
{
    if (array_has(json_object_get(effective, "internal_categories"), category)) {
        return "internal_it";
    }
    const char *intake = json_string_value(json_object_get(effective, "intake"));
    return intake ? intake : "provider";
}

int
msp_esc_allowed(const json_t *effective, const char *role, const char *kind,
                const char *holder, const char *target, const json_t **rule_out)
{
    const json_t *closest = NULL, *rule;
    size_t i;
    json_array_foreach(json_object_get(effective, "rules"), i, rule) {
        const char *k = json_string_value(json_object_get(rule, "kind"));
        if (k == NULL || kind == NULL || strcmp(k, kind) != 0
            || !array_has(json_object_get(rule, "roles"), role))
        {
            continue;
        }
        if (array_has(json_object_get(rule, "from"), holder)
            && array_has(json_object_get(rule, "to"), target))
        {
            *rule_out = rule;
            return 1;
        }
        if (closest == NULL) {
            closest = rule;
        }
    }
    *rule_out = closest;
    return 0;
}

/* ---- who receives ----------------------------------------------------- */

const char *
msp_esc_side_of(const char *role)
{
    static const char *const provider[] = {
        "technician", "lead", "account_manager", "admin", NULL
    };
    static const char *const tenant[] = { "it_staff", "it_leader", NULL };
    return in_list(role, provider) ? "provider" : in_list(role, tenant) ? "internal_it" : NULL;
}

int
msp_esc_may_decide(const char *role, const char *tier, const char *kind,
                   const char *target, const char *from_side, const char **why)
{
    static const char *const provider_workers[] = { "technician", "lead", "admin", NULL };
    static const char *const tenant_workers[] = { "it_staff", "it_leader", NULL };
    const char *side, *to_tier, *to_role;
    if (role == NULL || kind == NULL || from_side == NULL
        || msp_esc_target_split(target, &side, &to_tier, &to_role) != 0
        || (strcmp(kind, "hierarchical") == 0) != (to_role != NULL))
    {
        *why = "This escalation has no receiving side.";
        return 0;
    }
    if (to_role != NULL) {
        *why = strcmp(to_role, "lead") == 0 ? "This escalation waits for the provider's lead."
             : strcmp(to_role, "account_manager") == 0
                 ? "This escalation waits for the provider's account manager."
                 : "This escalation waits for the tenant's IT leader.";
        return strcmp(role, to_role) == 0
               || (strcmp(side, "provider") == 0 && strcmp(role, "admin") == 0);
    }
    if (strcmp(side, "vendor") == 0) {
        /* Vendors do not sign in: the side that sent the work records their answer. */
        *why = strcmp(from_side, "internal_it") == 0
             ? "The tenant's IT staff, who sent this to the vendor, record its answer."
             : "The provider's staff, who sent this to the vendor, record its answer.";
        return strcmp(from_side, "internal_it") == 0 ? in_list(role, tenant_workers)
                                                      : in_list(role, provider_workers);
    }
    if (strcmp(side, "internal_it") == 0) {
        *why = "This escalation waits for the tenant's IT staff.";
        return in_list(role, tenant_workers);
    }
    *why = "This escalation waits for provider staff at its tier or above "
           "(a technician assigned at that tier, a lead or an admin).";
    if (strcmp(role, "technician") == 0) {
        return tier == NULL || strcmp(tier, to_tier) >= 0;    /* "L1" < "L2" < "L3" */
    }
    return in_list(role, provider_workers);
}
