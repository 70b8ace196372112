/*
 * test_escalation_policy.c - the escalation policy: targets, the defaults
 * of each co-management model, the effective policy and the check of one
 * move against it.
 *
 * The expectations for the defaults are written here from the README
 * ("The escalation policy": its table and the paragraph under it), not
 * derived from escalation_policy.c, and every cell of
 *   model x role x holder side x kind x target
 * is checked against them: the five models, the six roles a rule may
 * name plus requester, auditor and integration (which never escalate),
 * the four sides that can hold a ticket, the three kinds, and all eight
 * targets under every kind (a target of another kind is never allowed).
 *
 * The effective policy, the intake side of new tickets, targets, and who
 * may accept or reject an escalation are checked on cases from the
 * README as well.
 *
 * Where the README's table leaves a side unsaid, the reading used is
 * written beside the expectation: a functional escalation moves work up
 * the provider's tiers, so it starts from tickets the provider holds; a
 * hierarchical escalation asks for attention and leaves the ticket where
 * it is, so any staff may raise it whoever holds the ticket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "escalations/escalation_policy.h"
#include "tenants/tenant_file.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))


/* ---- the README's defaults -------------------------------------------- */

/* "Provider staff" is technician, lead and admin; "any staff" adds the
 * account manager and the tenant's it_staff and it_leader. */
#define PROVIDER_STAFF "technician lead admin"
#define TENANT_STAFF   "it_staff it_leader"
#define ANY_STAFF      "technician lead admin account_manager it_staff it_leader"
#define ANY_SIDE       "provider internal_it vendor customer"
#define L1_TO_L3       "provider:L1 provider:L2 provider:L3"
#define MANAGEMENT     "provider:lead provider:account_manager internal_it:it_leader"

/* What some roles may do: raise `kind` on tickets held by `holders`, to
 * `targets`.  Lists are space-separated. */
typedef struct {
    const char *roles;
    const char *kind;
    const char *holders;
    const char *targets;
} grant_t;

typedef struct {
    const char    *model;
    const char    *intake;
    const grant_t *grants;      /* ended by a NULL roles */
} model_expectation_t;

/* The functional column: "provider staff" (fully_managed: "provider
 * technician/lead/admin, to L2, L3"), on tickets the provider holds. */
#define PROVIDER_FUNCTIONAL \
    { PROVIDER_STAFF, "functional", "provider", "provider:L2 provider:L3" }

/* The hierarchical column: "any staff (of either side)". */
#define ANY_STAFF_HIERARCHICAL \
    { ANY_STAFF, "hierarchical", ANY_SIDE, MANAGEMENT }

/* "provider staff from provider back to internal_it" */
#define PROVIDER_BACK_TO_INTERNAL \
    { PROVIDER_STAFF, "handoff", "provider", "internal_it" }

static const grant_t fully_managed[] = {
    PROVIDER_FUNCTIONAL,
    /* "provider staff, from provider or vendor, to vendor or back to
     * provider:L1-L3" */
    { PROVIDER_STAFF, "handoff", "provider vendor", "vendor " L1_TO_L3 },
    ANY_STAFF_HIERARCHICAL,
    { NULL, NULL, NULL, NULL }
};

static const grant_t co_managed[] = {
    PROVIDER_FUNCTIONAL,
    /* "provider staff from provider or vendor to internal_it, vendor,
     * provider:L1-L3" */
    { PROVIDER_STAFF, "handoff", "provider vendor", "internal_it vendor " L1_TO_L3 },
    /* "it_staff/it_leader from internal_it or vendor to provider:L1,
     * vendor, internal_it" */
    { TENANT_STAFF, "handoff", "internal_it vendor", "provider:L1 vendor internal_it" },
    ANY_STAFF_HIERARCHICAL,
    { NULL, NULL, NULL, NULL }
};

static const grant_t staff_augmentation[] = {
    PROVIDER_FUNCTIONAL,
    /* "it_staff/it_leader too (tickets held by the provider)" */
    { TENANT_STAFF, "functional", "provider", "provider:L2 provider:L3" },
    /* "it_staff/it_leader from provider, internal_it or vendor to
     * provider:L1-L3 (naming the assignee), internal_it, vendor" */
    { TENANT_STAFF, "handoff", "provider internal_it vendor", L1_TO_L3 " vendor internal_it" },
    PROVIDER_BACK_TO_INTERNAL,
    ANY_STAFF_HIERARCHICAL,
    { NULL, NULL, NULL, NULL }
};

