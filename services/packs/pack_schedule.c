/*
 * pack_schedule.c - the pack schedule's statement and principal.
 */
#include "packs/pack_schedule.h"

static const msp_sql_t sql_pack_schedule = {
    "pack_schedule", "SELECT app.schedule_packs($1::integer)", 1
};

static const msp_principal_t pack_scheduler = {
    .sub = "msp-gateway:pack-schedule",
    .name = "Review pack schedule",
    .org = "provider",
    .role = "admin",
    .is_provider = 1,
};

const msp_sweep_t msp_pack_schedule = {
    "pack schedule", &sql_pack_schedule, 100, &pack_scheduler
};
