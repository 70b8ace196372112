/*
 * test_request_parsing.c - query strings, cursors, path ids and JSON
 * bodies: everything a client sends before it reaches SQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/args.h"
#include "http/json_body.h"
#include "http/page.h"
#include "http/params.h"
#include "http/router.h"

static msp_call_t
call_with_args(const char *args)
{
    msp_call_t call;
    memset(&call, 0, sizeof(call));
    call.args = args;
    call.args_len = args ? strlen(args) : 0;
    call.base_url = "http://gw";
    return call;
}

static const char *const known[] = { "status", "limit", "after", "q", NULL };

static void
test_args_decode_and_reject(void **state)
{
    (void) state;
    msp_call_t call = call_with_args("status=new%2Cassigned&q=a+b%21&limit=5");
    msp_args_t args;
    msp_errors_t errs = { 0 };
    assert_int_equal(msp_args_parse(&call, known, &args, &errs), 0);
    assert_string_equal(msp_args_get(&args, "status"), "new,assigned");
    assert_string_equal(msp_args_get(&args, "q"), "a b!");
    assert_string_equal(msp_args_get(&args, "limit"), "5");
    assert_null(msp_args_get(&args, "after"));
    msp_call_free(&call);

    const struct { const char *args; const char *field; } bad[] = {
        { "staus=new", "staus" },
        { "status=new&status=closed", "status" },
        { "q=%4", "q" },
        { "q=%zz", "q" },
        { "q=%00", "q" },
        { "q=%FF", "q" },          /* not UTF-8 */
        { "q=%C0%AF", "q" },       /* overlong */
        { "q=%ED%A0%80", "q" },    /* a surrogate */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        call = call_with_args(bad[i].args);
        memset(&errs, 0, sizeof(errs));
        assert_int_equal(msp_args_parse(&call, known, &args, &errs), -1);
        assert_string_equal(errs.items[0].field, bad[i].field);
        msp_call_free(&call);
    }

    call = call_with_args("q=caf%C3%A9");
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(msp_args_parse(&call, known, &args, &errs), 0);
    assert_string_equal(msp_args_get(&args, "q"), "caf\xc3\xa9");
    msp_call_free(&call);
}

/* A result such as a list statement returns: item JSON, sort key. */
static PGresult *
rows(int n, const char *const *docs, const char *const *keys)
{
    PGresAttDesc cols[2] = {
        { .name = "doc", .typid = 25, .typlen = -1, .atttypmod = -1 },
        { .name = "key", .typid = 25, .typlen = -1, .atttypmod = -1 },
    };
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_true(PQsetResultAttrs(res, 2, cols));
    for (int i = 0; i < n; i++) {
        assert_true(PQsetvalue(res, i, 0, (char *) docs[i], (int) strlen(docs[i])));
        assert_true(PQsetvalue(res, i, 1, (char *) keys[i], (int) strlen(keys[i])));
    }
    return res;
}

