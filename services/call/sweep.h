/*
 * sweep.h - work the module runs on its own, on a timer, rather than for
 * a request: the SLA breach sweep (sla/sla_sweep.h) and the settling of
 * report headlines (reports/report_settle.h).
 *
 * A sweep is one statement, run in a transaction of its own as the
 * sweep's principal, that does at most a batch of work and says how much
 * it did.  Its SQL function lets one sweeper in at a time, however many
 * workers and hosts run it (the others are told at once), and does each
 * piece of work once; so the module needs no coordination.
 */
#ifndef MSP_SWEEP_H
#define MSP_SWEEP_H

#include "call/call.h"

typedef struct {
    const char            *name;        /* in the log: "sla sweep" */
    const msp_sql_t       *sql;         /* $1 the batch; one row, one column:
                                           the work done, or -1 (busy) */
    int                    batch;
    const msp_principal_t *principal;   /* whose subject the history names */
} msp_sweep_t;

/* What a sweep's result says: the work done (0 or more), or one of these.
 * res is the statement's result (NULL when there was none). */
#define MSP_SWEEP_BUSY   (-1)   /* another sweeper holds the lock */
#define MSP_SWEEP_FAILED (-2)   /* why says what went wrong, on one line */
long msp_sweep_count(const PGresult *res, char *why, size_t size);

#endif