static const grant_t project[] = {
    PROVIDER_FUNCTIONAL,
    /* "it_staff/it_leader from internal_it or vendor to provider:L1-L3,
     * vendor, internal_it" */
    { TENANT_STAFF, "handoff", "internal_it vendor", L1_TO_L3 " vendor internal_it" },
    PROVIDER_BACK_TO_INTERNAL,
    ANY_STAFF_HIERARCHICAL,
    { NULL, NULL, NULL, NULL }
};

static const grant_t on_demand[] = {
    PROVIDER_FUNCTIONAL,
    /* "as project, but to provider:L1 only" */
    { TENANT_STAFF, "handoff", "internal_it vendor", "provider:L1 vendor internal_it" },
    PROVIDER_BACK_TO_INTERNAL,
    ANY_STAFF_HIERARCHICAL,
    { NULL, NULL, NULL, NULL }
};

static const model_expectation_t models[] = {
    { "fully_managed",      "provider",    fully_managed },
    { "co_managed",         "provider",    co_managed },
    { "staff_augmentation", "internal_it", staff_augmentation },
    { "project",            "internal_it", project },
    { "on_demand",          "internal_it", on_demand },
};

/* The rules' roles, and the roles that never escalate. */
static const char *const roles[] = {
    "technician", "lead", "account_manager", "admin", "it_staff", "it_leader",
    "requester", "auditor", "integration",
};
static const char *const holders[] = { "provider", "internal_it", "vendor", "customer" };
static const char *const kinds[] = { "functional", "handoff", "hierarchical" };
static const char *const targets[] = {
    "provider:L1", "provider:L2", "provider:L3", "internal_it", "vendor",
    "provider:lead", "provider:account_manager", "internal_it:it_leader",
};


/* ---- helpers ------------------------------------------------------------ */

/* Whether word is one of the space-separated words of list. */
static int
has_word(const char *list, const char *word)
{
    size_t len = strlen(word);

    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, " ");

        if (n == len && strncmp(p, word, len) == 0) {
            return 1;
        }
        p += n;
        p += strspn(p, " ");
    }
    return 0;
}

static int
expected_allowed(const grant_t *grants, const char *role, const char *kind,
                 const char *holder, const char *target)
{
    for (const grant_t *g = grants; g->roles != NULL; g++) {
        if (strcmp(g->kind, kind) == 0 && has_word(g->roles, role)
            && has_word(g->holders, holder) && has_word(g->targets, target))
        {
            return 1;
        }
    }
    return 0;
}

/* Whether any grant of this kind names the role: then a refusal names a
 * rule; otherwise its rule is null. */
static int
expected_named(const grant_t *grants, const char *role, const char *kind)
{
    for (const grant_t *g = grants; g->roles != NULL; g++) {
        if (strcmp(g->kind, kind) == 0 && has_word(g->roles, role)) {
            return 1;
        }
    }
    return 0;
}

static int
array_has(const json_t *array, const char *value)
{
    size_t i;
    json_t *v;

    json_array_foreach(array, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), value) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether array holds exactly the words of list, in any order, once each. */
static int
same_set(const json_t *array, const char *list)
{
    size_t words = 0;

    for (const char *p = list + strspn(list, " "); *p != '\0';) {
        words++;
        p += strcspn(p, " ");
        p += strspn(p, " ");
    }
    if (!json_is_array(array) || json_array_size(array) != words) {
        return 0;
    }

    size_t i;
    json_t *v;

    json_array_foreach(array, i, v) {
        if (!json_is_string(v) || !has_word(list, json_string_value(v))) {
            return 0;
        }
        for (size_t j = 0; j < i; j++) {
            if (json_equal(v, json_array_get(array, j))) {
                return 0;
            }
        }
    }
    return 1;
}

static json_t *
parse_json(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, 0, &error);

    if (value == NULL) {
        fail_msg("bad test JSON at line %d: %s", error.line, error.text);
    }
    return value;
}

static json_t *
effective(const char *model, const char *policy_json)
{
    json_t *policy = parse_json(policy_json);
    json_t *eff = msp_esc_effective(model, policy);

    json_decref(policy);
    if (eff == NULL) {
        fail_msg("no effective policy for %s", model);
    }
    return eff;
}


