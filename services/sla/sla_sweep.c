/*
 * sla_sweep.c - the breach sweep's statement and principal.
 */
#include "sla/sla_sweep.h"

#include <stdio.h>
#include <stdlib.h>

const msp_sql_t msp_sql_sla_sweep = {
    "sla_sweep", "SELECT app.sla_sweep($1::integer)", 1
};

const msp_principal_t msp_sla_sweeper = {
    .sub = "msp-gateway:sla-sweep",
    .name = "SLA sweep",
    .org = "provider",
    .role = "admin",
    .is_provider = 1,
};

long
msp_sla_sweep_events(const PGresult *res, char *why, size_t size)
{
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        /* the primary message: not the PL/pgSQL context's lines */
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(why, size, "%s (SQLSTATE %s)", msg ? msg : "no result",
                 state ? state : "none");
        return MSP_SLA_SWEEP_FAILED;
    }
    const char *value = PQntuples(res) == 1 && PQnfields(res) == 1 && !PQgetisnull(res, 0, 0)
                            ? PQgetvalue(res, 0, 0) : "";
    char *end;
    long n = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || n < -1) {
        snprintf(why, size, "unexpected result \"%.40s\"", value);
        return MSP_SLA_SWEEP_FAILED;
    }
    return n == -1 ? MSP_SLA_SWEEP_BUSY : n;
}
