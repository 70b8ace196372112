/*
 * test_sla_clock.c - replaying a ticket's history into its SLA clocks
 * (services/sla/clock.h): pauses, the first response, resolve and reopen,
 * priority changes, held time per side and the provider's by tier, announced thresholds, and the
 * snapshot extended to the present.  Each expectation is worked out in
 * the comment above it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sla/clock.h"

#define SHA "0000000000000000000000000000000000000000000000000000000000000001"
#define SHA_HOURS "0000000000000000000000000000000000000000000000000000000000000002"
#define SHA_STEPS "0000000000000000000000000000000000000000000000000000000000000003"

static const char *const policy =
    "{\"priorities\": {"
    " \"P1\": {\"first_response_minutes\": 15, \"resolution_minutes\": 60},"
    " \"P2\": {\"first_response_minutes\": 60, \"resolution_minutes\": 240},"
    " \"P3\": {\"first_response_minutes\": 120, \"resolution_minutes\": 480},"
    " \"P4\": {\"first_response_minutes\": 480, \"resolution_minutes\": 2400}},"
    " \"warning_thresholds\": [50, 75, 90],"
    " \"pause_statuses\": [\"pending_customer\", \"pending_vendor\"]}";

#define DAY_24 "[{\"start\": \"00:00\", \"end\": \"24:00\"}]"
#define DAY_9_17 "[{\"start\": \"09:00\", \"end\": \"17:00\"}]"

static const msp_sla_config_t *
around_the_clock(void)
{
    char err[160];
    msp_tenant_columns_t doc = { .sha = SHA, .timezone = "UTC", .calendar =
        "{\"monday\": " DAY_24 ", \"tuesday\": " DAY_24 ", \"wednesday\": " DAY_24 ","
        " \"thursday\": " DAY_24 ", \"friday\": " DAY_24 ", \"saturday\": " DAY_24 ","
        " \"sunday\": " DAY_24 "}", .holidays = "[]", .sla_policy = policy };
    const msp_sla_config_t *cfg = msp_sla_config_load(&doc, err, sizeof(err));
    assert_non_null(cfg);
    return cfg;
}

static const msp_sla_config_t *
office_hours(void)
{
    char err[160];
    msp_tenant_columns_t doc = { .sha = SHA_HOURS, .timezone = "America/New_York", .calendar =
        "{\"monday\": " DAY_9_17 ", \"tuesday\": " DAY_9_17 ", \"wednesday\": " DAY_9_17 ","
        " \"thursday\": " DAY_9_17 ", \"friday\": " DAY_9_17 ", \"saturday\": [],"
        " \"sunday\": []}", .holidays = "[]", .sla_policy = policy };
    const msp_sla_config_t *cfg = msp_sla_config_load(&doc, err, sizeof(err));
    assert_non_null(cfg);
    return cfg;
}

/* 2026-11-23 00:00:00 UTC, a Monday. */
#define T0 1795392000LL

static json_t *
history(const char *text)
{
    json_error_t e;
    json_t *h = json_loads(text, 0, &e);
    assert_non_null(h);
    return h;
}

/*
 * 24x7 UTC, P2 (response 3600 s, resolution 14400 s):
 *   0     created (provider)
 *   600   pending_customer        clocks pause, the customer holds it
 *   1200  in_progress
 *   1500  public reply by staff   response met
 *   3000  resolved                resolution stops
 *   4000  reopened (in_progress)  resolution resumes
 *   now = 5000
 * Response: 600 + 300 = 900 elapsed, stopped at 1500, met; due as it stood
 *   then: 1500 + (3600 - 900) = 4200.
 * Resolution: 600 + 1800 + 1000 = 3400, running; due 5000 + 11000 = 16000.
 * Held: provider 600 + 1800 + 1000 = 3400, customer 600, none while resolved.
 * Pending: resolution 50% (7200) at 5000 + 3800 = 8800, 75% (10800) at
 *   12400, 90% (12960) at 14560, 100% at 16000; nothing for response.
 */
