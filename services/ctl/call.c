/*
 * call.c - `mspctl call METHOD PATH`: run one API request through the
 * services with the blocking driver, as a given principal, without nginx.
 * For diagnosis ("what does tech.alice's queue hold?").  And `mspctl
 * report`: a service report as the operator reads it, the same way.  Both
 * connect as msp_gateway when MSP_GATEWAY_DATABASE_URL is set, so
 * row-level security applies exactly as in the gateway.
 */
#include "ctl.h"

#include "common/query.h"
#include "call/call.h"
#include "http/router.h"
#include "call/run_blocking.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs one request on conn through the services as principal (NULL:
 * none): call and reply are the caller's to free (msp_call_free). */
static void
request(PGconn *conn, const msp_principal_t *principal, const char *method_name,
        const char *target, const char *data, const char *if_match, const char *key,
        msp_call_t *call, msp_reply_t *reply)
{
    const char *query = strchr(target, '?');
    size_t path_len = query ? (size_t) (query - target) : strlen(target);

    memset(call, 0, sizeof(*call));
    memset(reply, 0, sizeof(*reply));
    msp_match_t match;
    unsigned method = msp_method_from_name(method_name, strlen(method_name));
    msp_match_status_t m = msp_route_match(&msp_api_routes, method, target, path_len, &match);
    if (m != MSP_MATCH_OK) {
        reply->status = m == MSP_MATCH_NOT_FOUND ? 404 : 405;
        return;
    }
    call->principal = principal;
    call->route = match.route;
    call->method = method;
    call->nparams = match.nparams;
    memcpy(call->params, match.params, sizeof(match.params));
    call->args = query ? query + 1 : NULL;
    call->args_len = query ? strlen(query + 1) : 0;
    call->body = data;
    call->body_len = data ? strlen(data) : 0;
    call->if_match = if_match;
    call->idempotency_key = key;
    msp_run_blocking(conn, call, "60000ms", reply);
}

PGconn *
ctl_connect_gateway(void)
{
    const char *url = getenv("MSP_GATEWAY_DATABASE_URL");
    if (url == NULL || *url == '\0') {
        return ctl_connect();
    }
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        ctl_error("cannot connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

json_t *
ctl_get_json(PGconn *conn, const msp_principal_t *principal, const char *target, char *why,
             size_t size)
{
    msp_call_t call;
    msp_reply_t reply;
    request(conn, principal, "GET", target, NULL, NULL, NULL, &call, &reply);
    json_t *doc = NULL;
    if (reply.status == 200 && reply.body != NULL) {
        json_error_t error;
        doc = json_loadb(reply.body, reply.body_len, 0, &error);
    }
    if (doc == NULL) {
        snprintf(why, size, "GET %s: %d %.*s", target, reply.status,
                 reply.body_len > 300 ? 300 : (int) reply.body_len,
                 reply.body ? reply.body : "");
    }
    msp_call_free(&call);
    return doc;
}

/*
 * Runs one request through the services as principal (NULL: none) and
 * prints it: the status, the headers a client would use and the body, or
 * with body_only the body alone.  0 for a 2xx or 3xx, 1 otherwise.
 */
static int
run_request(const msp_principal_t *principal, const char *method_name, const char *target,
            const char *data, const char *if_match, const char *key, int body_only)
{
    PGconn *conn = ctl_connect_gateway();
    if (conn == NULL) {
        return 1;
    }
    msp_call_t call;
    msp_reply_t reply;
    request(conn, principal, method_name, target, data, if_match, key, &call, &reply);
    if (!body_only) {
        printf("%d\n", reply.status);
        if (reply.etag) printf("ETag: %s\n", reply.etag);
        if (reply.location) printf("Location: %s\n", reply.location);
        if (reply.link) printf("Link: %s\n", reply.link);
        printf("\n");
    }
    printf("%.*s\n", (int) reply.body_len, reply.body ? reply.body : "");
    int rc = reply.status < 400 ? 0 : 1;
    msp_call_free(&call);
    PQfinish(conn);
    return rc;
}

int
ctl_call(int argc, char **argv)
{
    const char *sub = NULL, *org = NULL, *role = NULL, *name = NULL, *data = NULL;
    const char *if_match = NULL, *key = NULL;
    static const struct option options[] = {
        { "sub", required_argument, NULL, 's' }, { "org", required_argument, NULL, 'o' },
        { "role", required_argument, NULL, 'r' }, { "name", required_argument, NULL, 'n' },
        { "data", required_argument, NULL, 'd' }, { "if-match", required_argument, NULL, 'm' },
        { "idempotency-key", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 },
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's': sub = optarg; break;
        case 'o': org = optarg; break;
        case 'r': role = optarg; break;
        case 'n': name = optarg; break;
        case 'd': data = optarg; break;
        case 'm': if_match = optarg; break;
        case 'k': key = optarg; break;
        default: goto usage;
        }
    }
    if (argc - optind != 2) {
        goto usage;
    }
    msp_principal_t principal;
    const char *why = NULL;
    if (sub != NULL && msp_principal_from_claims(&principal, sub, name, org, role, &why) != 0) {
        ctl_error("%s", why);
        return 2;
    }
    return run_request(sub ? &principal : NULL, argv[optind], argv[optind + 1], data, if_match,
                       key, 0);

usage:
    ctl_error("usage: mspctl call METHOD PATH --sub S --org O --role R [--name N]"
              " [--data JSON] [--if-match ETAG] [--idempotency-key KEY]");
    return 2;
}

int
ctl_report(int argc, char **argv)
{
    static const struct option options[] = {
        { "as-of", required_argument, NULL, 'a' }, { NULL, 0, NULL, 0 },
    };
    const char *as_of = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c != 'a') {
            goto usage;
        }
        as_of = optarg;
    }
    if (argc - optind != 3) {
        goto usage;
    }
    /* The operator reads as the provider's admin, as mspctl's other
     * commands write. */
    msp_principal_t admin;
    const char *why = NULL;
    if (msp_principal_from_claims(&admin, "mspctl", NULL, "provider", "admin", &why) != 0) {
        ctl_error("%s", why);
        return 2;
    }
    char slug[96], report[96], period[96], when[96], target[512];
    msp_query_value(slug, sizeof(slug), argv[optind]);
    msp_query_value(report, sizeof(report), argv[optind + 1]);
    msp_query_value(period, sizeof(period), argv[optind + 2]);
    msp_query_value(when, sizeof(when), as_of ? as_of : "");
    snprintf(target, sizeof(target), "/v1/tenants/%s/reports/%s?period=%s%s%s", slug, report,
             period, as_of ? "&as_of=" : "", as_of ? when : "");
    return run_request(&admin, "GET", target, NULL, NULL, NULL, 1);

usage:
    ctl_error("usage: mspctl report SLUG REPORT PERIOD [--as-of RFC3339]"
              " (REPORT: volume, backlog, sla, quality, comanagement, trend, cost; PERIOD: 2026-03, 2026-Q1, 2026-W10, 2026-03-08,"
              " 2026-03-01..2026-04-01)");
    return 2;
}
