/*
 * sweep.c - reading a sweep's result.
 */
#include "call/sweep.h"

#include <stdio.h>
#include <stdlib.h>

long
msp_sweep_count(const PGresult *res, char *why, size_t size)
{
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        /* the primary message: not the PL/pgSQL context's lines */
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(why, size, "%s (SQLSTATE %s)", msg ? msg : "no result",
                 state ? state : "none");
        return MSP_SWEEP_FAILED;
    }
    const char *value = PQntuples(res) == 1 && PQnfields(res) == 1 && !PQgetisnull(res, 0, 0)
                            ? PQgetvalue(res, 0, 0) : "";
    char *end;
    long n = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || n < -1) {
        snprintf(why, size, "unexpected result \"%.40s\"", value);
        return MSP_SWEEP_FAILED;
    }
    return n == -1 ? MSP_SWEEP_BUSY : n;
}
