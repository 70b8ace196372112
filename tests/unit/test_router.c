/*
 * test_router.c - the route matcher: captures, 404 versus 405, Allow values.
 *
 * Most cases run against a test table of their own, so that they state
 * the matcher's rules independently of the API; one checks the real one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "call/health.h"
#include "http/router.h"
#include "tickets/tickets.h"

enum {
    R_HEALTH,          /* each the index of its row in api_rows */
    R_ME,
    R_TENANTS,
    R_TENANT,
    R_TICKETS_LIST,
    R_TICKET_CREATE,
    R_TICKET,
    R_COMMENT_CREATE,
    R_QUEUE,
    R_FOUR,
    R_FIVE,
    R_BROKEN,
    R_EVERYTHING
};

#define GET     MSP_METHOD_GET
#define HEAD    MSP_METHOD_HEAD
#define POST    MSP_METHOD_POST
#define PUT     MSP_METHOD_PUT
#define PATCH   MSP_METHOD_PATCH
#define DELETE  MSP_METHOD_DELETE
#define OPTIONS MSP_METHOD_OPTIONS

static const msp_route_t api_rows[] = {
    { "/v1/health",                                   GET, NULL, 0, NULL },
    { "/v1/me",                                       GET, NULL, 0, NULL },
    { "/v1/tenants",                                  GET, NULL, 0, NULL },
    { "/v1/tenants/{slug}",                           GET, NULL, 0, NULL },
    { "/v1/tenants/{slug}/tickets",                   GET, NULL, 0, NULL },
    { "/v1/tenants/{slug}/tickets",                   POST, NULL, 0, NULL },
    { "/v1/tenants/{slug}/tickets/{number}",          GET | PATCH, NULL, 0, NULL },
    { "/v1/tenants/{slug}/tickets/{number}/comments", POST, NULL, 0, NULL },
    { "/v1/queue",                                    GET, NULL, 0, NULL },
    { "/four/{a}/{b}/{c}/{d}",                        GET, NULL, 0, NULL },
    { "/five/{a}/{b}/{c}/{d}/{e}",                    GET, NULL, 0, NULL },
    { "/broken/{a",                                   GET, NULL, 0, NULL },
    { "/everything",
      GET | POST | PUT | PATCH | DELETE | OPTIONS, NULL, 0, NULL },
};

static const msp_route_table_t api = {
    api_rows, sizeof(api_rows) / sizeof(api_rows[0])
};

/* Which row of rows a match chose, or -1 for none. */
static int
row(const msp_match_t *m, const msp_route_t *rows)
{
    return m->route == NULL ? -1 : (int) (m->route - rows);
}

/* Matches a NUL-terminated path against the test table. */
static msp_match_status_t
match(unsigned method, const char *path, msp_match_t *m)
{
    return msp_route_match(&api, method, path, strlen(path), m);
}

static void
assert_param(const msp_match_t *m, size_t i, const char *path,
             size_t offset, const char *expected)
{
    assert_true(i < m->nparams);
    assert_ptr_equal(m->params[i].data, path + offset);
    assert_int_equal(m->params[i].len, strlen(expected));
    assert_memory_equal(m->params[i].data, expected, strlen(expected));
}


/* the real table */

static void
health_get(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(msp_route_match(&msp_api_routes, GET, "/v1/health", 10, &m),
                     MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_health_start);
    assert_int_equal(m.nparams, 0);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(m.allowed, GET | HEAD);
}

static void
health_head(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(msp_route_match(&msp_api_routes, HEAD, "/v1/health", 10, &m),
                     MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_health_start);
}

