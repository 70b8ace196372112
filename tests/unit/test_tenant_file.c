/*
 * test_tenant_file.c - the tenant file validator and normalizer.
 *
 * The demo tenants must be valid.  Every invalid case is a small merge
 * patch (RFC 7386: objects merge, null deletes, anything else replaces)
 * applied to one valid base tenant, and must be rejected with an error
 * under the expected JSON path; test_base_tenant_is_valid guarantees that
 * the patch, not the base, is what the validator objects to.
 *
 * Run from the repository root: the demo files are read from tenants/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenants/tenant_file.h"

/* Asset tags of the longest length a service may name, and one more. */
#define TAG64 "T234567890123456789012345678901234567890123456789012345678901234"
#define TAG65 TAG64 "5"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define EN_DASH "\xe2\x80\x93"

static const char base_tenant[] =
    "{"
    "  \"slug\": \"test-co\","
    "  \"name\": \"Test Co\","
    "  \"timezone\": \"UTC\","
    "  \"co_management_model\": \"co_managed\","
    "  \"calendar\": {"
    "    \"monday\":  [{\"start\": \"08:00\", \"end\": \"12:00\"},"
    "                  {\"start\": \"13:00\", \"end\": \"17:00\"}],"
    "    \"tuesday\": [{\"start\": \"08:00\", \"end\": \"17:00\"}]"
    "  },"
    "  \"holidays\": ["
    "    {\"date\": \"2026-12-24\", \"name\": \"Christmas Eve\","
    "     \"hours\": [{\"start\": \"08:00\", \"end\": \"12:00\"}]},"
    "    {\"date\": \"2026-12-25\", \"name\": \"Christmas Day\"}"
    "  ],"
    "  \"sla_policy\": {"
    "    \"priorities\": {"
    "      \"P1\": {\"first_response_minutes\": 30,  \"resolution_minutes\": 240},"
    "      \"P2\": {\"first_response_minutes\": 60,  \"resolution_minutes\": 480},"
    "      \"P3\": {\"first_response_minutes\": 240, \"resolution_minutes\": 1440},"
    "      \"P4\": {\"first_response_minutes\": 480, \"resolution_minutes\": 4320}"
    "    }"
    "  },"
    "  \"contract\": {\"monthly_fee\": 100, \"hourly_rate\": 50.5,"
    "               \"currency\": \"USD\"}"
    "}";

#define BASE_SLUG "test-co"


/* ---- helpers ---------------------------------------------------------- */

static json_t *
parse_json(const char *text)
{
    json_error_t error;
    /* NUL is allowed so that the validator's own defence can be tested. */
    json_t *doc = json_loads(text, JSON_ALLOW_NUL, &error);

    if (doc == NULL) {
        fail_msg("bad test JSON at line %d: %s", error.line, error.text);
    }
    return doc;
}

static void
merge_patch(json_t *target, const json_t *patch)
{
    const char *key;
    json_t *value;

    json_object_foreach((json_t *) patch, key, value) {
        json_t *current = json_object_get(target, key);

        if (json_is_null(value)) {
            json_object_del(target, key);
        } else if (json_is_object(value) && json_is_object(current)) {
            merge_patch(current, value);
        } else {
            json_object_set(target, key, value);
        }
    }
}

/* The base tenant with patch applied. */
static json_t *
patched_tenant(const char *patch_text)
{
    json_t *doc = parse_json(base_tenant);
    json_t *patch = parse_json(patch_text);

    merge_patch(doc, patch);
    json_decref(patch);
    return doc;
}

static void
print_errors(const msp_errors_t *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        print_message("  %s: %s\n", errs->items[i].field, errs->items[i].message);
    }
}

static const msp_field_error_t *
find_error(const msp_errors_t *errs, const char *field)
{
    for (size_t i = 0; i < errs->n; i++) {
        if (strcmp(errs->items[i].field, field) == 0) {
            return &errs->items[i];
        }
    }
    return NULL;
}

static void
assert_has_error(const msp_errors_t *errs, const char *field,
                 const char *message_part)
{
    const msp_field_error_t *e = find_error(errs, field);

    if (e == NULL) {
        print_errors(errs);
        fail_msg("no error for field '%s'", field);
    }
    if (message_part != NULL && strstr(e->message, message_part) == NULL) {
        fail_msg("error for '%s' is \"%s\", expected it to contain \"%s\"",
                 field, e->message, message_part);
    }
}

static void
assert_valid(const json_t *doc, const char *slug)
{
    msp_errors_t errs = { 0 };
    int rc = msp_tenant_validate(doc, slug, &errs);

    if (rc != 0 || msp_errors_any(&errs)) {
        print_errors(&errs);
        fail_msg("expected a valid tenant, got %zu errors", errs.n);
    }
}

static void
assert_patch_valid(const char *patch)
{
    json_t *doc = patched_tenant(patch);

    assert_valid(doc, BASE_SLUG);
    json_decref(doc);
}


/* ---- the demo tenants ------------------------------------------------- */

static void
check_demo_tenant(const char *slug)
{
    char path[64];
    json_error_t error;

    snprintf(path, sizeof(path), "tenants/%s.json", slug);

    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &error);

    if (doc == NULL) {
        fail_msg("%s:%d: %s", path, error.line, error.text);
    }
    assert_valid(doc, slug);

    /* Normalizing keeps it valid, and a second pass changes nothing. */
    json_t *once = msp_tenant_normalize(doc);
    assert_non_null(once);
    assert_valid(once, slug);

    json_t *twice = msp_tenant_normalize(once);
    assert_non_null(twice);
    assert_true(json_equal(once, twice));

    json_decref(twice);
    json_decref(once);
    json_decref(doc);
}

static void test_demo_acme(void **state)    { (void) state; check_demo_tenant("acme"); }
static void test_demo_globex(void **state)  { (void) state; check_demo_tenant("globex"); }
static void test_demo_initech(void **state) { (void) state; check_demo_tenant("initech"); }


/* ---- valid documents -------------------------------------------------- */

static void
test_base_tenant_is_valid(void **state)
{
    (void) state;
    json_t *doc = parse_json(base_tenant);

    assert_valid(doc, BASE_SLUG);
    assert_valid(doc, NULL);     /* no file name to compare with */
    json_decref(doc);
}