/* ---- targets ------------------------------------------------------------ */

static void
targets_belong_to_their_kind(void **state)
{
    (void) state;
    /* README: functional "to is provider:L2 or provider:L3"; handoff
     * "provider:L1, provider:L2, provider:L3, internal_it or vendor";
     * hierarchical "provider:lead, provider:account_manager or
     * internal_it:it_leader". */
    static const struct {
        const char *kind, *accepted;
    } cases[] = {
        { "functional",   "provider:L2 provider:L3" },
        { "handoff",      L1_TO_L3 " internal_it vendor" },
        { "hierarchical", MANAGEMENT },
    };

    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        for (size_t t = 0; t < ARRAY_LEN(targets); t++) {
            int expected = has_word(cases[c].accepted, targets[t]);

            if (msp_esc_target_ok(cases[c].kind, targets[t]) != expected) {
                fail_msg("msp_esc_target_ok(%s, %s) should be %d", cases[c].kind,
                         targets[t], expected);
            }
        }
    }

    static const char *const not_targets[] = {
        "provider", "provider:L4", "provider:l2", "provider:technician", "customer",
        "internal_it:it_staff", "vendor:acme", "", "provider:L2 ",
    };

    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        for (size_t t = 0; t < ARRAY_LEN(not_targets); t++) {
            assert_false(msp_esc_target_ok(kinds[k], not_targets[t]));
        }
        assert_false(msp_esc_target_ok(kinds[k], NULL));
    }
    assert_false(msp_esc_target_ok("lateral", "provider:L2"));
    assert_false(msp_esc_target_ok("", "vendor"));
    assert_false(msp_esc_target_ok(NULL, "vendor"));
}

static void
targets_split_into_side_tier_and_role(void **state)
{
    (void) state;
    static const struct {
        const char *target, *side, *tier, *role;
    } cases[] = {
        { "provider:L1",              "provider",    "L1", NULL },
        { "provider:L2",              "provider",    "L2", NULL },
        { "provider:L3",              "provider",    "L3", NULL },
        { "internal_it",              "internal_it", NULL, NULL },
        { "vendor",                   "vendor",      NULL, NULL },
        { "provider:lead",            "provider",    NULL, "lead" },
        { "provider:account_manager", "provider",    NULL, "account_manager" },
        { "internal_it:it_leader",    "internal_it", NULL, "it_leader" },
    };

    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        const char *side = "unset", *tier = "unset", *role = "unset";

        assert_int_equal(msp_esc_target_split(cases[c].target, &side, &tier, &role), 0);
        assert_string_equal(side, cases[c].side);
        if (cases[c].tier == NULL) {
            assert_null(tier);
        } else {
            assert_string_equal(tier, cases[c].tier);
        }
        if (cases[c].role == NULL) {
            assert_null(role);
        } else {
            assert_string_equal(role, cases[c].role);
        }
    }

    static const char *const not_targets[] = {
        "provider", "customer", "provider:L4", "internal_it:it_staff", "vendor:x", "",
    };

    for (size_t t = 0; t < ARRAY_LEN(not_targets); t++) {
        const char *side = NULL, *tier = NULL, *role = NULL;

        assert_int_equal(msp_esc_target_split(not_targets[t], &side, &tier, &role), -1);
    }

    const char *side = NULL, *tier = NULL, *role = NULL;

    assert_int_equal(msp_esc_target_split(NULL, &side, &tier, &role), -1);
}


/* ---- the defaults, cell by cell ------------------------------------------ */

/*
 * Every cell of one model's defaults.  Mismatches are all printed before
 * the test fails, so that one run shows the whole difference.
 */
