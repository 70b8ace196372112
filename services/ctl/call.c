/*
 * call.c - `mspctl call METHOD PATH`: run one API request through the
 * services with the blocking driver, as a given principal, without nginx.
 * For diagnosis ("what does tech.alice's queue hold?").  It connects as
 * msp_gateway when MSP_GATEWAY_DATABASE_URL is set, so row-level security
 * applies exactly as in the gateway.
 */
#include "ctl.h"

#include "call/call.h"
#include "http/router.h"
#include "call/run_blocking.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    const char *method_name = argv[optind], *target = argv[optind + 1];
    const char *query = strchr(target, '?');
    size_t path_len = query ? (size_t) (query - target) : strlen(target);

    msp_principal_t principal;
    const char *why = NULL;
    if (sub != NULL && msp_principal_from_claims(&principal, sub, name, org, role, &why) != 0) {
        ctl_error("%s", why);
        return 2;
    }

    msp_call_t call;
    memset(&call, 0, sizeof(call));
    msp_match_t match;
    unsigned method = msp_method_from_name(method_name, strlen(method_name));
    msp_match_status_t m = msp_route_match(&msp_api_routes, method, target, path_len, &match);
    if (m != MSP_MATCH_OK) {
        printf("%d\n", m == MSP_MATCH_NOT_FOUND ? 404 : 405);
        return 1;
    }
    call.principal = sub ? &principal : NULL;
    call.route = match.route;
    call.method = method;
    call.nparams = match.nparams;
    memcpy(call.params, match.params, sizeof(match.params));
    call.args = query ? query + 1 : NULL;
    call.args_len = query ? strlen(query + 1) : 0;
    call.body = data;
    call.body_len = data ? strlen(data) : 0;
    call.if_match = if_match;
    call.idempotency_key = key;

    const char *url = getenv("MSP_GATEWAY_DATABASE_URL");
    PGconn *conn;
    if (url != NULL && *url != '\0') {
        conn = PQconnectdb(url);
        if (PQstatus(conn) != CONNECTION_OK) {
            ctl_error("cannot connect: %s", PQerrorMessage(conn));
            PQfinish(conn);
            return 1;
        }
    } else if ((conn = ctl_connect()) == NULL) {
        return 1;
    }

    msp_reply_t reply;
    msp_run_blocking(conn, &call, "10000ms", &reply);
    printf("%d\n", reply.status);
    if (reply.etag) printf("ETag: %s\n", reply.etag);
    if (reply.location) printf("Location: %s\n", reply.location);
    if (reply.link) printf("Link: %s\n", reply.link);
    printf("\n%.*s\n", (int) reply.body_len, reply.body ? reply.body : "");
    int rc = reply.status < 400 ? 0 : 1;
    msp_call_free(&call);
    PQfinish(conn);
    return rc;

usage:
    ctl_error("usage: mspctl call METHOD PATH --sub S --org O --role R [--name N]"
              " [--data JSON] [--if-match ETAG] [--idempotency-key KEY]");
    return 2;
}