static void
test_page_limits_and_cursor_round_trip(void **state)
{
    (void) state;
    static const char *const docs[] = { "{\"n\":1}", "{\"n\":2}", "{\"n\":3}" };
    static const char *const keys[] = { "P1|100|acme|1", "P2|123|acme|7", "P4|999|zeta|3" };
    msp_call_t call = call_with_args("limit=2&q=x+y");
    msp_errors_t errs = { 0 };
    msp_list_t *list = msp_list_begin(&call, "/v1/things", known, &errs);
    assert_non_null(list);
    assert_false(msp_errors_any(&errs));
    assert_int_equal(list->page.limit, 2);
    assert_string_equal(list->page.fetch, "3");
    assert_null(list->page.after);

    /* Three rows for a limit of two: two shown, and a next page. */
    PGresult *res = rows(3, docs, keys);
    msp_reply_t reply;
    memset(&reply, 0, sizeof(reply));
    msp_list_reply(&call, &reply, list, res);
    PQclear(res);
    assert_int_equal(reply.status, 200);
    assert_non_null(strstr(reply.body, "{\"items\":[{\"n\":1},{\"n\":2}],\"next_cursor\":\""));
    assert_non_null(reply.link);
    /* The Link repeats the query, with the new cursor. */
    const char *after = strstr(reply.link, "after=");
    assert_non_null(after);
    assert_non_null(strstr(reply.link, "<http://gw/v1/things?limit=2&q=x%20y&after="));
    assert_non_null(strstr(reply.link, ">; rel=\"next\""));

    /* Following it decodes to the second row's key. */
    char cursor[128];
    const char *end = strchr(after, '>');
    snprintf(cursor, sizeof(cursor), "after=%.*s", (int) (end - after - 6), after + 6);
    msp_call_t next = call_with_args(cursor);
    msp_list_t *second = msp_list_begin(&next, "/v1/things", known, &errs);
    assert_false(msp_errors_any(&errs));
    assert_string_equal(second->page.after, "P2|123|acme|7");
    assert_int_equal(second->page.limit, 50);

    /* The last page has no cursor and no Link. */
    res = rows(1, docs + 2, keys + 2);
    memset(&reply, 0, sizeof(reply));
    msp_list_reply(&next, &reply, second, res);
    PQclear(res);
    assert_null(reply.link);
    assert_string_equal(reply.body, "{\"items\":[{\"n\":3}],\"next_cursor\":null}");
    msp_call_free(&next);
    msp_call_free(&call);

    const char *bad[] = { "limit=0", "limit=201", "limit=1x", "after=!!", "after=a",
                          "after=AA" /* decodes to a control character */ };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        call = call_with_args(bad[i]);
        memset(&errs, 0, sizeof(errs));
        assert_non_null(msp_list_begin(&call, "/v1/things", known, &errs));
        assert_true(msp_errors_any(&errs));
        msp_call_free(&call);
    }
}

static void
test_path_params(void **state)
{
    (void) state;
    msp_call_t call = call_with_args(NULL);
    const char *prefix, *number;
    static const msp_route_t route = { "/v1/tenants/{slug}/tickets/{number}", MSP_METHOD_GET,
                                       NULL, 0, NULL };
    call.route = &route;
    call.nparams = 2;
    call.params[0] = (msp_param_t) { "acme-corp", 9 };
    call.params[1] = (msp_param_t) { "ACME2-42", 8 };
    assert_string_equal(msp_param_slug(&call, "slug"), "acme-corp");
    assert_int_equal(msp_param_ticket_id(&call, "number", &prefix, &number), 0);
    assert_string_equal(prefix, "ACME2");
    assert_string_equal(number, "42");

    const char *bad_slugs[] = { "Acme", "a", "1acme", "acme_corp", "acme corp" };
    for (size_t i = 0; i < sizeof(bad_slugs) / sizeof(bad_slugs[0]); i++) {
        call.params[0] = (msp_param_t) { bad_slugs[i], strlen(bad_slugs[i]) };
        assert_null(msp_param_slug(&call, "slug"));
    }
    const char *bad_ids[] = { "ACME-0", "ACME-042", "ACME-", "-42", "A-1", "acme-1",
                              "ACME-2147483648", "ACME-1x", "ACME42", "ACMEACMEACM-1" };
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        call.params[1] = (msp_param_t) { bad_ids[i], strlen(bad_ids[i]) };
        assert_int_equal(msp_param_ticket_id(&call, "number", &prefix, &number), -1);
    }
    call.params[1] = (msp_param_t) { "ACME-2147483647", 15 };
    assert_int_equal(msp_param_ticket_id(&call, "number", &prefix, &number), 0);

    /* parameters are found by the pattern's names, in its order */
    assert_ptr_equal(msp_param(&call, "number"), &call.params[1]);
    assert_null(msp_param(&call, "id"));
    assert_null(msp_param(&call, "slu"));
    assert_null(msp_param_slug(&call, "tenant"));
    msp_call_free(&call);
}