static void
check_model_defaults(const model_expectation_t *m)
{
    json_t *eff = effective(m->model, "{}");
    size_t cells = 0, wrong = 0;

    for (size_t r = 0; r < ARRAY_LEN(roles); r++) {
        for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
            int named = expected_named(m->grants, roles[r], kinds[k]);

            for (size_t h = 0; h < ARRAY_LEN(holders); h++) {
                for (size_t t = 0; t < ARRAY_LEN(targets); t++) {
                    int expected = expected_allowed(m->grants, roles[r], kinds[k],
                                                    holders[h], targets[t]);
                    const json_t *rule = json_null();   /* must be overwritten */
                    int allowed = msp_esc_allowed(eff, roles[r], kinds[k], holders[h],
                                                  targets[t], &rule);
                    const char *rule_kind = json_string_value(json_object_get(rule, "kind"));

                    cells++;
                    if (allowed != expected) {
                        print_message("%s: %s %s of a ticket held by %s to %s: "
                                      "expected %s, got %s\n", m->model, roles[r],
                                      kinds[k], holders[h], targets[t],
                                      expected ? "allowed" : "refused",
                                      allowed ? "allowed" : "refused");
                        wrong++;
                    } else if ((rule != NULL) != (allowed || named)) {
                        print_message("%s: %s %s from %s to %s: rule should be %s\n",
                                      m->model, roles[r], kinds[k], holders[h],
                                      targets[t], named ? "a rule" : "null");
                        wrong++;
                    } else if (rule != NULL
                               && (rule_kind == NULL || strcmp(rule_kind, kinds[k]) != 0
                                   || !array_has(json_object_get(rule, "roles"), roles[r])))
                    {
                        print_message("%s: %s %s from %s to %s: the rule given is "
                                      "not a %s rule naming the role\n", m->model,
                                      roles[r], kinds[k], holders[h], targets[t],
                                      kinds[k]);
                        wrong++;
                    }
                }
            }
        }
    }
    json_decref(eff);
    assert_int_equal(cells, ARRAY_LEN(roles) * ARRAY_LEN(kinds) * ARRAY_LEN(holders)
                            * ARRAY_LEN(targets));
    if (wrong > 0) {
        fail_msg("%s: %zu of %zu cells differ from the README's defaults", m->model,
                 wrong, cells);
    }
}

static void
defaults_match_the_readme(void **state)
{
    check_model_defaults((const model_expectation_t *) *state);
}

static void
default_intake_per_model(void **state)
{
    (void) state;
    for (size_t m = 0; m < ARRAY_LEN(models); m++) {
        const char *intake = msp_esc_default_intake(models[m].model);

        assert_non_null(intake);
        assert_string_equal(intake, models[m].intake);
    }
    assert_null(msp_esc_default_intake("fully_outsourced"));
    assert_null(msp_esc_default_intake(NULL));
}

static void
unknown_model_has_no_policy(void **state)
{
    (void) state;
    json_t *policy = json_object();

    assert_null(msp_esc_default_rules("fully_outsourced"));
    assert_null(msp_esc_default_rules(NULL));
    assert_null(msp_esc_effective("fully_outsourced", policy));
    assert_null(msp_esc_effective(NULL, policy));
    json_decref(policy);
}

/*
 * The defaults of every model, written into a tenant file as its
 * escalation_policy.rules, are a valid file; normalized, they are the
 * same policy: the same matrix.
 */