static void
test_pause_reply_resolve_reopen(void **state)
{
    (void) state;
    char text[1024];
    snprintf(text, sizeof(text),
        "[[%lld, \"created\", \"new\", \"provider\", \"P2\", false, null, null],"
        " [%lld, \"updated\", \"pending_customer\", null, null, false, null, null],"
        " [%lld, \"updated\", \"in_progress\", null, null, false, null, null],"
        " [%lld, \"comment\", null, null, null, true, null, null],"
        " [%lld, \"updated\", \"resolved\", null, null, false, null, null],"
        " [%lld, \"updated\", \"in_progress\", null, null, false, null, null]]",
        T0, T0 + 600, T0 + 1200, T0 + 1500, T0 + 3000, T0 + 4000);
    json_t *h = history(text);
    msp_sla_snapshot_t s;
    assert_int_equal(msp_sla_replay(around_the_clock(), h, T0 + 5000, &s, NULL), 0);

    const msp_sla_clock_t *r = &s.clock[MSP_CLOCK_RESPONSE];
    assert_int_equal(r->elapsed, 900);
    assert_int_equal(r->stopped_at, T0 + 1500);
    assert_int_equal(r->due, T0 + 4200);
    assert_false(r->running);

    const msp_sla_clock_t *k = &s.clock[MSP_CLOCK_RESOLUTION];
    assert_int_equal(k->target, 14400);
    assert_int_equal(k->elapsed, 3400);
    assert_true(k->running);
    assert_int_equal(k->stopped_at, MSP_NO_TIME);
    assert_int_equal(k->due, T0 + 16000);

    assert_int_equal(s.held[MSP_SIDE_PROVIDER], 3400);
    assert_int_equal(s.held[MSP_SIDE_CUSTOMER], 600);
    assert_int_equal(s.held[MSP_SIDE_VENDOR], 0);
    assert_int_equal(s.holder, MSP_SIDE_PROVIDER);

    assert_int_equal(s.npending, 4);
    const int64_t at[4] = { T0 + 8800, T0 + 12400, T0 + 14560, T0 + 16000 };
    const int thresholds[4] = { 50, 75, 90, 100 };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s.pending[i].clock, MSP_CLOCK_RESOLUTION);
        assert_int_equal(s.pending[i].threshold, thresholds[i]);
        assert_int_equal(s.pending[i].at, at[i]);
    }
    assert_int_equal(msp_sla_breach_at(&s), T0 + 16000);
    json_decref(h);
}

/*
 * P4 (response 28800 s) for 1000 s, then P1 (response 900 s): the 1000 s
 * already elapsed stay and exceed the new target, so the response clock is
 * breached; it reached 900 s at T0 + 900, which is its due.  Its 50% (450)
 * was announced already; 75%, 90% and 100% are due at once, each at the
 * instant it was reached: 675, 810 and 900.
 */
static void
test_priority_change_keeps_elapsed(void **state)
{
    (void) state;
    char text[1024];
    snprintf(text, sizeof(text),
        "[[%lld, \"created\", \"new\", \"provider\", \"P4\", false, null, null],"
        " [%lld, \"sla_warning\", null, null, null, false, \"response\", 50],"
        " [%lld, \"updated\", null, null, \"P1\", false, null, null]]",
        T0, T0 + 500, T0 + 1000);
    json_t *h = history(text);
    msp_sla_snapshot_t s;
    assert_int_equal(msp_sla_replay(around_the_clock(), h, T0 + 1000, &s, NULL), 0);
    const msp_sla_clock_t *r = &s.clock[MSP_CLOCK_RESPONSE];
    assert_int_equal(r->target, 900);
    assert_int_equal(r->elapsed, 1000);
    assert_int_equal(r->due, T0 + 900);

    int found = 0;
    for (int i = 0; i < s.npending; i++) {
        if (s.pending[i].clock == MSP_CLOCK_RESPONSE) {
            assert_int_not_equal(s.pending[i].threshold, 50);
            found++;
        }
    }
    assert_int_equal(found, 3);
    assert_int_equal(s.pending[0].at, T0 + 675);

    json_t *stored = msp_sla_snapshot_json(&s);
    json_t *view = msp_sla_view(stored, around_the_clock(), T0 + 1000);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(view, "response"), "state")), "breached");
    json_decref(view);
    json_decref(stored);
    json_decref(h);
}

/*
 * Office hours 09:00-17:00 Monday to Friday in New York.  Created Friday
 * 2026-11-20 16:30 EST (21:30 UTC) as P2 (response 60 min): 30 minutes
 * count on Friday, the other 30 on Monday from 09:00, so the response is
 * due Monday 2026-11-23 09:30 EST = 14:30 UTC.  Held time over the weekend
 * is zero: it is not working time.
 */