static void
health_post_not_allowed(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(msp_route_match(&msp_api_routes, POST, "/v1/health", 10, &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_null(m.route);
    assert_string_equal(m.allow, "GET, HEAD");
}

static void
health_unknown_method_not_allowed(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(msp_route_match(&msp_api_routes, 0, "/v1/health", 10, &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD");
}

static void
health_strict_paths(void **state)
{
    (void) state;
    static const char *const missing[] = {
        "/v1/health/", "/v1/healthz", "/v1/healt", "/v1/", "/v1", "/",
        "", "/V1/health", "/v1//health", "/v1/health/x", "v1/health",
    };
    msp_match_t m;

    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        assert_int_equal(msp_route_match(&msp_api_routes, GET, missing[i],
                                         strlen(missing[i]), &m),
                         MSP_MATCH_NOT_FOUND);
        assert_null(m.route);
        assert_string_equal(m.allow, "");
        assert_int_equal(m.allowed, 0);
    }
}

static void
length_bounds_the_path(void **state)
{
    (void) state;
    msp_match_t m;

    /* the path is not NUL-terminated where len ends */
    assert_int_equal(msp_route_match(&msp_api_routes, GET, "/v1/healthXYZ", 10, &m),
                     MSP_MATCH_OK);
    assert_int_equal(msp_route_match(&msp_api_routes, GET, "/v1/health", 9, &m),
                     MSP_MATCH_NOT_FOUND);
}

static void
real_table_is_well_formed(void **state)
{
    (void) state;

    assert_true(msp_api_routes.n > 0);
    for (size_t i = 0; i < msp_api_routes.n; i++) {
        const msp_route_t *r = &msp_api_routes.routes[i];

        assert_true(strncmp(r->pattern, "/v1/", 4) == 0);
        assert_true(r->methods != 0);
        assert_non_null(r->start);
        /* only the health check answers without a principal */
        assert_int_equal(r->is_public, r->start == msp_health_start);
        for (size_t j = 0; j < i; j++) {
            const msp_route_t *o = &msp_api_routes.routes[j];
            /* a row that could never win is a mistake */
            assert_false(strcmp(o->pattern, r->pattern) == 0 && (o->methods & r->methods));
        }
    }
}


/* method names */

static void
method_names(void **state)
{
    (void) state;

    assert_int_equal(msp_method_from_name("GET", 3), GET);
    assert_int_equal(msp_method_from_name("HEAD", 4), HEAD);
    assert_int_equal(msp_method_from_name("POST", 4), POST);
    assert_int_equal(msp_method_from_name("PUT", 3), PUT);
    assert_int_equal(msp_method_from_name("PATCH", 5), PATCH);
    assert_int_equal(msp_method_from_name("DELETE", 6), DELETE);
    assert_int_equal(msp_method_from_name("OPTIONS", 7), OPTIONS);

    assert_int_equal(msp_method_from_name("get", 3), 0);
    assert_int_equal(msp_method_from_name("GE", 2), 0);
    assert_int_equal(msp_method_from_name("GETS", 4), 0);
    assert_int_equal(msp_method_from_name("GET", 2), 0);
    assert_int_equal(msp_method_from_name("TRACE", 5), 0);
    assert_int_equal(msp_method_from_name("", 0), 0);
}


/* captures */

static void
captures_two_params(void **state)
{
    (void) state;
    const char *path = "/v1/tenants/acme-corp/tickets/42";
    msp_match_t m;

    assert_int_equal(match(GET, path, &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_TICKET);
    assert_int_equal(m.nparams, 2);
    assert_param(&m, 0, path, 12, "acme-corp");
    assert_param(&m, 1, path, 30, "42");
    assert_string_equal(m.allow, "GET, HEAD, PATCH");
}

static void
captures_one_param(void **state)
{
    (void) state;
    const char *path = "/v1/tenants/globex";
    msp_match_t m;

    assert_int_equal(match(GET, path, &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_TENANT);
    assert_int_equal(m.nparams, 1);
    assert_param(&m, 0, path, 12, "globex");
}

static void
captures_four_params(void **state)
{
    (void) state;
    const char *path = "/four/a/bb/ccc/dddd";
    msp_match_t m;

    assert_int_equal(match(GET, path, &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_FOUR);
    assert_int_equal(m.nparams, 4);
    assert_param(&m, 0, path, 6, "a");
    assert_param(&m, 1, path, 8, "bb");
    assert_param(&m, 2, path, 11, "ccc");
    assert_param(&m, 3, path, 15, "dddd");
}

static void
more_than_four_params_never_match(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(match(GET, "/five/a/b/c/d/e", &m), MSP_MATCH_NOT_FOUND);
}

static void
malformed_pattern_never_matches(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(match(GET, "/broken/x", &m), MSP_MATCH_NOT_FOUND);
    assert_int_equal(match(GET, "/broken/{a", &m), MSP_MATCH_NOT_FOUND);
}

static void
empty_params_are_not_found(void **state)
{
    (void) state;
    static const char *const missing[] = {
        "/v1/tenants/",
        "/v1/tenants//tickets",
        "/v1/tenants/acme/tickets/",
        "/v1/tenants/acme/tickets//comments",
        "/v1/tenants/acme/",
    };
    msp_match_t m;

    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        assert_int_equal(match(GET, missing[i], &m), MSP_MATCH_NOT_FOUND);
        assert_int_equal(match(POST, missing[i], &m), MSP_MATCH_NOT_FOUND);
    }
}

static void
control_bytes_in_params_are_not_found(void **state)
{
    (void) state;
    msp_match_t m;
    const char  nul[] = "/v1/tenants/ac\0me";

    assert_int_equal(msp_route_match(&api, GET, nul, sizeof(nul) - 1, &m),
                     MSP_MATCH_NOT_FOUND);
    assert_int_equal(match(GET, "/v1/tenants/ac\nme", &m), MSP_MATCH_NOT_FOUND);
    assert_int_equal(match(GET, "/v1/tenants/ac\x7fme", &m), MSP_MATCH_NOT_FOUND);

    /* other bytes are the service's to judge */
    assert_int_equal(match(GET, "/v1/tenants/caf\xc3\xa9", &m), MSP_MATCH_OK);
    assert_int_equal(match(GET, "/v1/tenants/a b", &m), MSP_MATCH_OK);
}


/* methods: rows sharing a pattern, 405 and Allow */

static void
same_pattern_dispatches_by_method(void **state)
{
    (void) state;
    const char *path = "/v1/tenants/acme/tickets";
    msp_match_t m;

    assert_int_equal(match(GET, path, &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_TICKETS_LIST);
    assert_param(&m, 0, path, 12, "acme");

    assert_int_equal(match(HEAD, path, &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_TICKETS_LIST);

    assert_int_equal(match(POST, path, &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_TICKET_CREATE);
    assert_param(&m, 0, path, 12, "acme");

    /* Allow is the union over both rows */
    assert_string_equal(m.allow, "GET, HEAD, POST");
}

static void
wrong_method_lists_allowed_ones(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(match(DELETE, "/v1/tenants/acme/tickets", &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_null(m.route);
    assert_int_equal(m.nparams, 0);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_int_equal(m.allowed, GET | HEAD | POST);

    assert_int_equal(match(PUT, "/v1/tenants/acme/tickets/7", &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, PATCH");

    assert_int_equal(match(GET, "/v1/tenants/acme/tickets/7/comments", &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_string_equal(m.allow, "POST");

    assert_int_equal(match(HEAD, "/v1/tenants/acme/tickets/7/comments", &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_string_equal(m.allow, "POST");
}

static void
head_only_where_get(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(match(HEAD, "/v1/queue", &m), MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_QUEUE);

    assert_int_equal(match(POST, "/v1/tenants/acme/tickets/7/comments", &m),
                     MSP_MATCH_OK);
    assert_int_equal(row(&m, api_rows), R_COMMENT_CREATE);
    assert_int_equal(m.nparams, 2);
}

static void
allow_lists_every_method_in_order(void **state)
{
    (void) state;
    msp_match_t m;

    assert_int_equal(match(0, "/everything", &m), MSP_MATCH_NOT_ALLOWED);
    assert_string_equal(m.allow,
                        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    assert_true(strlen(m.allow) < MSP_ALLOW_MAX);
}

static void
first_matching_row_wins(void **state)
{
    (void) state;
    static const msp_route_t rows[] = {
        { "/v1/tenants/mine",   GET,         NULL, 0, NULL },
        { "/v1/tenants/{slug}", GET | PATCH, NULL, 0, NULL },
    };
    static const msp_route_table_t table = { rows, 2 };
    msp_match_t m;

    assert_int_equal(msp_route_match(&table, GET, "/v1/tenants/mine", 16, &m),
                     MSP_MATCH_OK);
    assert_int_equal(row(&m, rows), 0);
    assert_int_equal(m.nparams, 0);
    assert_string_equal(m.allow, "GET, HEAD, PATCH");

    assert_int_equal(msp_route_match(&table, PATCH, "/v1/tenants/mine", 16, &m),
                     MSP_MATCH_OK);
    assert_int_equal(row(&m, rows), 1);
    assert_int_equal(m.nparams, 1);
}

static void
empty_table_finds_nothing(void **state)
{
    (void) state;
    static const msp_route_table_t none = { NULL, 0 };
    msp_match_t m;

    assert_int_equal(msp_route_match(&none, GET, "/v1/health", 10, &m),
                     MSP_MATCH_NOT_FOUND);
}

/* The API's own table routes what the services answer. */
static void
api_table_routes_the_tickets_api(void **state)
{
    (void) state;
    msp_match_t m;
    const char *p = "/v1/tenants/acme/tickets/ACME-42/comments";
    assert_int_equal(msp_route_match(&msp_api_routes, POST, p, strlen(p), &m), MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_comment_create_start);
    assert_int_equal(m.nparams, 2);
    assert_memory_equal(m.params[1].data, "ACME-42", 7);

    p = "/v1/tenants/acme/tickets";
    assert_int_equal(msp_route_match(&msp_api_routes, POST, p, strlen(p), &m), MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_ticket_create_start);
    assert_int_equal(msp_route_match(&msp_api_routes, GET, p, strlen(p), &m), MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_ticket_list_start);
    assert_int_equal(msp_route_match(&msp_api_routes, DELETE, p, strlen(p), &m),
                     MSP_MATCH_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, POST");

    p = "/v1/tenants/acme/tickets/ACME-1";
    assert_int_equal(msp_route_match(&msp_api_routes, PATCH, p, strlen(p), &m), MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_ticket_update_start);
    p = "/v1/queue";
    assert_int_equal(msp_route_match(&msp_api_routes, GET, p, strlen(p), &m), MSP_MATCH_OK);
    assert_ptr_equal(m.route->start, msp_queue_start);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(health_get),
        cmocka_unit_test(health_head),
        cmocka_unit_test(health_post_not_allowed),
        cmocka_unit_test(health_unknown_method_not_allowed),
        cmocka_unit_test(health_strict_paths),
        cmocka_unit_test(length_bounds_the_path),
        cmocka_unit_test(real_table_is_well_formed),
        cmocka_unit_test(method_names),
        cmocka_unit_test(captures_two_params),
        cmocka_unit_test(captures_one_param),
        cmocka_unit_test(captures_four_params),
        cmocka_unit_test(more_than_four_params_never_match),
        cmocka_unit_test(malformed_pattern_never_matches),
        cmocka_unit_test(empty_params_are_not_found),
        cmocka_unit_test(control_bytes_in_params_are_not_found),
        cmocka_unit_test(same_pattern_dispatches_by_method),
        cmocka_unit_test(wrong_method_lists_allowed_ones),
        cmocka_unit_test(head_only_where_get),
        cmocka_unit_test(allow_lists_every_method_in_order),
        cmocka_unit_test(first_matching_row_wins),
        cmocka_unit_test(empty_table_finds_nothing),
        cmocka_unit_test(api_table_routes_the_tickets_api),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
