/*
 * sla_sweep.c - the breach sweep's statement and principal.
 */
#include "sla/sla_sweep.h"

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