static void
defaults_are_valid_tenant_file_rules(void **state)
{
    (void) state;
    static const char tenant[] =
        "{\"slug\": \"test-co\", \"name\": \"Test Co\", \"timezone\": \"UTC\","
        " \"co_management_model\": \"co_managed\","
        " \"calendar\": {\"monday\": [{\"start\": \"08:00\", \"end\": \"17:00\"}]},"
        " \"sla_policy\": {\"priorities\": {"
        "   \"P1\": {\"first_response_minutes\": 30, \"resolution_minutes\": 240},"
        "   \"P2\": {\"first_response_minutes\": 60, \"resolution_minutes\": 480},"
        "   \"P3\": {\"first_response_minutes\": 240, \"resolution_minutes\": 1440},"
        "   \"P4\": {\"first_response_minutes\": 480, \"resolution_minutes\": 4320}}},"
        " \"contract\": {\"monthly_fee\": 100, \"hourly_rate\": 50, \"currency\": \"USD\"}}";

    for (size_t m = 0; m < ARRAY_LEN(models); m++) {
        json_t *doc = parse_json(tenant);
        json_t *rules = msp_esc_default_rules(models[m].model);
        msp_errors_t errs = { 0 };

        assert_non_null(rules);
        json_object_set_new(doc, "co_management_model", json_string(models[m].model));
        json_object_set_new(doc, "escalation_policy", json_pack("{s:o}", "rules", rules));
        if (msp_tenant_validate(doc, "test-co", &errs) != 0) {
            for (size_t i = 0; i < errs.n; i++) {
                print_message("  %s: %s\n", errs.items[i].field, errs.items[i].message);
            }
            fail_msg("%s: the default rules are not a valid tenant file", models[m].model);
        }

        json_t *normalized = msp_tenant_normalize(doc);
        const json_t *policy = json_object_get(normalized, "escalation_policy");
        json_t *from_file = msp_esc_effective(models[m].model, policy);
        json_t *from_model = effective(models[m].model, "{}");

        assert_non_null(from_file);
        assert_string_equal(json_string_value(json_object_get(from_file, "rules_from")),
                            "tenant_file");
        assert_string_equal(json_string_value(json_object_get(from_model, "rules_from")),
                            "model");

        /* The same roles may do the same things; normalization may have
         * put targets in another order. */
        const json_t *mf = json_object_get(from_file, "matrix");
        const json_t *mm = json_object_get(from_model, "matrix");

        for (size_t r = 0; msp_esc_roles[r] != NULL; r++) {
            for (size_t k = 0; msp_esc_kinds[k] != NULL; k++) {
                const json_t *a = json_object_get(json_object_get(mf, msp_esc_roles[r]),
                                                  msp_esc_kinds[k]);
                const json_t *b = json_object_get(json_object_get(mm, msp_esc_roles[r]),
                                                  msp_esc_kinds[k]);
                size_t i;
                json_t *t;

                assert_int_equal(json_array_size(a), json_array_size(b));
                json_array_foreach(a, i, t) {
                    assert_true(array_has(b, json_string_value(t)));
                }
            }
        }
        json_decref(from_file);
        json_decref(from_model);
        json_decref(normalized);
        json_decref(doc);
    }
}


/* ---- the effective policy ------------------------------------------------ */

static void
effective_policy_from_the_model(void **state)
{
    (void) state;
    json_t *eff = effective("co_managed",
                            "{\"acknowledgement_minutes\": 15,"
                            " \"internal_categories\": [\"printing\"],"
                            " \"automatic\": {\"notify_lead_at_percent\": 60}}");

    assert_string_equal(json_string_value(json_object_get(eff, "model")), "co_managed");
    assert_string_equal(json_string_value(json_object_get(eff, "intake")), "provider");
    assert_string_equal(json_string_value(json_object_get(eff, "rules_from")), "model");
    assert_int_equal(json_integer_value(json_object_get(eff, "acknowledgement_minutes")), 15);
    assert_true(same_set(json_object_get(eff, "internal_categories"), "printing"));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(eff, "automatic"), "notify_lead_at_percent")), 60);

    /* The rules are the model's defaults (a copy: the caller's to keep). */
    json_t *defaults = msp_esc_default_rules("co_managed");

    assert_true(json_equal(json_object_get(eff, "rules"), defaults));
    json_decref(defaults);

    /* co_managed's matrix, from the README: provider staff go up the
     * tiers; provider staff hand off to internal_it, vendor or L1-L3;
     * it_staff/it_leader to provider:L1, vendor or internal_it; any
     * staff ask for any management's attention.  Every role a rule may
     * name has every kind, empty when it has none of it. */
    static const struct {
        const char *role, *functional, *handoff, *hierarchical;
    } matrix[] = {
        { "technician",      "provider:L2 provider:L3", "internal_it vendor " L1_TO_L3, MANAGEMENT },
        { "lead",            "provider:L2 provider:L3", "internal_it vendor " L1_TO_L3, MANAGEMENT },
        { "admin",           "provider:L2 provider:L3", "internal_it vendor " L1_TO_L3, MANAGEMENT },
        { "account_manager", "",                        "",                             MANAGEMENT },
        { "it_staff",        "",                        "provider:L1 vendor internal_it", MANAGEMENT },
        { "it_leader",       "",                        "provider:L1 vendor internal_it", MANAGEMENT },
    };
    const json_t *m = json_object_get(eff, "matrix");

    assert_int_equal(json_object_size(m), ARRAY_LEN(matrix));
    for (size_t r = 0; r < ARRAY_LEN(matrix); r++) {
        const json_t *by_kind = json_object_get(m, matrix[r].role);

        if (by_kind == NULL) {
            fail_msg("no %s in the matrix", matrix[r].role);
        }
        assert_int_equal(json_object_size(by_kind), 3);
        if (!same_set(json_object_get(by_kind, "functional"), matrix[r].functional)
            || !same_set(json_object_get(by_kind, "handoff"), matrix[r].handoff)
            || !same_set(json_object_get(by_kind, "hierarchical"), matrix[r].hierarchical))
        {
            char *text = json_dumps(by_kind, JSON_COMPACT);

            fail_msg("matrix of %s is %s", matrix[r].role, text);
        }
    }
    /* Roles that never escalate have no row. */
    assert_null(json_object_get(m, "requester"));
    assert_null(json_object_get(m, "auditor"));
    assert_null(json_object_get(m, "integration"));
    json_decref(eff);
}