static void
test_created_late_on_friday(void **state)
{
    (void) state;
    const int64_t created = 1795210200LL;      /* 2026-11-20T21:30:00Z */
    char text[256];
    snprintf(text, sizeof(text),
             "[[%lld, \"created\", \"new\", \"provider\", \"P2\", false, null, null]]",
             (long long) created);
    json_t *h = history(text);
    msp_sla_snapshot_t s;
    /* Sunday noon UTC: 30 minutes elapsed. */
    assert_int_equal(msp_sla_replay(office_hours(), h, created + 2 * 86400, &s, NULL), 0);
    assert_int_equal(s.clock[MSP_CLOCK_RESPONSE].elapsed, 1800);
    assert_int_equal(s.clock[MSP_CLOCK_RESPONSE].due, 1795444200LL);  /* 2026-11-23T14:30Z */
    assert_int_equal(s.held[MSP_SIDE_PROVIDER], 1800);

    /* Extended to Monday 10:00 EST (15:00 UTC): 30 + 60 minutes. */
    json_t *stored = msp_sla_snapshot_json(&s);
    json_t *view = msp_sla_view(stored, office_hours(), 1795446000LL);
    json_t *resp = json_object_get(view, "response");
    assert_int_equal(json_integer_value(json_object_get(resp, "elapsed_seconds")), 5400);
    assert_string_equal(json_string_value(json_object_get(resp, "state")), "breached");
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(view, "held_seconds"), "provider")), 5400);
    json_decref(view);
    json_decref(stored);
    json_decref(h);
}

/* Paused: no due, nothing pending, and the view does not grow. */
static void
test_paused_clock_has_no_due(void **state)
{
    (void) state;
    char text[512];
    snprintf(text, sizeof(text),
        "[[%lld, \"created\", \"new\", \"provider\", \"P2\", false, null, null],"
        " [%lld, \"updated\", \"pending_vendor\", null, null, false, null, null]]",
        T0, T0 + 100);
    json_t *h = history(text);
    msp_sla_snapshot_t s;
    assert_int_equal(msp_sla_replay(around_the_clock(), h, T0 + 1000, &s, NULL), 0);
    assert_int_equal(s.clock[MSP_CLOCK_RESOLUTION].due, MSP_NO_TIME);
    assert_int_equal(s.npending, 0);
    assert_int_equal(msp_sla_breach_at(&s), MSP_NO_TIME);
    assert_int_equal(s.held[MSP_SIDE_VENDOR], 900);
    json_t *stored = msp_sla_snapshot_json(&s);
    json_t *view = msp_sla_view(stored, around_the_clock(), T0 + 5000);
    json_t *res = json_object_get(view, "resolution");
    assert_string_equal(json_string_value(json_object_get(res, "state")), "paused");
    assert_int_equal(json_integer_value(json_object_get(res, "elapsed_seconds")), 100);
    /* ... but the vendor's held time does. */
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(view, "held_seconds"), "vendor")), 4900);
    json_decref(view);
    json_decref(stored);
    json_decref(h);
}

/* A history that does not begin with its creation is refused. */
/* The provider's held time by tier: 100 s with no tier, 200 s at L1, 300 s
 * with internal IT (the provider's tiers stand still), 400 s at L2 after
 * it came back, then 500 s with the tier cleared; resolved at T0 + 1500. */
static void
test_provider_time_is_kept_by_tier(void **state)
{
    (void) state;
    char text[1024];
    snprintf(text, sizeof(text),
        "[[%lld, \"created\", \"new\", \"provider\", \"P2\", false, null, null, \"\"],"
        " [%lld, \"escalated\", null, null, null, false, null, null, \"L1\"],"
        " [%lld, \"escalated\", null, \"internal_it\", null, false, null, null, \"\"],"
        " [%lld, \"escalated\", null, \"provider\", null, false, null, null, \"L2\"],"
        " [%lld, \"updated\", null, null, null, false, null, null, \"\"],"
        " [%lld, \"updated\", \"resolved\", null, null, false, null, null]]",
        T0, T0 + 100, T0 + 300, T0 + 600, T0 + 1000, T0 + 1500);
    json_t *h = history(text);
    msp_sla_snapshot_t s;
    assert_int_equal(msp_sla_replay(around_the_clock(), h, T0 + 2000, &s, NULL), 0);
    assert_int_equal(s.held[MSP_SIDE_PROVIDER], 1200);
    assert_int_equal(s.held[MSP_SIDE_INTERNAL_IT], 300);
    assert_int_equal(s.held_tier[MSP_TIER_NONE], 600);
    assert_int_equal(s.held_tier[MSP_TIER_L1], 200);
    assert_int_equal(s.held_tier[MSP_TIER_L2], 400);
    assert_int_equal(s.held_tier[MSP_TIER_L3], 0);
    json_t *stored = msp_sla_snapshot_json(&s);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(stored, "held_provider_tier"), "L2")), 400);
    json_decref(stored);
    json_decref(h);
}