static void
test_valid_variants(void **state)
{
    (void) state;
    /* Touching windows share no minute. */
    assert_patch_valid("{\"calendar\": {\"monday\": ["
                       "{\"start\": \"08:00\", \"end\": \"12:00\"},"
                       "{\"start\": \"12:00\", \"end\": \"17:00\"}]}}");
    /* 24x7: every day 00:00-24:00. */
    assert_patch_valid("{\"calendar\": {"
                       "\"monday\":    [{\"start\": \"00:00\", \"end\": \"24:00\"}],"
                       "\"tuesday\":   [{\"start\": \"00:00\", \"end\": \"24:00\"}],"
                       "\"wednesday\": [{\"start\": \"00:00\", \"end\": \"24:00\"}],"
                       "\"thursday\":  [{\"start\": \"00:00\", \"end\": \"24:00\"}],"
                       "\"friday\":    [{\"start\": \"00:00\", \"end\": \"24:00\"}],"
                       "\"saturday\":  [{\"start\": \"00:00\", \"end\": \"24:00\"}],"
                       "\"sunday\":    [{\"start\": \"00:00\", \"end\": \"24:00\"}]}}");
    /* A window crossing midnight, written as two. */
    assert_patch_valid("{\"calendar\": {"
                       "\"monday\":  [{\"start\": \"22:00\", \"end\": \"24:00\"}],"
                       "\"tuesday\": [{\"start\": \"00:00\", \"end\": \"06:00\"}]}}");
    /* Leap days. */
    assert_patch_valid("{\"holidays\": [{\"date\": \"2028-02-29\", \"name\": \"Leap\"}]}");
    assert_patch_valid("{\"holidays\": [{\"date\": \"2000-02-29\", \"name\": \"Leap\"}]}");
    /* The shortest and the longest slug. */
    json_t *doc = patched_tenant("{\"slug\": \"a1\"}");
    assert_valid(doc, "a1");
    json_decref(doc);
    doc = patched_tenant("{\"slug\": \"abcdefghij-bcdefghij-bcdefghij1\"}");
    assert_valid(doc, "abcdefghij-bcdefghij-bcdefghij1");
    json_decref(doc);
    /* Every optional field set. */
    assert_patch_valid("{\"ticket_prefix\": \"TC2\","
                       " \"name\": \"Zoë & Søn A/S\","
                       " \"sla_policy\": {\"warning_thresholds\": [1, 99],"
                       "                  \"pause_statuses\": [\"pending_vendor\"]},"
                       " \"escalation_policy\": {\"acknowledgement_minutes\": 15,"
                       "   \"internal_categories\": [\"printing\", \"a\"],"
                       "   \"automatic\": {\"notify_lead_at_percent\": 1,"
                       "                   \"escalate_tier_at_percent\": 100,"
                       "                   \"hierarchical_on_breach\": false}},"
                       " \"contract\": {\"start_date\": \"2026-01-01\","
                       "              \"term_months\": 120, \"monthly_fee\": 0},"
                       " \"reporting\": {\"recurrence_days\": 365, \"reopen_days\": 90,"
                       " \"satisfaction_days\": 90, \"pack_settle_hours\": 720}}");
    assert_patch_valid("{\"reporting\": {\"pack_settle_hours\": 0}}");
    assert_patch_valid("{\"assets\": {\"patch_window_days\": 1, \"refresh_age_months\": 240,"
                       " \"custom_fields\": {\"cost_center\": {\"type\": \"text\","
                       " \"max_length\": 20, \"required\": true},"
                       " \"ram_gb\": {\"type\": \"integer\", \"min\": 1, \"max\": 1024},"
                       " \"leased\": {\"type\": \"boolean\"}, \"lease_end\": {\"type\": \"date\"},"
                       " \"tier\": {\"type\": \"choice\", \"choices\": [\"a\", \"b\"]}}}}");
    assert_patch_valid("{\"assets\": {\"services\": [{\"name\": \"Payroll\","
                       " \"criticality\": \"critical\", \"assets\": [\"SRV-PAY-01\", \"" TAG64 "\"]},"
                       " {\"name\": \"Intranet\", \"criticality\": \"low\", \"assets\": [\"S1\"]}],"
                       " \"service_priority\": {\"critical\": \"P1\", \"high\": \"P2\","
                       " \"medium\": \"P3\", \"low\": \"P4\"}}}");
    assert_patch_valid("{\"assets\": {\"services\": [], \"service_priority\": {}}}");
    assert_patch_valid("{\"contract\": {\"targets\": {\"response_attainment\": 0.95,"
                       " \"resolution_attainment\": 1, \"first_contact_resolution_rate\": 0,"
                       " \"reopen_rate\": 0.05, \"recurrence_rate\": 0.2,"
                       " \"satisfaction\": 4.5}}}");
    assert_patch_valid("{\"reporting\": {\"recurrence_days\": 1, \"reopen_days\": 1}}");
    assert_patch_valid("{\"contract\": {\"currency\": \"JPY\", \"included_hours\": 37.5,"
                       " \"supported_users\": 0}}");
    assert_patch_valid("{\"contract\": {\"currency\": \"KWD\", \"included_hours\": 100000,"
                       " \"supported_users\": 10000000}}");
}


/* ---- invalid documents ------------------------------------------------ */

typedef struct {
    const char *name;
    const char *patch;       /* merge patch applied to base_tenant */
    const char *field;       /* must be among the errors */
    const char *message;     /* a part of that error's message, or NULL */
    const char *file_slug;   /* expected_slug; NULL means BASE_SLUG */
} invalid_case_t;

#define TEXT_201 \
    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "x\""

#define MONDAY(windows) "{\"calendar\": {\"monday\": [" windows "]}}"
#define WINDOW(start, end) "{\"start\": \"" start "\", \"end\": \"" end "\"}"
#define PRIORITY(p, fields) "{\"sla_policy\": {\"priorities\": {\"" p "\": {" fields "}}}}"

