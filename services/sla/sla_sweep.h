/*
 * sla_sweep.h - the breach sweep: announcing SLA warnings and breaches.
 *
 * Each ticket stores the warnings and breaches it has not announced yet,
 * with the instant each is due (ticket_sla.c computes them when the clocks
 * are replayed).  The sweep, app.sla_sweep() (migrations/0009, set-based:
 * one statement per batch, reading the global index of due tickets), turns
 * those whose instant has come into sla_warning / sla_breached events: one
 * sweeper at a time (an advisory lock), once per ticket, clock and
 * threshold (a unique index), however many workers and hosts run it.
 * The module runs it on a timer (msp_sla_sweep_interval).
 */
#ifndef MSP_SLA_SWEEP_H
#define MSP_SLA_SWEEP_H

#include "call/call.h"

/* Tickets per statement; a full batch means there may be more. */
#define MSP_SLA_SWEEP_BATCH 100

/* $1 the batch size.  One row, one column: the events written, or -1 when
 * another sweeper holds the lock. */
extern const msp_sql_t msp_sql_sla_sweep;

/* What a sweep's result says: the events written (0 or more), or one of
 * these.  res is the statement's result (NULL when there was none). */
#define MSP_SLA_SWEEP_BUSY   (-1)   /* another sweeper holds the lock */
#define MSP_SLA_SWEEP_FAILED (-2)   /* why says what went wrong, on one line */
long msp_sla_sweep_events(const PGresult *res, char *why, size_t size);

/* Who the sweep acts as: a provider administrator (it sees every tenant)
 * whose subject names it in the history and the audit log. */
extern const msp_principal_t msp_sla_sweeper;

#endif
