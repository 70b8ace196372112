/*
 * sla_sweep.c - the breach sweep's statement and principal.
 */
#include "sla/sla_sweep.h"

static const msp_sql_t sql_sla_sweep = {
    "sla_sweep", "SELECT app.sla_sweep($1::integer)", 1
};

static const msp_principal_t sla_sweeper = {
    .sub = "msp-gateway:sla-sweep",
    .name = "SLA sweep",
    .org = "provider",
    .role = "admin",
    .is_provider = 1,
};

const msp_sweep_t msp_sla_sweep = {
    "sla sweep", &sql_sla_sweep, 100, &sla_sweeper
};