static const invalid_case_t invalid_cases[] = {
    /* slug */
    { "slug with capitals", "{\"slug\": \"Test-co\"}", "slug", "lower-case", NULL },
    { "slug with a dot", "{\"slug\": \"test.co\"}", "slug", NULL, NULL },
    { "slug too short", "{\"slug\": \"t\"}", "slug", "2 to 31", NULL },
    { "slug too long", "{\"slug\": \"abcdefghijabcdefghijabcdefghijab\"}", "slug", "2 to 31", NULL },
    { "slug ends with hyphen", "{\"slug\": \"test-\"}", "slug", "end with '-'", NULL },
    { "slug with double hyphen", "{\"slug\": \"test--co\"}", "slug", "'--'", NULL },
    { "slug starts with digit", "{\"slug\": \"1test\"}", "slug", NULL, NULL },
    { "slug differs from file", "{}", "slug", "other.json", "other" },
    { "slug not a string", "{\"slug\": 7}", "slug", "must be a string", NULL },

    /* name */
    { "missing name", "{\"name\": null}", "name", "is required", NULL },
    { "empty name", "{\"name\": \"\"}", "name", "must not be empty", NULL },
    { "name too long", "{\"name\": " TEXT_201 "}", "name", "200 bytes", NULL },
    { "name with control character", "{\"name\": \"Test\\u0007Co\"}", "name", "control", NULL },
    { "name with newline", "{\"name\": \"Test\\nCo\"}", "name", "control", NULL },
    { "name not a string", "{\"name\": 42}", "name", "must be a string", NULL },

    /* unknown fields */
    { "unknown top-level field", "{\"colour\": \"red\"}", "colour", "unknown field", NULL },
    { "unknown field in a window", MONDAY("{\"start\": \"08:00\", \"end\": \"12:00\", \"lunch\": true}"),
      "calendar.monday[0].lunch", "unknown field", NULL },
    { "unknown day", "{\"calendar\": {\"funday\": []}}", "calendar.funday", "unknown field", NULL },
    { "unknown priority", PRIORITY("P5", "\"first_response_minutes\": 1, \"resolution_minutes\": 2"),
      "sla_policy.priorities.P5", "unknown field", NULL },
    { "unknown field in a priority", PRIORITY("P1", "\"update_minutes\": 60"),
      "sla_policy.priorities.P1.update_minutes", "unknown field", NULL },
    { "unknown field in contract", "{\"contract\": {\"discount\": 5}}", "contract.discount", "unknown field", NULL },
    { "unknown field in a holiday", "{\"holidays\": [{\"date\": \"2026-01-01\", \"name\": \"x\", \"closed\": true}]}",
      "holidays[0].closed", "unknown field", NULL },
    { "unknown field in automatic", "{\"escalation_policy\": {\"automatic\": {\"page_cto\": true}}}",
      "escalation_policy.automatic.page_cto", "unknown field", NULL },

    /* ticket prefix */
    { "lower-case ticket prefix", "{\"ticket_prefix\": \"tc\"}", "ticket_prefix", NULL, NULL },
    { "one-letter ticket prefix", "{\"ticket_prefix\": \"T\"}", "ticket_prefix", NULL, NULL },
    { "ticket prefix too long", "{\"ticket_prefix\": \"ABCDEFGHIJK\"}", "ticket_prefix", NULL, NULL },
    { "ticket prefix starts with digit", "{\"ticket_prefix\": \"1TC\"}", "ticket_prefix", NULL, NULL },

    /* timezone */
    { "unknown timezone", "{\"timezone\": \"Mars/Olympus\"}", "timezone",
      "unknown timezone 'Mars/Olympus'", NULL },
    { "timezone path traversal", "{\"timezone\": \"../../etc/passwd\"}", "timezone", "unknown timezone", NULL },
    { "absolute timezone path", "{\"timezone\": \"/etc/passwd\"}", "timezone", "unknown timezone", NULL },
    { "timezone directory", "{\"timezone\": \"Europe\"}", "timezone", "unknown timezone", NULL },
    { "timezone with embedded NUL", "{\"timezone\": \"UTC\\u0000x\"}", "timezone", "unknown timezone", NULL },
    { "missing timezone", "{\"timezone\": null}", "timezone", "is required", NULL },

    /* co-management model */
    { "bad model", "{\"co_management_model\": \"outsourced\"}", "co_management_model",
      "must be one of: fully_managed, co_managed, staff_augmentation, project, on_demand", NULL },
    { "model with trailing NUL", "{\"co_management_model\": \"co_managed\\u0000\"}",
      "co_management_model", "must be one of", NULL },

    /* calendar windows */
    { "window end before start", MONDAY(WINDOW("13:00", "12:00")), "calendar.monday[0].end",
      "consecutive days", NULL },
    { "window start equals end", MONDAY(WINDOW("09:00", "09:00")), "calendar.monday[0].end",
      "must be after start (09:00)", NULL },
    { "overlapping windows", MONDAY(WINDOW("08:00", "12:00") "," WINDOW("11:00", "14:00")),
      "calendar.monday[1]", "overlaps the window 08:00" EN_DASH "12:00", NULL },
    { "window inside another", MONDAY(WINDOW("13:00", "14:00") "," WINDOW("08:00", "18:00")),
      "calendar.monday[1]", "overlaps the window 13:00" EN_DASH "14:00", NULL },
    { "identical windows", MONDAY(WINDOW("08:00", "12:00") "," WINDOW("08:00", "12:00")),
      "calendar.monday[1]", "overlaps", NULL },
    { "24:00 as start", MONDAY(WINDOW("24:00", "24:00")), "calendar.monday[0].start",
      "only as an end", NULL },
    { "00:00 as end", MONDAY(WINDOW("00:00", "00:00")), "calendar.monday[0].end", NULL, NULL },
    { "time without leading zero", MONDAY(WINDOW("8:00", "12:00")), "calendar.monday[0].start",
      "HH:MM", NULL },
    { "hour 25", MONDAY(WINDOW("25:00", "26:00")), "calendar.monday[0].start", "not a time of day", NULL },
    { "minute 60", MONDAY(WINDOW("08:00", "12:60")), "calendar.monday[0].end", "not a time of day", NULL },
    { "24:30", MONDAY(WINDOW("08:00", "24:30")), "calendar.monday[0].end", "not a time of day", NULL },
    { "time with seconds", MONDAY(WINDOW("08:00:00", "12:00")), "calendar.monday[0].start", "HH:MM", NULL },
    { "time as number", MONDAY("{\"start\": 800, \"end\": \"12:00\"}"), "calendar.monday[0].start",
      "must be a string", NULL },
    { "missing window end", MONDAY("{\"start\": \"08:00\"}"), "calendar.monday[0].end", "is required", NULL },
    { "window as string", MONDAY("\"08:00-12:00\""), "calendar.monday[0]", "must be an object", NULL },
    { "day as object", "{\"calendar\": {\"monday\": {}}}", "calendar.monday", "must be an array", NULL },
    { "nine windows in a day",
      MONDAY(WINDOW("01:00", "02:00") "," WINDOW("03:00", "04:00") "," WINDOW("05:00", "06:00") ","
             WINDOW("07:00", "08:00") "," WINDOW("09:00", "10:00") "," WINDOW("11:00", "12:00") ","
             WINDOW("13:00", "14:00") "," WINDOW("15:00", "16:00") "," WINDOW("17:00", "18:00")),
      "calendar.monday", "at most 8", NULL },

    /* calendar as a whole */
    { "empty calendar", "{\"calendar\": {\"monday\": null, \"tuesday\": null}}", "calendar",
      "at least one", NULL },
    { "calendar of empty days", "{\"calendar\": {\"monday\": [], \"tuesday\": []}}", "calendar",
      "at least one", NULL },
    { "missing calendar", "{\"calendar\": null}", "calendar", "is required", NULL },
    { "calendar as array", "{\"calendar\": []}", "calendar", "must be an object", NULL },

    /* holidays */
    { "holiday on February 30", "{\"holidays\": [{\"date\": \"2026-02-30\", \"name\": \"x\"}]}",
      "holidays[0].date", "not a calendar date", NULL },
    { "holiday on February 29 of a common year", "{\"holidays\": [{\"date\": \"2027-02-29\", \"name\": \"x\"}]}",
      "holidays[0].date", "not a calendar date", NULL },
    { "holiday on February 29, 1900", "{\"holidays\": [{\"date\": \"1900-02-29\", \"name\": \"x\"}]}",
      "holidays[0].date", "not a calendar date", NULL },
    { "holiday in month 13", "{\"holidays\": [{\"date\": \"2026-13-01\", \"name\": \"x\"}]}",
      "holidays[0].date", "not a calendar date", NULL },
    { "holiday date malformed", "{\"holidays\": [{\"date\": \"2026-1-01\", \"name\": \"x\"}]}",
      "holidays[0].date", "YYYY-MM-DD", NULL },
    { "duplicate holiday",
      "{\"holidays\": [{\"date\": \"2026-12-25\", \"name\": \"a\"}, {\"date\": \"2026-01-01\", \"name\": \"b\"},"
      "                {\"date\": \"2026-12-25\", \"name\": \"c\"}]}",
      "holidays[2].date", "holidays[0]", NULL },
    { "holiday without name", "{\"holidays\": [{\"date\": \"2026-01-01\"}]}", "holidays[0].name",
      "is required", NULL },
    { "holiday with empty name", "{\"holidays\": [{\"date\": \"2026-01-01\", \"name\": \"\"}]}",
      "holidays[0].name", "must not be empty", NULL },
    { "holiday hours end before start",
      "{\"holidays\": [{\"date\": \"2026-01-01\", \"name\": \"x\", \"hours\": [" WINDOW("12:00", "08:00") "]}]}",
      "holidays[0].hours[0].end", "must be after start (12:00)", NULL },
    { "holiday hours overlapping",
      "{\"holidays\": [{\"date\": \"2026-01-01\", \"name\": \"x\", \"hours\": ["
      WINDOW("08:00", "12:00") "," WINDOW("09:00", "10:00") "]}]}",
      "holidays[0].hours[1]", "overlaps", NULL },
    { "holidays as object", "{\"holidays\": {}}", "holidays", "must be an array", NULL },

    /* SLA targets */
    { "negative first response", PRIORITY("P2", "\"first_response_minutes\": -5"),
      "sla_policy.priorities.P2.first_response_minutes", "greater than 0", NULL },
    { "zero resolution", PRIORITY("P1", "\"resolution_minutes\": 0"),
      "sla_policy.priorities.P1.resolution_minutes", "greater than 0", NULL },
    { "resolution before first response", PRIORITY("P3", "\"resolution_minutes\": 200"),
      "sla_policy.priorities.P3.resolution_minutes", "first_response_minutes (240)", NULL },
    { "priority without first response", PRIORITY("P3", "\"first_response_minutes\": null"),
      "sla_policy.priorities.P3.first_response_minutes", "is required", NULL },
    { "P3 removed", "{\"sla_policy\": {\"priorities\": {\"P3\": null}}}", "sla_policy.priorities.P3",
      "is required", NULL },
    { "fractional target", PRIORITY("P4", "\"first_response_minutes\": 1.5"),
      "sla_policy.priorities.P4.first_response_minutes", "must be an integer", NULL },
    { "whole real target", PRIORITY("P4", "\"first_response_minutes\": 15.0"),
      "sla_policy.priorities.P4.first_response_minutes", "must be an integer", NULL },
    { "string target", PRIORITY("P4", "\"resolution_minutes\": \"15\""),
      "sla_policy.priorities.P4.resolution_minutes", "must be an integer", NULL },
    { "target over ten years", PRIORITY("P4", "\"resolution_minutes\": 5256001"),
      "sla_policy.priorities.P4.resolution_minutes", "at most 5256000", NULL },
    { "priorities as array", "{\"sla_policy\": {\"priorities\": []}}", "sla_policy.priorities",
      "must be an object", NULL },
    { "missing priorities", "{\"sla_policy\": {\"priorities\": null}}", "sla_policy.priorities",
      "is required", NULL },
    { "sla policy as string", "{\"sla_policy\": \"fast\"}", "sla_policy", "must be an object", NULL },

    /* warning thresholds and pause statuses */
    { "thresholds not increasing", "{\"sla_policy\": {\"warning_thresholds\": [50, 90, 75]}}",
      "sla_policy.warning_thresholds[2]", "greater than the threshold before it (90)", NULL },
    { "threshold repeated", "{\"sla_policy\": {\"warning_thresholds\": [50, 50]}}",
      "sla_policy.warning_thresholds[1]", NULL, NULL },
    { "threshold 0", "{\"sla_policy\": {\"warning_thresholds\": [0, 50]}}",
      "sla_policy.warning_thresholds[0]", NULL, NULL },
    { "threshold 100", "{\"sla_policy\": {\"warning_thresholds\": [50, 100]}}",
      "sla_policy.warning_thresholds[1]", "at most 99", NULL },
    { "threshold not an integer", "{\"sla_policy\": {\"warning_thresholds\": [\"50\"]}}",
      "sla_policy.warning_thresholds[0]", "must be an integer", NULL },
    { "invalid pause status", "{\"sla_policy\": {\"pause_statuses\": [\"pending_approval\"]}}",
      "sla_policy.pause_statuses[0]", "must be one of: pending_customer, pending_vendor", NULL },
    { "pause status repeated",
      "{\"sla_policy\": {\"pause_statuses\": [\"pending_vendor\", \"pending_vendor\"]}}",
      "sla_policy.pause_statuses[1]", "listed twice", NULL },
    { "pause statuses as string", "{\"sla_policy\": {\"pause_statuses\": \"pending_vendor\"}}",
      "sla_policy.pause_statuses", "must be an array", NULL },

    /* escalation policy */
    { "zero acknowledgement", "{\"escalation_policy\": {\"acknowledgement_minutes\": 0}}",
      "escalation_policy.acknowledgement_minutes", NULL, NULL },
    { "category with capital", "{\"escalation_policy\": {\"internal_categories\": [\"Printing\"]}}",
      "escalation_policy.internal_categories[0]", NULL, NULL },
    { "category too long",
      "{\"escalation_policy\": {\"internal_categories\": [\"abcdefghijabcdefghijabcdefghijabcdefghijx\"]}}",
      "escalation_policy.internal_categories[0]", NULL, NULL },
    { "category repeated", "{\"escalation_policy\": {\"internal_categories\": [\"printing\", \"printing\"]}}",
      "escalation_policy.internal_categories[1]", "listed twice", NULL },
    { "notify percent 101", "{\"escalation_policy\": {\"automatic\": {\"notify_lead_at_percent\": 101}}}",
      "escalation_policy.automatic.notify_lead_at_percent", "at most 100", NULL },
    { "escalate percent 0", "{\"escalation_policy\": {\"automatic\": {\"escalate_tier_at_percent\": 0}}}",
      "escalation_policy.automatic.escalate_tier_at_percent", NULL, NULL },
    { "hierarchical not boolean", "{\"escalation_policy\": {\"automatic\": {\"hierarchical_on_breach\": \"yes\"}}}",
      "escalation_policy.automatic.hierarchical_on_breach", "true or false", NULL },
    { "escalation policy as array", "{\"escalation_policy\": []}", "escalation_policy",
      "must be an object", NULL },

    /* contract */
    { "lower-case currency", "{\"contract\": {\"currency\": \"usd\"}}", "contract.currency", "ISO 4217", NULL },
    { "four-letter currency", "{\"contract\": {\"currency\": \"EURO\"}}", "contract.currency", NULL, NULL },
    { "unknown currency", "{\"contract\": {\"currency\": \"XYZ\"}}", "contract.currency",
      "in circulation", NULL },
    { "withdrawn currency", "{\"contract\": {\"currency\": \"HRK\"}}", "contract.currency",
      "in circulation", NULL },
    { "testing currency", "{\"contract\": {\"currency\": \"XTS\"}}", "contract.currency",
      "in circulation", NULL },
    { "negative included hours", "{\"contract\": {\"included_hours\": -1}}",
      "contract.included_hours", "from 0 to 100000", NULL },
    { "included hours as string", "{\"contract\": {\"included_hours\": \"40\"}}",
      "contract.included_hours", "must be a number", NULL },
    { "negative supported users", "{\"contract\": {\"supported_users\": -5}}",
      "contract.supported_users", NULL, NULL },
    { "fractional supported users", "{\"contract\": {\"supported_users\": 2.5}}",
      "contract.supported_users", "must be an integer", NULL },
    { "negative fee", "{\"contract\": {\"monthly_fee\": -1}}", "contract.monthly_fee", "must not be negative", NULL },
    { "negative rate", "{\"contract\": {\"hourly_rate\": -0.5}}", "contract.hourly_rate", "must not be negative", NULL },
    { "rate as string", "{\"contract\": {\"hourly_rate\": \"50\"}}", "contract.hourly_rate", "must be a number", NULL },
    { "missing currency", "{\"contract\": {\"currency\": null}}", "contract.currency", "is required", NULL },
    { "bad contract start date", "{\"contract\": {\"start_date\": \"2026-04-31\"}}", "contract.start_date",
      "not a calendar date", NULL },
    { "term of 121 months", "{\"contract\": {\"term_months\": 121}}", "contract.term_months", "at most 120", NULL },
    { "term of 0 months", "{\"contract\": {\"term_months\": 0}}", "contract.term_months", NULL, NULL },
    { "missing contract", "{\"contract\": null}", "contract", "is required", NULL },

    /* reporting */
    { "recurrence of 0 days", "{\"reporting\": {\"recurrence_days\": 0}}",
      "reporting.recurrence_days", "greater than 0", NULL },
    { "recurrence over a year", "{\"reporting\": {\"recurrence_days\": 366}}",
      "reporting.recurrence_days", "at most 365", NULL },
    { "recurrence as string", "{\"reporting\": {\"recurrence_days\": \"30\"}}",
      "reporting.recurrence_days", "must be an integer", NULL },
    { "recurrence fractional", "{\"reporting\": {\"recurrence_days\": 1.5}}",
      "reporting.recurrence_days", "must be an integer", NULL },
    { "reopen window of 0 days", "{\"reporting\": {\"reopen_days\": 0}}",
      "reporting.reopen_days", "greater than 0", NULL },
    { "reopen window over 90 days", "{\"reporting\": {\"reopen_days\": 91}}",
      "reporting.reopen_days", "at most 90", NULL },
    { "reopen window as string", "{\"reporting\": {\"reopen_days\": \"7\"}}",
      "reporting.reopen_days", "must be an integer", NULL },
    { "rating window of 0 days", "{\"reporting\": {\"satisfaction_days\": 0}}",
      "reporting.satisfaction_days", "greater than 0", NULL },
    { "rating window over 90 days", "{\"reporting\": {\"satisfaction_days\": 91}}",
      "reporting.satisfaction_days", "at most 90", NULL },
    { "pack settling over 720 hours", "{\"reporting\": {\"pack_settle_hours\": 721}}",
      "reporting.pack_settle_hours", "at most 720", NULL },
    { "pack settling negative", "{\"reporting\": {\"pack_settle_hours\": -1}}",
      "reporting.pack_settle_hours", NULL, NULL },
    { "target over 100%", "{\"contract\": {\"targets\": {\"response_attainment\": 95}}}",
      "contract.targets.response_attainment", "share from 0 to 1", NULL },
    { "target rating of 6", "{\"contract\": {\"targets\": {\"satisfaction\": 6}}}",
      "contract.targets.satisfaction", "from 1 to 5", NULL },
    { "unknown target", "{\"contract\": {\"targets\": {\"uptime\": 0.99}}}",
      "contract.targets.uptime", NULL, NULL },
    { "target as string", "{\"contract\": {\"targets\": {\"reopen_rate\": \"5%\"}}}",
      "contract.targets.reopen_rate", "must be a number", NULL },
    { "unknown reporting field", "{\"reporting\": {\"window\": 30}}", "reporting.window",
      NULL, NULL },
    { "reporting as array", "{\"reporting\": []}", "reporting", "must be an object", NULL },
    { "patch window of 0 days", "{\"assets\": {\"patch_window_days\": 0}}",
      "assets.patch_window_days", "greater than 0", NULL },
    { "refresh age over 20 years", "{\"assets\": {\"refresh_age_months\": 241}}",
      "assets.refresh_age_months", "at most 240", NULL },
    { "custom field of no type", "{\"assets\": {\"custom_fields\": {\"x\": {}}}}",
      "assets.custom_fields.x.type", NULL, NULL },
    { "custom field of an unknown type",
      "{\"assets\": {\"custom_fields\": {\"x\": {\"type\": \"money\"}}}}",
      "assets.custom_fields.x.type", NULL, NULL },
    { "custom field named in capitals",
      "{\"assets\": {\"custom_fields\": {\"RAM\": {\"type\": \"text\"}}}}",
      "assets.custom_fields.RAM", "lower-case", NULL },
    { "a choice without choices",
      "{\"assets\": {\"custom_fields\": {\"tier\": {\"type\": \"choice\"}}}}",
      "assets.custom_fields.tier.choices", "is required", NULL },
    { "a choice twice",
      "{\"assets\": {\"custom_fields\": {\"tier\": {\"type\": \"choice\","
      " \"choices\": [\"a\", \"a\"]}}}}",
      "assets.custom_fields.tier.choices[1]", "repeats", NULL },
    { "a bound on text",
      "{\"assets\": {\"custom_fields\": {\"x\": {\"type\": \"text\", \"min\": 1}}}}",
      "assets.custom_fields.x.min", "not for a custom field of type text", NULL },
    { "min over max",
      "{\"assets\": {\"custom_fields\": {\"x\": {\"type\": \"integer\", \"min\": 5,"
      " \"max\": 1}}}}",
      "assets.custom_fields.x.max", "less than min", NULL },
    { "unknown assets field", "{\"assets\": {\"window\": 30}}", "assets.window", NULL, NULL },
    { "a service of no criticality",
      "{\"assets\": {\"services\": [{\"name\": \"Payroll\", \"assets\": [\"S1\"]}]}}",
      "assets.services[0].criticality", "required", NULL },
    { "a service of an unknown criticality",
      "{\"assets\": {\"services\": [{\"name\": \"Payroll\", \"criticality\": \"vital\","
      " \"assets\": [\"S1\"]}]}}",
      "assets.services[0].criticality", NULL, NULL },
    { "a service on no asset",
      "{\"assets\": {\"services\": [{\"name\": \"Payroll\", \"criticality\": \"high\","
      " \"assets\": []}]}}",
      "assets.services[0].assets", "1 to 1000", NULL },
    { "a tag too long for an asset",
      "{\"assets\": {\"services\": [{\"name\": \"Payroll\", \"criticality\": \"high\","
      " \"assets\": [\"S1\", \"" TAG65 "\"]}]}}",
      "assets.services[0].assets[1]", "1 to 64", NULL },
    { "a tag twice",
      "{\"assets\": {\"services\": [{\"name\": \"Payroll\", \"criticality\": \"high\","
      " \"assets\": [\"S1\", \"S1\"]}]}}",
      "assets.services[0].assets[1]", "repeats", NULL },
    { "a service named twice",
      "{\"assets\": {\"services\": [{\"name\": \"Payroll\", \"criticality\": \"high\","
      " \"assets\": [\"S1\"]}, {\"name\": \"Payroll\", \"criticality\": \"low\","
      " \"assets\": [\"S2\"]}]}}",
      "assets.services[1].name", "repeats", NULL },
    { "a floor for an unknown criticality",
      "{\"assets\": {\"service_priority\": {\"vital\": \"P1\"}}}",
      "assets.service_priority.vital", "not a criticality", NULL },
    { "a floor that is not a priority",
      "{\"assets\": {\"service_priority\": {\"critical\": \"P0\"}}}",
      "assets.service_priority.critical", NULL, NULL },
};

