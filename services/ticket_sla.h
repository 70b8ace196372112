/*
 * ticket_sla.h - the SLA clocks in the tickets API.
 *
 * Writes: a statement that changes a ticket runs with
 * msp_sql_ticket_sla_inputs right after it, in the same step; the results
 * go to msp_ticket_sla_compute(), which replays the clocks (sla/clock.h)
 * and returns the statement storing them, and the ticket's document as the
 * reply shows it.  One more round trip per write, in the same transaction.
 *
 * Reads: ticket documents carry the stored snapshot, which
 * msp_ticket_sla_doc() turns into the "sla" member extended to the present.
 * That needs the tenant's calendar when a clock runs; a worker that has
 * not compiled it yet gets it with msp_ticket_sla_need() first.
 */
#ifndef MSP_TICKET_SLA_H
#define MSP_TICKET_SLA_H

#include <stdint.h>

#include "call.h"
#include "sla/clock.h"

/* $1 slug, $2 ticket number, or NULL for the ticket this transaction has
 * just created.  Columns: number, document_sha256, timezone, calendar,
 * holidays, sla_policy, history, now (Unix seconds). */
extern const msp_sql_t msp_sql_ticket_sla_inputs;

/* The column of the history and of "now" in the inputs. */
enum { MSP_SLA_IN_NUMBER, MSP_SLA_IN_SHA, MSP_SLA_IN_TIMEZONE, MSP_SLA_IN_CALENDAR,
       MSP_SLA_IN_HOLIDAYS, MSP_SLA_IN_POLICY, MSP_SLA_IN_HISTORY, MSP_SLA_IN_NOW };

/* The configuration named by an inputs row, compiled (and cached). */
const msp_sla_config_t *msp_ticket_sla_config(const PGresult *inputs, int row);

/*
 * From one row of inputs and the ticket's document as the write returned
 * it: replays the clocks, writes into *store the statement that saves
 * them, and into *doc the document with its due instants and "sla"
 * member, in the arena.  -1 when the clocks cannot be computed (out of
 * memory, or a tenant document that does not compile).
 */
int msp_ticket_sla_compute(msp_call_t *call, const PGresult *inputs, const char *slug,
                           const char *doc, size_t len, msp_stmt_t *store, char **out);

/* $1 slug, $2 number, $3 snapshot, $4 response_due, $5 resolution_due,
 * $6 breach_at (Unix seconds or NULL), $7 pending alerts, $8 next alert. */
extern const msp_sql_t msp_sql_ticket_sla_store;

/*
 * Reads.  rows[sha_col] names, for each ticket whose clocks may run, the
 * tenant document its snapshot needs.  When this worker has not compiled
 * one of them, fills *next with a step that loads them and then runs
 * `again` (the step that produced rows) once more, and returns 1; returns
 * 0 when every one is compiled; -1 when out of memory.
 */
int msp_ticket_sla_need(msp_call_t *call, const PGresult *rows, int sha_col,
                        const msp_step_t *again, msp_step_t *next);

/* The document with its "sla" member shown as of now; NULL when out of
 * memory. */
char *msp_ticket_sla_doc(msp_call_t *call, const char *doc, size_t len, int64_t now);
/* The same as of the present: a list's item function (page.h). */
char *msp_ticket_sla_item(msp_call_t *call, const char *doc, size_t len);

/* The column a read adds for msp_ticket_sla_need(), with the ticket as k. */
#define MSP_SLA_CONFIG_COLUMN \
    "CASE WHEN k.status NOT IN ('resolved', 'closed') THEN k.sla->>'config' END"

#endif