static void
test_history_must_begin_with_creation(void **state)
{
    (void) state;
    json_t *h = history("[[1, \"updated\", \"in_progress\", null, null, false, null, null]]");
    msp_sla_snapshot_t s;
    assert_int_equal(msp_sla_replay(around_the_clock(), h, 10, &s, NULL), -1);
    json_decref(h);
    h = history("[]");
    assert_int_equal(msp_sla_replay(around_the_clock(), h, 10, &s, NULL), -1);
    json_decref(h);
}

/*
 * The escalation policy's automatic steps are announced on the resolution
 * clock only, besides the warnings: 24x7 UTC, P1 (response 900 s,
 * resolution 3600 s), notify the lead at 60%, escalate a tier at 80%,
 * acknowledgement within 30 minutes; created at T0, now = T0.
 * Response: 50% at 450, 75% at 675, 90% at 810, 100% at 900.
 * Resolution: 50% at 1800, 60% at 2160, 75% at 2700, 80% at 2880 (its
 *   escalation to be accepted by 2880 + 1800 = 4680), 90% at 3240, 100%
 *   at 3600.
 */
static void
test_escalation_steps_are_announced_on_resolution(void **state)
{
    (void) state;
    char err[160];
    msp_tenant_columns_t doc = { .sha = SHA_STEPS, .timezone = "UTC", .calendar =
        "{\"monday\": " DAY_24 ", \"tuesday\": " DAY_24 ", \"wednesday\": " DAY_24 ","
        " \"thursday\": " DAY_24 ", \"friday\": " DAY_24 ", \"saturday\": " DAY_24 ","
        " \"sunday\": " DAY_24 "}", .holidays = "[]", .sla_policy = policy,
        .model = "co_managed", .escalation_policy =
        "{\"acknowledgement_minutes\": 30, \"internal_categories\": [],"
        " \"automatic\": {\"notify_lead_at_percent\": 60, \"escalate_tier_at_percent\": 80,"
        " \"hierarchical_on_breach\": true}}" };
    const msp_sla_config_t *cfg = msp_sla_config_load(&doc, err, sizeof(err));
    assert_non_null(cfg);
    assert_non_null(cfg->escalation);
    assert_int_equal(cfg->steps.ack_seconds, 1800);

    char text[256];
    snprintf(text, sizeof(text),
             "[[%lld, \"created\", \"new\", \"provider\", \"P1\", false, null, null]]", T0);
    json_t *h = history(text);
    msp_sla_snapshot_t s;
    assert_int_equal(msp_sla_replay(cfg, h, T0, &s, NULL), 0);
    json_decref(h);

    static const struct { int clock, threshold; int64_t at, ack; } want[] = {
        { MSP_CLOCK_RESPONSE, 50, 450, 0 },     { MSP_CLOCK_RESPONSE, 75, 675, 0 },
        { MSP_CLOCK_RESPONSE, 90, 810, 0 },     { MSP_CLOCK_RESPONSE, 100, 900, 0 },
        { MSP_CLOCK_RESOLUTION, 50, 1800, 0 },  { MSP_CLOCK_RESOLUTION, 60, 2160, 0 },
        { MSP_CLOCK_RESOLUTION, 75, 2700, 0 },  { MSP_CLOCK_RESOLUTION, 80, 2880, 4680 },
        { MSP_CLOCK_RESOLUTION, 90, 3240, 0 },  { MSP_CLOCK_RESOLUTION, 100, 3600, 0 },
    };
    assert_int_equal(s.npending, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(s.pending[i].clock, want[i].clock);
        assert_int_equal(s.pending[i].threshold, want[i].threshold);
        assert_int_equal(s.pending[i].at, T0 + want[i].at);
        assert_int_equal(s.pending[i].ack_due, want[i].ack ? T0 + want[i].ack : MSP_NO_TIME);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_reply_resolve_reopen),
        cmocka_unit_test(test_priority_change_keeps_elapsed),
        cmocka_unit_test(test_created_late_on_friday),
        cmocka_unit_test(test_paused_clock_has_no_due),
        cmocka_unit_test(test_provider_time_is_kept_by_tier),
        cmocka_unit_test(test_history_must_begin_with_creation),
        cmocka_unit_test(test_escalation_steps_are_announced_on_resolution),
    };
    return cmocka_run_group_tests_name("sla clock", tests, NULL, NULL);
}