static void
run_invalid_case(void **state)
{
    const invalid_case_t *c = *state;
    json_t *doc = patched_tenant(c->patch);
    msp_errors_t errs = { 0 };

    assert_int_equal(msp_tenant_validate(doc, c->file_slug ? c->file_slug : BASE_SLUG,
                                         &errs), -1);
    assert_has_error(&errs, c->field, c->message);
    json_decref(doc);
}

static void
test_document_not_an_object(void **state)
{
    (void) state;
    json_t *doc = json_array();
    msp_errors_t errs = { 0 };

    assert_int_equal(msp_tenant_validate(doc, NULL, &errs), -1);
    assert_has_error(&errs, "", "must be a JSON object");
    json_decref(doc);
}

static void
test_collects_every_error(void **state)
{
    (void) state;
    json_t *doc = patched_tenant(
        "{\"timezone\": \"Mars/Olympus\","
        " \"calendar\": {\"monday\": [{\"start\": \"13:00\", \"end\": \"12:00\"}]},"
        " \"contract\": {\"currency\": \"usd\"}}");
    msp_errors_t errs = { 0 };

    assert_int_equal(msp_tenant_validate(doc, BASE_SLUG, &errs), -1);
    assert_true(errs.n >= 3);
    assert_has_error(&errs, "timezone", NULL);
    assert_has_error(&errs, "calendar.monday[0].end", NULL);
    assert_has_error(&errs, "contract.currency", NULL);
    json_decref(doc);
}