/* A tenant file's rules replace the model's entirely, and its intake the
 * model's. */
static const char custom_policy[] =
    "{\"intake\": \"internal_it\","
    " \"rules\": ["
    "  {\"name\": \"desk-to-vendor\", \"kind\": \"handoff\", \"roles\": [\"it_staff\"],"
    "   \"from\": [\"internal_it\"], \"to\": [\"vendor\"], \"assign\": false},"
    "  {\"name\": \"desk-to-provider\", \"kind\": \"handoff\", \"roles\": [\"it_staff\", \"lead\"],"
    "   \"from\": [\"internal_it\", \"vendor\"], \"to\": [\"provider:L1\"], \"assign\": true},"
    "  {\"name\": \"leaders\", \"kind\": \"hierarchical\", \"roles\": [\"it_leader\"],"
    "   \"from\": [\"provider\"], \"to\": [\"provider:account_manager\"], \"assign\": false}"
    " ]}";

static void
effective_policy_from_the_tenant_file(void **state)
{
    (void) state;
    json_t *given = parse_json(custom_policy);
    json_t *eff = msp_esc_effective("fully_managed", given);

    assert_non_null(eff);
    assert_string_equal(json_string_value(json_object_get(eff, "rules_from")), "tenant_file");
    assert_string_equal(json_string_value(json_object_get(eff, "intake")), "internal_it");
    assert_true(json_equal(json_object_get(eff, "rules"), json_object_get(given, "rules")));
    /* Defaults where the file says nothing. */
    assert_int_equal(json_integer_value(json_object_get(eff, "acknowledgement_minutes")), 30);
    assert_int_equal(json_array_size(json_object_get(eff, "internal_categories")), 0);

    const json_t *m = json_object_get(eff, "matrix");

    /* fully_managed's provider tiers are gone: nothing functional left. */
    for (size_t r = 0; msp_esc_roles[r] != NULL; r++) {
        assert_int_equal(json_array_size(json_object_get(json_object_get(m, msp_esc_roles[r]),
                                                         "functional")), 0);
    }
    assert_true(same_set(json_object_get(json_object_get(m, "it_staff"), "handoff"),
                         "vendor provider:L1"));
    assert_true(same_set(json_object_get(json_object_get(m, "lead"), "handoff"),
                         "provider:L1"));
    assert_true(same_set(json_object_get(json_object_get(m, "it_leader"), "hierarchical"),
                         "provider:account_manager"));
    assert_true(same_set(json_object_get(json_object_get(m, "technician"), "hierarchical"), ""));

    const json_t *rule = NULL;

    /* Allowed: the rule that covers the move. */
    assert_int_equal(msp_esc_allowed(eff, "it_staff", "handoff", "vendor", "provider:L1",
                                     &rule), 1);
    assert_string_equal(json_string_value(json_object_get(rule, "name")), "desk-to-provider");
    assert_true(json_is_true(json_object_get(rule, "assign")));
    /* Refused: the first rule of the kind that names the role. */
    assert_int_equal(msp_esc_allowed(eff, "it_staff", "handoff", "vendor", "vendor", &rule), 0);
    assert_string_equal(json_string_value(json_object_get(rule, "name")), "desk-to-vendor");
    assert_int_equal(msp_esc_allowed(eff, "lead", "handoff", "provider", "provider:L1", &rule), 0);
    assert_string_equal(json_string_value(json_object_get(rule, "name")), "desk-to-provider");
    /* Refused, and no rule of that kind names the role. */
    assert_int_equal(msp_esc_allowed(eff, "technician", "handoff", "provider", "vendor",
                                     &rule), 0);
    assert_null(rule);
    assert_int_equal(msp_esc_allowed(eff, "it_staff", "functional", "provider", "provider:L2",
                                     &rule), 0);
    assert_null(rule);
    assert_int_equal(msp_esc_allowed(eff, "requester", "handoff", "internal_it", "vendor",
                                     &rule), 0);
    assert_null(rule);

    json_decref(eff);
    json_decref(given);
}

