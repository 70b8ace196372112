/*
 * health.c - GET /v1/health: the gateway, its database and its pool.
 */
#include "call/health.h"
#include "http/api.h"

#include <stdio.h>
#include <string.h>

static const msp_sql_t sql_ping = { "health_ping", "SELECT 1", 0 };

static msp_outcome_t
health_done(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
            msp_reply_t *reply)
{
    (void) next;
    if (nres != 1 || PQresultStatus(res[0]) != PGRES_TUPLES_OK) {
        return msp_api_database_failure(call, reply, 0);
    }
    const char *stats = call->driver_stats ? call->driver_stats : "{}";
    char *body = msp_printf(call, "{\"status\":\"ok\",\"database\":\"ok\",\"pool\":%s}", stats);
    if (body == NULL) {
        return msp_api_database_failure(call, reply, 0);
    }
    return msp_reply_json(call, reply, 200, body, strlen(body));
}

msp_outcome_t
msp_health_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    (void) call;
    (void) reply;
    first->stmts[0].sql = &sql_ping;
    first->nstmts = 1;
    first->read_only = 1;
    first->last = 1;
    first->then = health_done;
    return MSP_NEXT;
}