/* One mistake is one error, not one per rule that touches it. */
static void
test_reports_a_mistake_once(void **state)
{
    (void) state;
    json_t *doc = patched_tenant(MONDAY(WINDOW("8:00", "12:00") "," WINDOW("09:00", "10:00")));
    msp_errors_t errs = { 0 };

    assert_int_equal(msp_tenant_validate(doc, BASE_SLUG, &errs), -1);
    assert_int_equal(errs.n, 1);
    assert_has_error(&errs, "calendar.monday[0].start", NULL);
    json_decref(doc);
}

/* The caller may validate several documents into one list. */
static void
test_earlier_errors_do_not_count(void **state)
{
    (void) state;
    json_t *doc = parse_json(base_tenant);
    msp_errors_t errs = { 0 };

    msp_errors_add(&errs, "elsewhere", "an earlier problem");
    assert_int_equal(msp_tenant_validate(doc, BASE_SLUG, &errs), 0);
    assert_int_equal(errs.n, 1);
    json_decref(doc);
}


/* ---- normalization ---------------------------------------------------- */

static json_t *
normalized_patch(const char *patch)
{
    json_t *doc = patched_tenant(patch);

    assert_valid(doc, NULL);

    json_t *normalized = msp_tenant_normalize(doc);

    assert_non_null(normalized);
    json_decref(doc);
    return normalized;
}

