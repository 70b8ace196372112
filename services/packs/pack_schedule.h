/*
 * pack_schedule.h - asking for the review packs of periods that ended.
 *
 * The module runs app.schedule_packs() on a timer
 * (msp_pack_schedule_interval), as it runs the breach sweep: each
 * tenant's weekly, monthly and quarterly pack is asked for once its
 * period has ended in the tenant's zone and reporting.pack_settle_hours
 * have passed, as of that instant; once per tenant, kind and period
 * however many workers and hosts run it (migrations/0025).  The pack
 * worker (mspctl pack worker) renders what it asks for.
 */
#ifndef MSP_PACK_SCHEDULE_H
#define MSP_PACK_SCHEDULE_H

#include "call/sweep.h"

/* Up to 100 packs asked for per statement; the work done is how many.
 * It runs as a provider administrator, which sees every tenant. */
extern const msp_sweep_t msp_pack_schedule;

#endif