static void
intake_side_of_new_tickets(void **state)
{
    (void) state;
    /* README: "New tickets go to internal IT when their category is one
     * of the policy's internal_categories, else to its intake side." */
    for (size_t m = 0; m < ARRAY_LEN(models); m++) {
        json_t *plain = effective(models[m].model, "{}");
        json_t *printing = effective(models[m].model,
                                     "{\"internal_categories\": [\"printing\", \"onboarding\"]}");
        json_t *to_provider = effective(models[m].model, "{\"intake\": \"provider\"}");

        assert_string_equal(msp_esc_intake_side(plain, "network"), models[m].intake);
        assert_string_equal(msp_esc_intake_side(plain, NULL), models[m].intake);
        assert_string_equal(msp_esc_intake_side(printing, "printing"), "internal_it");
        assert_string_equal(msp_esc_intake_side(printing, "onboarding"), "internal_it");
        assert_string_equal(msp_esc_intake_side(printing, "print"), models[m].intake);
        assert_string_equal(msp_esc_intake_side(printing, NULL), models[m].intake);
        assert_string_equal(msp_esc_intake_side(to_provider, "network"), "provider");
        assert_string_equal(msp_esc_intake_side(to_provider, NULL), "provider");
        json_decref(plain);
        json_decref(printing);
        json_decref(to_provider);
    }

    /* The file's intake wins over the model's; its internal categories
     * still go to internal IT. */
    json_t *eff = effective("fully_managed",
                            "{\"intake\": \"internal_it\", \"internal_categories\": [\"hr\"]}");

    assert_string_equal(msp_esc_intake_side(eff, "network"), "internal_it");
    json_decref(eff);
    eff = effective("staff_augmentation",
                    "{\"intake\": \"provider\", \"internal_categories\": [\"hr\"]}");
    assert_string_equal(msp_esc_intake_side(eff, "network"), "provider");
    assert_string_equal(msp_esc_intake_side(eff, "hr"), "internal_it");
    json_decref(eff);
}


/* ---- who receives ------------------------------------------------------- */

static void
side_of_each_role(void **state)
{
    (void) state;
    static const struct {
        const char *role, *side;
    } cases[] = {
        { "technician", "provider" }, { "lead", "provider" },
        { "account_manager", "provider" }, { "admin", "provider" },
        { "it_staff", "internal_it" }, { "it_leader", "internal_it" },
        { "requester", NULL }, { "auditor", NULL }, { "integration", NULL },
        { "root", NULL },
    };

    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        const char *side = msp_esc_side_of(cases[c].role);

        if (cases[c].side == NULL) {
            assert_null(side);
        } else {
            assert_non_null(side);
            assert_string_equal(side, cases[c].side);
        }
    }
    assert_null(msp_esc_side_of(NULL));
}

/*
 * README, "Who receives": provider:L* any provider lead or admin, or a
 * technician assigned at that tier or above (or with no tier);
 * internal_it the tenant's it_staff and it_leader; vendor the staff of
 * the side that sent it; hierarchical ones the role named (admin may act
 * for any provider role).
 */