static json_int_t
integer_at(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);

    assert_true(json_is_integer(value));
    return json_integer_value(value);
}

static void
test_normalize_fills_defaults(void **state)
{
    (void) state;
    json_t *n = normalized_patch("{\"holidays\": null}");
    json_t *expected;

    assert_string_equal(json_string_value(json_object_get(n, "ticket_prefix")), "TESTCO");
    assert_int_equal(json_array_size(json_object_get(n, "holidays")), 0);

    json_t *sla = json_object_get(n, "sla_policy");
    expected = json_pack("[iii]", 50, 75, 90);
    assert_true(json_equal(json_object_get(sla, "warning_thresholds"), expected));
    json_decref(expected);
    expected = json_pack("[ss]", "pending_customer", "pending_vendor");
    assert_true(json_equal(json_object_get(sla, "pause_statuses"), expected));
    json_decref(expected);

    json_t *escalation = json_object_get(n, "escalation_policy");
    json_t *automatic = json_object_get(escalation, "automatic");
    assert_int_equal(integer_at(escalation, "acknowledgement_minutes"), 30);
    assert_int_equal(json_array_size(json_object_get(escalation, "internal_categories")), 0);
    assert_true(json_is_array(json_object_get(escalation, "internal_categories")));
    assert_int_equal(integer_at(automatic, "notify_lead_at_percent"), 75);
    assert_int_equal(integer_at(automatic, "escalate_tier_at_percent"), 90);
    assert_true(json_is_true(json_object_get(automatic, "hierarchical_on_breach")));
    assert_int_equal(integer_at(json_object_get(n, "reporting"), "recurrence_days"), 30);
    assert_int_equal(integer_at(json_object_get(n, "contract"), "included_hours"), 0);
    assert_null(json_object_get(json_object_get(n, "contract"), "supported_users"));
    assert_int_equal(integer_at(json_object_get(n, "reporting"), "reopen_days"), 7);
    assert_int_equal(integer_at(json_object_get(n, "reporting"), "satisfaction_days"), 14);
    assert_int_equal(integer_at(json_object_get(n, "reporting"), "pack_settle_hours"), 24);
    json_t *assets = json_object_get(n, "assets");
    assert_int_equal(integer_at(assets, "patch_window_days"), 30);
    assert_int_equal(integer_at(assets, "refresh_age_months"), 48);
    assert_int_equal(json_object_size(json_object_get(assets, "custom_fields")), 0);
    assert_true(json_is_object(json_object_get(assets, "custom_fields")));
    assert_true(json_is_array(json_object_get(assets, "services")));
    assert_int_equal(json_array_size(json_object_get(assets, "services")), 0);
    json_t *floors = json_object_get(assets, "service_priority");
    assert_int_equal(json_object_size(floors), 2);
    assert_string_equal(json_string_value(json_object_get(floors, "critical")), "P1");
    assert_string_equal(json_string_value(json_object_get(floors, "high")), "P2");

    /* Every day is present; a day without hours is an empty list. */
    json_t *calendar = json_object_get(n, "calendar");
    assert_int_equal(json_object_size(calendar), 7);
    assert_true(json_is_array(json_object_get(calendar, "sunday")));
    assert_int_equal(json_array_size(json_object_get(calendar, "sunday")), 0);

    /* The result is itself a valid tenant. */
    assert_valid(n, BASE_SLUG);
    json_decref(n);
}

