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
 * The module runs it on a timer (msp_sla_sweep_interval); call/sweep.h
 * says how.
 */
#ifndef MSP_SLA_SWEEP_H
#define MSP_SLA_SWEEP_H

#include "call/sweep.h"

/* 100 tickets per statement; the work done is the events written.  It
 * runs as a provider administrator (it sees every tenant) whose subject
 * names it in the history and the audit log. */
extern const msp_sweep_t msp_sla_sweep;

#endif