static void
test_json_body_fields(void **state)
{
    (void) state;
    static const char *const levels[] = { "high", "low", NULL };
    const char *text = "{\"title\":\"T\",\"level\":\"mid\",\"ids\":[1,2,2],\"who\":null,"
                       "\"n\":5,\"bell\":\"a\\u0007\"}";
    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why, *title = NULL, *level = NULL, *who = "x", *bell = NULL, *missing = NULL;
    long long ids[4];
    size_t nids;
    assert_int_equal(msp_body_parse(&b, text, strlen(text), &errs, &why), 0);
    assert_int_equal(msp_body_string(&b, "title", 1, 1, 10, &title), 1);
    assert_string_equal(title, "T");
    assert_int_equal(msp_body_enum(&b, "level", 1, levels, &level), -1);
    assert_int_equal(msp_body_id_array(&b, "ids", 4, ids, &nids), -1);
    assert_int_equal(msp_body_nullable_string(&b, "who", 1, 10, &who), 1);
    assert_null(who);
    assert_int_equal(msp_body_string(&b, "bell", 0, 1, 10, &bell), -1);
    assert_int_equal(msp_body_string(&b, "absent", 1, 1, 10, &missing), -1);
    assert_true(msp_body_finish(&b));
    msp_body_free(&b);

    const char *fields[] = { "level", "ids[2]", "bell", "absent", "n" };
    assert_int_equal(errs.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(errs.items[i].field, fields[i]);
    }
    assert_non_null(strstr(errs.items[0].message, "high, low"));
    assert_string_equal(errs.items[4].message, "unknown field");

    const char *malformed[] = { "", "[]", "\"x\"", "{\"a\":1,\"a\":2}", "{\"a\":\"\xff\"}",
                                "{", "{\"a\":\"\\u0000\"}" };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        memset(&errs, 0, sizeof(errs));
        why = NULL;
        assert_int_equal(msp_body_parse(&b, malformed[i], strlen(malformed[i]), &errs, &why),
                         -1);
        assert_non_null(why);
    }
}

/* Integers, booleans and dates: the values each reader takes, what it
 * says of the others, and required fields that are absent. */
static void
test_json_body_numbers_booleans_and_dates(void **state)
{
    (void) state;
    const char *text = "{\"minutes\":90,\"big\":1441,\"real\":5.0,\"text\":\"5\","
                       "\"yes\":true,\"no\":false,\"one\":1,"
                       "\"day\":\"2026-03-08\",\"leap\":\"2028-02-29\","
                       "\"feb30\":\"2026-02-30\",\"shape\":\"8/3/2026\"}";
    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why, *date = NULL;
    long long n = -1, day = 0;
    int flag = -1;
    assert_int_equal(msp_body_parse(&b, text, strlen(text), &errs, &why), 0);
    assert_int_equal(msp_body_integer(&b, "minutes", 1, 1, 1440, &n), 1);
    assert_int_equal(n, 90);
    assert_int_equal(msp_body_integer(&b, "big", 1, 1, 1440, &n), -1);
    assert_int_equal(msp_body_integer(&b, "real", 1, 1, 1440, &n), -1);
    assert_int_equal(msp_body_integer(&b, "text", 0, 1, 1440, &n), -1);
    assert_int_equal(msp_body_integer(&b, "absent", 0, 1, 1440, &n), 0);
    assert_int_equal(msp_body_bool(&b, "yes", 1, &flag), 1);
    assert_int_equal(flag, 1);
    assert_int_equal(msp_body_bool(&b, "no", 1, &flag), 1);
    assert_int_equal(flag, 0);
    assert_int_equal(msp_body_bool(&b, "one", 1, &flag), -1);
    assert_int_equal(msp_body_bool(&b, "gone", 1, &flag), -1);
    assert_int_equal(msp_body_date(&b, "day", 1, &date, &day), 1);
    assert_string_equal(date, "2026-03-08");
    assert_int_equal(day, 20520);                  /* days since 1970-01-01 */
    assert_int_equal(msp_body_date(&b, "leap", 1, &date, &day), 1);
    assert_int_equal(msp_body_date(&b, "feb30", 1, &date, &day), -1);
    assert_int_equal(msp_body_date(&b, "shape", 1, &date, &day), -1);
    assert_false(msp_body_finish(&b) == 0);
    msp_body_free(&b);

    const struct { const char *field, *message; } want[] = {
        { "big", "must be from 1 to 1440" },
        { "real", "must be an integer" },
        { "text", "must be an integer" },
        { "one", "must be true or false" },
        { "gone", "is required" },
        { "feb30", "2026-02-30 is not a calendar date" },
        { "shape", "must be a date as YYYY-MM-DD" },
    };
    assert_int_equal(errs.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(errs.items[i].field, want[i].field);
        assert_string_equal(errs.items[i].message, want[i].message);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_decode_and_reject),
        cmocka_unit_test(test_page_limits_and_cursor_round_trip),
        cmocka_unit_test(test_path_params),
        cmocka_unit_test(test_json_body_fields),
        cmocka_unit_test(test_json_body_numbers_booleans_and_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
