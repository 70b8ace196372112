/*
 * test_problem.c - RFC 9457 problem bodies, parsed back with jansson.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/problem.h"

/* Builds a problem and parses it back; the test owns the result. */
static json_t *
problem(int status, const char *slug, const char *title, const char *detail,
        const msp_errors_t *errs)
{
    char *text = msp_problem_json(status, slug, title, detail, errs, NULL);
    assert_non_null(text);

    json_error_t err;
    json_t      *doc = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (doc == NULL) {
        fail_msg("not JSON: %s (%s)", text, err.text);
    }
    assert_true(json_is_object(doc));
    free(text);
    return doc;
}

static const char *
string_member(const json_t *doc, const char *key)
{
    const json_t *v = json_object_get(doc, key);

    if (!json_is_string(v)) {
        fail_msg("\"%s\" is not a string", key);
    }
    return json_string_value(v);
}

static void
about_blank_uses_reason_phrase(void **state)
{
    (void) state;
    json_t *doc = problem(404, NULL, NULL, "There is no API resource at this path.",
                          NULL);

    assert_string_equal(string_member(doc, "type"), "about:blank");
    assert_string_equal(string_member(doc, "title"), "Not Found");
    assert_true(json_is_integer(json_object_get(doc, "status")));
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 404);
    assert_string_equal(string_member(doc, "detail"),
                        "There is no API resource at this path.");
    assert_null(json_object_get(doc, "errors"));
    assert_null(json_object_get(doc, "more_errors"));
    assert_int_equal(json_object_size(doc), 4);
    json_decref(doc);
}

static void
reason_phrases(void **state)
{
    (void) state;
    static const struct {
        int         status;
        const char *title;
    } cases[] = {
        { 400, "Bad Request" },
        { 401, "Unauthorized" },
        { 403, "Forbidden" },
        { 405, "Method Not Allowed" },
        { 412, "Precondition Failed" },
        { 413, "Content Too Large" },
        { 422, "Unprocessable Content" },
        { 500, "Internal Server Error" },
        { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = problem(cases[i].status, NULL, NULL, NULL, NULL);
        assert_string_equal(string_member(doc, "title"), cases[i].title);
        assert_int_equal(json_integer_value(json_object_get(doc, "status")),
                         cases[i].status);
        json_decref(doc);
    }
}

static void
typed_problem_with_title(void **state)
{
    (void) state;
    json_t *doc = problem(409, "ticket-closed", "Ticket is closed",
                          "Ticket 42 was closed on 2024-05-01.", NULL);

    assert_string_equal(string_member(doc, "type"),
                        "https://msp-gateway.dev/problems/ticket-closed");
    assert_string_equal(string_member(doc, "title"), "Ticket is closed");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 409);
    assert_string_equal(string_member(doc, "detail"),
                        "Ticket 42 was closed on 2024-05-01.");
    json_decref(doc);
}

static void
optional_members_are_left_out(void **state)
{
    (void) state;
    msp_errors_t none = { .n = 0 };

    /* no detail, no reason phrase for 599, an empty error list */
    json_t *doc = problem(599, NULL, NULL, NULL, &none);

    assert_string_equal(string_member(doc, "type"), "about:blank");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 599);
    assert_null(json_object_get(doc, "title"));
    assert_null(json_object_get(doc, "detail"));
    assert_null(json_object_get(doc, "errors"));
    assert_int_equal(json_object_size(doc), 2);
    json_decref(doc);
}

static void
field_errors_are_listed_in_order(void **state)
{
    (void) state;
    msp_errors_t errs = { .n = 0 };

    msp_errors_add(&errs, "priority", "must be one of P1, P2, P3, P4");
    msp_errors_add(&errs, "calendar.monday[1].end", "must be after %s", "09:00");

    json_t *doc = problem(422, "validation", "Invalid ticket",
                          "The ticket has 2 invalid fields.", &errs);

    json_t *list = json_object_get(doc, "errors");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 2);

    json_t *first = json_array_get(list, 0);
    assert_string_equal(string_member(first, "field"), "priority");
    assert_string_equal(string_member(first, "message"),
                        "must be one of P1, P2, P3, P4");
    assert_int_equal(json_object_size(first), 2);

    json_t *second = json_array_get(list, 1);
    assert_string_equal(string_member(second, "field"), "calendar.monday[1].end");
    assert_string_equal(string_member(second, "message"), "must be after 09:00");

    assert_null(json_object_get(doc, "more_errors"));
    json_decref(doc);
}

