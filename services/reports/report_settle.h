/*
 * report_settle.h - settling report headlines.
 *
 * Once a period has ended and its reopen window has passed, its headline
 * figures (the trend's and the portfolio's) can no longer change
 * (METRICS.md, "Settled periods").  app.settle_report_headlines()
 * (migrations/0019) computes such a headline once and stores it, so that
 * the trend and the portfolio read it instead of replaying the period's
 * history at each request: the last twelve weeks, months and quarters of
 * every tenant.  The module runs it on a timer
 * (msp_report_settle_interval), as it runs the breach sweep.
 */
#ifndef MSP_REPORT_SETTLE_H
#define MSP_REPORT_SETTLE_H

#include "call/sweep.h"

/* Up to 100 headlines per statement, none started after its first
 * second (a large client's month takes seconds, a small client's
 * milliseconds); the work done is the headlines stored.  It runs as a
 * provider administrator, which sees every tenant. */
extern const msp_sweep_t msp_report_settle;

#endif