static void
test_normalize_keeps_given_values(void **state)
{
    (void) state;
    json_t *n = normalized_patch(
        "{\"ticket_prefix\": \"TC\","
        " \"sla_policy\": {\"warning_thresholds\": [80], \"pause_statuses\": []},"
        " \"escalation_policy\": {\"acknowledgement_minutes\": 10,"
        "   \"automatic\": {\"hierarchical_on_breach\": false}}}");
    json_t *sla = json_object_get(n, "sla_policy");
    json_t *escalation = json_object_get(n, "escalation_policy");
    json_t *automatic = json_object_get(escalation, "automatic");

    assert_string_equal(json_string_value(json_object_get(n, "ticket_prefix")), "TC");
    assert_int_equal(json_array_size(json_object_get(sla, "warning_thresholds")), 1);
    assert_int_equal(json_array_size(json_object_get(sla, "pause_statuses")), 0);
    assert_int_equal(integer_at(escalation, "acknowledgement_minutes"), 10);
    assert_true(json_is_false(json_object_get(automatic, "hierarchical_on_breach")));
    assert_int_equal(integer_at(automatic, "notify_lead_at_percent"), 75);
    json_decref(n);

    n = normalized_patch("{\"reporting\": {\"recurrence_days\": 14, \"reopen_days\": 30}}");
    assert_int_equal(integer_at(json_object_get(n, "reporting"), "recurrence_days"), 14);
    assert_int_equal(integer_at(json_object_get(n, "reporting"), "reopen_days"), 30);
    json_decref(n);
}

static void
test_normalize_ticket_prefix_from_long_slug(void **state)
{
    (void) state;
    json_t *n = normalized_patch("{\"slug\": \"very-long-company-name\"}");

    assert_string_equal(json_string_value(json_object_get(n, "ticket_prefix")), "VERYLONGCO");
    json_decref(n);
}