static void
dropped_errors_are_counted(void **state)
{
    (void) state;
    msp_errors_t *errs = calloc(1, sizeof(*errs));
    assert_non_null(errs);

    for (int i = 0; i < MSP_ERRORS_MAX + 3; i++) {
        msp_errors_add(errs, "items", "item %d is wrong", i);
    }

    json_t *doc = problem(422, "validation", NULL, NULL, errs);

    assert_int_equal(json_array_size(json_object_get(doc, "errors")),
                     MSP_ERRORS_MAX);
    assert_true(json_is_integer(json_object_get(doc, "more_errors")));
    assert_int_equal(json_integer_value(json_object_get(doc, "more_errors")), 3);
    assert_string_equal(string_member(doc, "title"), "Unprocessable Content");

    json_decref(doc);
    free(errs);
}

static void
text_is_escaped(void **state)
{
    (void) state;
    const char *detail = "He said \"hi\"\n\tand left \\ </script>";
    json_t     *doc = problem(400, NULL, NULL, detail, NULL);

    assert_string_equal(string_member(doc, "detail"), detail);
    json_decref(doc);
}

static void
valid_utf8_is_kept(void **state)
{
    (void) state;
    const char *detail = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    json_t     *doc = problem(400, NULL, NULL, detail, NULL);

    assert_string_equal(string_member(doc, "detail"), detail);
    json_decref(doc);
}

static void
invalid_utf8_is_replaced(void **state)
{
    (void) state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "bad \xff byte",        "bad \xef\xbf\xbd byte" },
        { "overlong \xc0\xaf",    "overlong \xef\xbf\xbd\xef\xbf\xbd" },
        { "surrogate \xed\xa0\x80",
          "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "cut \xe2\x82",         "cut \xef\xbf\xbd\xef\xbf\xbd" },
        { "\x80",                 "\xef\xbf\xbd" },
        { "big \xf4\x90\x80\x80",
          "big \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "ok \xc3\xa9 then \xfe", "ok \xc3\xa9 then \xef\xbf\xbd" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = problem(400, NULL, cases[i].in, cases[i].in, NULL);
        assert_string_equal(string_member(doc, "title"), cases[i].out);
        assert_string_equal(string_member(doc, "detail"), cases[i].out);
        json_decref(doc);
    }
}

static void
invalid_utf8_in_field_errors_is_replaced(void **state)
{
    (void) state;
    msp_errors_t errs = { .n = 0 };

    msp_errors_add(&errs, "na\xffme", "unknown field \"%s\"", "x\xfey");

    json_t *doc = problem(422, "validation", NULL, NULL, &errs);
    json_t *item = json_array_get(json_object_get(doc, "errors"), 0);

    assert_string_equal(string_member(item, "field"), "na\xef\xbf\xbdme");
    assert_string_equal(string_member(item, "message"),
                        "unknown field \"x\xef\xbf\xbdy\"");
    json_decref(doc);
}

static void
output_is_compact_and_ordered(void **state)
{
    (void) state;
    char *text = msp_problem_json(405, NULL, NULL, "Use GET.", NULL, NULL);

    assert_non_null(text);
    assert_string_equal(text,
        "{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\","
        "\"status\":405,\"detail\":\"Use GET.\"}");
    free(text);
}

static void
extension_members_are_added_never_replacing(void **state)
{
    (void) state;
    json_t *extra = json_pack("{s:s, s:[s], s:i}", "rule", "no-skipping", "allowed",
                              "provider:lead", "status", 200);
    assert_non_null(extra);
    char *text = msp_problem_json(403, "escalation-not-allowed", NULL, "No.", NULL, extra);
    json_decref(extra);
    assert_non_null(text);
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    assert_non_null(doc);
    assert_string_equal(string_member(doc, "rule"), "no-skipping");
    assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "allowed"), 0)),
                        "provider:lead");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 403);
    json_decref(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(about_blank_uses_reason_phrase),
        cmocka_unit_test(reason_phrases),
        cmocka_unit_test(typed_problem_with_title),
        cmocka_unit_test(optional_members_are_left_out),
        cmocka_unit_test(field_errors_are_listed_in_order),
        cmocka_unit_test(dropped_errors_are_counted),
        cmocka_unit_test(text_is_escaped),
        cmocka_unit_test(valid_utf8_is_kept),
        cmocka_unit_test(invalid_utf8_is_replaced),
        cmocka_unit_test(invalid_utf8_in_field_errors_is_replaced),
        cmocka_unit_test(output_is_compact_and_ordered),
        cmocka_unit_test(extension_members_are_added_never_replacing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