static void
who_may_accept_or_reject(void **state)
{
    (void) state;
    static const struct {
        const char *role, *tier, *kind, *target, *from;
        int         may;
    } cases[] = {
        { "technician",      "L1", "functional",   "provider:L2",   "provider",    0 },
        { "technician",      "L2", "functional",   "provider:L2",   "provider",    1 },
        { "technician",      "L3", "functional",   "provider:L2",   "provider",    1 },
        { "technician",      NULL, "functional",   "provider:L3",   "provider",    1 },
        { "lead",            "L1", "functional",   "provider:L3",   "provider",    1 },
        { "lead",            NULL, "functional",   "provider:L3",   "provider",    1 },
        { "admin",           NULL, "functional",   "provider:L3",   "provider",    1 },
        { "account_manager", NULL, "functional",   "provider:L2",   "provider",    0 },
        { "it_leader",       NULL, "functional",   "provider:L2",   "provider",    0 },
        { "technician",      "L1", "handoff",      "provider:L1",   "internal_it", 1 },
        { "technician",      "L2", "handoff",      "provider:L3",   "internal_it", 0 },
        { "it_staff",        NULL, "handoff",      "provider:L1",   "internal_it", 0 },
        { "requester",       NULL, "handoff",      "provider:L1",   "internal_it", 0 },
        { "it_staff",        NULL, "handoff",      "internal_it",   "provider",    1 },
        { "it_leader",       NULL, "handoff",      "internal_it",   "provider",    1 },
        { "technician",      NULL, "handoff",      "internal_it",   "provider",    0 },
        { "admin",           NULL, "handoff",      "internal_it",   "provider",    0 },
        { "technician",      "L1", "handoff",      "vendor",        "provider",    1 },
        { "lead",            NULL, "handoff",      "vendor",        "provider",    1 },
        { "it_staff",        NULL, "handoff",      "vendor",        "provider",    0 },
        { "it_staff",        NULL, "handoff",      "vendor",        "internal_it", 1 },
        { "it_leader",       NULL, "handoff",      "vendor",        "internal_it", 1 },
        { "technician",      NULL, "handoff",      "vendor",        "internal_it", 0 },
        { "admin",           NULL, "handoff",      "vendor",        "internal_it", 0 },
        { "lead",            NULL, "hierarchical", "provider:lead", "provider",    1 },
        { "admin",           NULL, "hierarchical", "provider:lead", "internal_it", 1 },
        { "technician",      NULL, "hierarchical", "provider:lead", "provider",    0 },
        { "account_manager", NULL, "hierarchical", "provider:lead", "provider",    0 },
        { "account_manager", NULL, "hierarchical", "provider:account_manager", "provider", 1 },
        { "admin",           NULL, "hierarchical", "provider:account_manager", "provider", 1 },
        { "lead",            NULL, "hierarchical", "provider:account_manager", "provider", 0 },
        { "it_leader",       NULL, "hierarchical", "internal_it:it_leader", "provider", 1 },
        { "it_staff",        NULL, "hierarchical", "internal_it:it_leader", "provider", 0 },
        { "admin",           NULL, "hierarchical", "internal_it:it_leader", "provider", 0 },
    };

    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        const char *why = NULL;
        int may = msp_esc_may_decide(cases[c].role, cases[c].tier, cases[c].kind,
                                     cases[c].target, cases[c].from, &why);

        if (may != cases[c].may) {
            fail_msg("%s (tier %s) deciding a %s to %s from %s: expected %d, got %d",
                     cases[c].role, cases[c].tier ? cases[c].tier : "none", cases[c].kind,
                     cases[c].target, cases[c].from, cases[c].may, may);
        }
        if (!may && (why == NULL || why[0] == '\0')) {
            fail_msg("%s deciding a %s to %s: refused without a reason", cases[c].role,
                     cases[c].kind, cases[c].target);
        }
    }
}


int
main(void)
{
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(targets_belong_to_their_kind),
        cmocka_unit_test(targets_split_into_side_tier_and_role),
        cmocka_unit_test(default_intake_per_model),
        cmocka_unit_test(unknown_model_has_no_policy),
        cmocka_unit_test(defaults_are_valid_tenant_file_rules),
        cmocka_unit_test(effective_policy_from_the_model),
        cmocka_unit_test(effective_policy_from_the_tenant_file),
        cmocka_unit_test(intake_side_of_new_tickets),
        cmocka_unit_test(side_of_each_role),
        cmocka_unit_test(who_may_accept_or_reject),
    };
    /* One test per model's defaults, named after the model. */
    struct CMUnitTest tests[ARRAY_LEN(fixed) + ARRAY_LEN(models)];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_LEN(models); i++) {
        tests[n++] = (struct CMUnitTest) {
            .name = models[i].model,
            .test_func = defaults_match_the_readme,
            .initial_state = (void *) &models[i],
        };
    }
    for (size_t i = 0; i < ARRAY_LEN(fixed); i++) {
        tests[n++] = fixed[i];
    }
    return cmocka_run_group_tests_name("escalation_policy", tests, NULL, NULL);
}