static void
test_normalize_sorts(void **state)
{
    (void) state;
    json_t *a = normalized_patch(
        "{\"calendar\": {\"monday\": [" WINDOW("08:00", "12:00") "," WINDOW("13:00", "17:00") "]},"
        " \"holidays\": [{\"date\": \"2026-01-01\", \"name\": \"New Year\"},"
        "                {\"date\": \"2026-12-24\", \"name\": \"Eve\", \"hours\": ["
        WINDOW("08:00", "10:00") "," WINDOW("11:00", "12:00") "]}],"
        " \"sla_policy\": {\"pause_statuses\": [\"pending_customer\", \"pending_vendor\"]},"
        " \"escalation_policy\": {\"internal_categories\": [\"onboarding\", \"printing\"]},"
        " \"contract\": {\"monthly_fee\": 1500}}");
    json_t *b = normalized_patch(
        "{\"calendar\": {\"monday\": [" WINDOW("13:00", "17:00") "," WINDOW("08:00", "12:00") "]},"
        " \"holidays\": [{\"date\": \"2026-12-24\", \"name\": \"Eve\", \"hours\": ["
        WINDOW("11:00", "12:00") "," WINDOW("08:00", "10:00") "]},"
        "                {\"date\": \"2026-01-01\", \"name\": \"New Year\", \"hours\": []}],"
        " \"sla_policy\": {\"pause_statuses\": [\"pending_vendor\", \"pending_customer\"]},"
        " \"escalation_policy\": {\"internal_categories\": [\"printing\", \"onboarding\"]},"
        " \"contract\": {\"monthly_fee\": 1500.0}}");

    assert_true(json_equal(a, b));

    json_t *monday = json_object_get(json_object_get(b, "calendar"), "monday");
    json_t *holidays = json_object_get(b, "holidays");
    assert_string_equal(json_string_value(json_object_get(json_array_get(monday, 0), "start")), "08:00");
    assert_string_equal(json_string_value(json_object_get(json_array_get(holidays, 0), "date")),
                        "2026-01-01");
    /* Empty hours mean closed all day, as absent hours do. */
    assert_null(json_object_get(json_array_get(holidays, 0), "hours"));
    json_decref(a);
    json_decref(b);
}

static void
test_normalize_leaves_input_alone(void **state)
{
    (void) state;
    json_t *doc = parse_json(base_tenant);
    json_t *before = json_deep_copy(doc);
    json_t *n = msp_tenant_normalize(doc);

    assert_non_null(n);
    assert_true(json_equal(doc, before));
    assert_false(json_equal(doc, n));
    json_decref(n);
    json_decref(before);
    json_decref(doc);
}


/* ---- time zones ------------------------------------------------------- */

static void
test_timezone_exists(void **state)
{
    (void) state;
    assert_true(msp_timezone_exists("Europe/Berlin"));
    assert_true(msp_timezone_exists("Asia/Kolkata"));
    assert_true(msp_timezone_exists("America/New_York"));
    assert_true(msp_timezone_exists("UTC"));
    assert_true(msp_timezone_exists("Etc/GMT+5"));

    assert_false(msp_timezone_exists("Mars/Olympus"));
    assert_false(msp_timezone_exists(""));
    assert_false(msp_timezone_exists(NULL));
    assert_false(msp_timezone_exists("/etc/passwd"));
    assert_false(msp_timezone_exists("../x"));
    assert_false(msp_timezone_exists("Europe/../UTC"));
    assert_false(msp_timezone_exists("Europe"));         /* a directory */
    assert_false(msp_timezone_exists("Europe/"));
    assert_false(msp_timezone_exists("zone.tab"));       /* '.' is refused */
    assert_false(msp_timezone_exists("Europe/Berlin "));
}

/* A scratch zoneinfo directory, to test the override and the magic check. */
typedef struct {
    char dir[64];
} zoneinfo_fixture_t;

static void
write_file(const char *dir, const char *name, const char *content)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static int
zoneinfo_setup(void **state)
{
    zoneinfo_fixture_t *fx = calloc(1, sizeof(*fx));
    char sub[96];

    if (fx == NULL) {
        return -1;
    }
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/msp-zoneinfo-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(sub, sizeof(sub), "%s/Test", fx->dir);
    mkdir(sub, 0700);
    write_file(fx->dir, "Test/Zone", "TZif2 and the rest of a zone");
    write_file(fx->dir, "Test/Notes", "not a zone");
    write_file(fx->dir, "Tiny", "TZ");
    setenv("MSP_ZONEINFO_DIR", fx->dir, 1);
    *state = fx;
    return 0;
}

static int
zoneinfo_teardown(void **state)
{
    zoneinfo_fixture_t *fx = *state;
    const char *files[] = { "Test/Zone", "Test/Notes", "Tiny", "Test" };
    char path[128];

    unsetenv("MSP_ZONEINFO_DIR");
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i]);
        remove(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void
test_timezone_dir_override(void **state)
{
    (void) state;
    assert_true(msp_timezone_exists("Test/Zone"));
    assert_false(msp_timezone_exists("Test/Notes"));     /* no magic */
    assert_false(msp_timezone_exists("Tiny"));           /* shorter than it */
    assert_false(msp_timezone_exists("Test"));           /* a directory */
    assert_false(msp_timezone_exists("/Test/Zone"));     /* absolute */
    assert_false(msp_timezone_exists("Test//Zone"));     /* empty component */
    assert_false(msp_timezone_exists("Test/Zone/"));
    assert_false(msp_timezone_exists("Europe/Berlin"));  /* not in this dir */
}


/* ---------------------------------------------------------------------- */

static int
clear_zoneinfo_override(void **state)
{
    (void) state;
    unsetenv("MSP_ZONEINFO_DIR");
    return 0;
}

static const struct CMUnitTest fixed_tests[] = {
    cmocka_unit_test(test_demo_acme),
    cmocka_unit_test(test_demo_globex),
    cmocka_unit_test(test_demo_initech),
    cmocka_unit_test(test_base_tenant_is_valid),
    cmocka_unit_test(test_valid_variants),
    cmocka_unit_test(test_document_not_an_object),
    cmocka_unit_test(test_collects_every_error),
    cmocka_unit_test(test_reports_a_mistake_once),
    cmocka_unit_test(test_earlier_errors_do_not_count),
    cmocka_unit_test(test_normalize_fills_defaults),
    cmocka_unit_test(test_normalize_keeps_given_values),
    cmocka_unit_test(test_normalize_ticket_prefix_from_long_slug),
    cmocka_unit_test(test_normalize_sorts),
    cmocka_unit_test(test_normalize_leaves_input_alone),
    cmocka_unit_test(test_timezone_exists),
    cmocka_unit_test_setup_teardown(test_timezone_dir_override,
                                    zoneinfo_setup, zoneinfo_teardown),
};

int
main(void)
{
    /* One cmocka test per invalid case, named after it. */
    struct CMUnitTest tests[ARRAY_LEN(fixed_tests) + ARRAY_LEN(invalid_cases)];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_LEN(fixed_tests); i++) {
        tests[n++] = fixed_tests[i];
    }
    for (size_t i = 0; i < ARRAY_LEN(invalid_cases); i++) {
        tests[n++] = (struct CMUnitTest) {
            .name = invalid_cases[i].name,
            .test_func = run_invalid_case,
            .initial_state = (void *) &invalid_cases[i],
        };
    }
    return cmocka_run_group_tests(tests, clear_zoneinfo_override, NULL);
}
