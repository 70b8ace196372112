/*
 * test_ticket_rules.c - priority matrix, lifecycle, role permissions and
 * principals from claims.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/principal.h"
#include "tickets/ticket_rules.h"

static void
test_priority_matrix(void **state)
{
    (void) state;
    static const char *const expected[3][3] = {
        { "P1", "P2", "P3" }, { "P2", "P3", "P4" }, { "P3", "P4", "P4" },
    };
    for (int i = 0; i < 3; i++) {
        for (int u = 0; u < 3; u++) {
            assert_string_equal(msp_priority(msp_levels[i], msp_levels[u]), expected[i][u]);
        }
    }
    assert_null(msp_priority("critical", "high"));
    assert_null(msp_priority("high", NULL));
}

static void
test_lifecycle(void **state)
{
    (void) state;
    const char *why = NULL;
    /* Every status may stay as it is. */
    for (int i = 0; msp_statuses[i]; i++) {
        assert_true(msp_status_transition_ok(msp_statuses[i], msp_statuses[i], &why));
    }
    assert_true(msp_status_transition_ok("new", "assigned", &why));
    assert_true(msp_status_transition_ok("new", "resolved", &why));
    assert_true(msp_status_transition_ok("in_progress", "pending_vendor", &why));
    assert_true(msp_status_transition_ok("resolved", "in_progress", &why));  /* reopen */
    assert_true(msp_status_transition_ok("resolved", "closed", &why));

    assert_false(msp_status_transition_ok("assigned", "new", &why));
    assert_non_null(strstr(why, "back to new"));
    assert_false(msp_status_transition_ok("in_progress", "closed", &why));
    assert_non_null(strstr(why, "resolved"));
    assert_false(msp_status_transition_ok("closed", "in_progress", &why));
    assert_non_null(strstr(why, "final"));
    assert_false(msp_status_transition_ok("pending_customer", "pending_vendor", &why));
    assert_false(msp_status_transition_ok("resolved", "pending_customer", &why));
    assert_false(msp_status_transition_ok("new", "bogus", &why));

    assert_true(msp_status_is_open("pending_vendor"));
    assert_false(msp_status_is_open("resolved"));
    assert_false(msp_status_is_open("closed"));
}

static msp_principal_t
principal(const char *org, const char *role)
{
    msp_principal_t p;
    const char *why = NULL;
    assert_int_equal(msp_principal_from_claims(&p, "someone", NULL, org, role, &why), 0);
    return p;
}

static void
test_permissions(void **state)
{
    (void) state;
    msp_principal_t tech = principal("provider", "technician");
    msp_principal_t am = principal("provider", "account_manager");
    msp_principal_t staff = principal("acme", "it_staff");
    msp_principal_t requester = principal("acme", "requester");
    msp_principal_t auditor = principal("acme", "auditor");
    msp_principal_t machine = principal("provider", "integration");

    assert_true(msp_can_create_ticket(&requester));
    assert_true(msp_can_create_ticket(&machine));
    assert_false(msp_can_create_ticket(&auditor));

    assert_true(msp_can_update_ticket(&tech));
    assert_true(msp_can_update_ticket(&staff));
    assert_false(msp_can_update_ticket(&requester));
    assert_false(msp_can_update_ticket(&am));
    assert_false(msp_can_update_ticket(&auditor));

    assert_true(msp_can_comment(&requester, "public"));
    assert_false(msp_can_comment(&requester, "staff"));
    assert_false(msp_can_comment(&requester, "provider"));
    assert_false(msp_can_comment(&machine, "staff"));
    assert_true(msp_can_comment(&staff, "staff"));
    assert_false(msp_can_comment(&staff, "provider"));
    assert_true(msp_can_comment(&tech, "provider"));
    assert_true(msp_can_comment(&am, "provider"));
    assert_false(msp_can_comment(&machine, "provider"));
    assert_false(msp_can_comment(&auditor, "public"));

    assert_true(msp_sees_own_tickets_only(&requester));
    assert_false(msp_sees_own_tickets_only(&staff));
    assert_false(msp_sees_staff_level(&requester));
    assert_true(msp_sees_staff_level(&auditor));
    assert_false(msp_sees_provider_level(&auditor));
    assert_false(msp_sees_provider_level(&staff));
    assert_true(msp_sees_provider_level(&am));
}

static void
test_principal_claims(void **state)
{
    (void) state;
    msp_principal_t p;
    const char *why = NULL;

    assert_int_equal(msp_principal_from_claims(&p, "a", "Ann", "provider", "lead", &why), 0);
    assert_true(p.is_provider);
    assert_string_equal(p.name, "Ann");
    assert_int_equal(msp_principal_from_claims(&p, "b", NULL, "acme", "it_leader", &why), 0);
    assert_false(p.is_provider);
    assert_string_equal(p.name, "b");

    struct { const char *sub, *org, *role, *claim; } bad[] = {
        { NULL, "acme", "it_staff", "sub" },
        { "", "acme", "it_staff", "sub" },
        { "a\nb", "acme", "it_staff", "sub" },
        { "a", NULL, "it_staff", "msp_org" },
        { "a", "Acme", "it_staff", "msp_org" },
        { "a", "acme; drop", "it_staff", "msp_org" },
        { "a", "acme", "admin", "msp_role" },         /* a provider role */
        { "a", "provider", "it_staff", "msp_role" },  /* a tenant role */
        { "a", "acme", NULL, "msp_role" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(msp_principal_from_claims(&p, bad[i].sub, NULL, bad[i].org,
                                                   bad[i].role, &why), -1);
        assert_non_null(why);
        assert_non_null(strstr(why, bad[i].claim));
    }
    char long_sub[300];
    memset(long_sub, 'x', sizeof(long_sub) - 1);
    long_sub[sizeof(long_sub) - 1] = '\0';
    assert_int_equal(msp_principal_from_claims(&p, long_sub, NULL, "acme", "it_staff", &why),
                     -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_matrix),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_principal_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
