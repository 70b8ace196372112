/*
 * ticket_sla.h - the SLA clocks in the tickets API.
 *
 * Writes: before a statement changes a ticket, the same transaction reads
 * what its clocks are computed from (msp_sql_ticket_sla_inputs, or
 * msp_sql_tenant_sla_inputs for a ticket being created);
 * msp_ticket_sla_compute() replays the history with the change about to
 * be made, and the changing statement stores the clocks with the ticket.
 * The document it returns is shown as of that instant
 * (msp_ticket_sla_doc with now = as_of), which is also what a retry with
 * the same Idempotency-Key gets.
 *
 * Reads: ticket documents carry the stored snapshot, which
 * msp_ticket_sla_doc() turns into the "sla" member extended to the present.
 * That needs the tenant's calendar when a clock runs; a worker that has
 * not compiled it yet gets it with msp_ticket_sla_need() first.
 */
#ifndef MSP_TICKET_SLA_H
#define MSP_TICKET_SLA_H

#include <stdint.h>

#include "call/call.h"
#include "sla/clock.h"

/* The columns of a tenant document the clocks and the escalation policy
 * are compiled from (msp_tenant_columns_t's order), with the tenant as t. */
#define MSP_TENANT_COLUMNS \
    "t.document_sha256, t.timezone, t.calendar::text, t.holidays::text, t.sla_policy::text," \
    " t.co_management_model, t.escalation_policy::text"
#define MSP_TENANT_NCOLUMNS 7

/* Those columns of a result row, from column `first` on. */
msp_tenant_columns_t msp_tenant_columns(const PGresult *res, int row, int first);

/* Columns of both inputs statements: number, the tenant columns, history,
 * now (Unix seconds). */
enum { MSP_SLA_IN_NUMBER, MSP_SLA_IN_SHA, MSP_SLA_IN_TIMEZONE, MSP_SLA_IN_CALENDAR,
       MSP_SLA_IN_HOLIDAYS, MSP_SLA_IN_POLICY, MSP_SLA_IN_MODEL, MSP_SLA_IN_ESCALATION,
       MSP_SLA_IN_HISTORY, MSP_SLA_IN_NOW };

/* $1 slug, $2 ticket number. */
extern const msp_sql_t msp_sql_ticket_sla_inputs;
/* $1 slug: a ticket being created has no history yet. */
extern const msp_sql_t msp_sql_tenant_sla_inputs;

/* The configuration named by an inputs row, compiled (and cached). */
const msp_sla_config_t *msp_ticket_sla_config(const PGresult *inputs, int row);

/* The clocks as statement parameters, in this order: snapshot, response
 * due, resolution due, breach_at (Unix seconds or NULL), pending alerts,
 * next alert; and the instant they are as of. */
#define MSP_TICKET_SLA_PARAMS 6
typedef struct {
    const char *params[MSP_TICKET_SLA_PARAMS];
    int64_t     as_of;
} msp_ticket_sla_t;

/*
 * Replays the history of an inputs row followed by `change` (the event the
 * write is about to record, as a history entry without its instant:
 * [kind, status, side, priority, responds, clock, threshold]; NULL for
 * none).  -1 when the clocks cannot be computed (out of memory, or a
 * tenant document that does not compile).
 */
int msp_ticket_sla_compute(msp_call_t *call, const PGresult *inputs, const json_t *change,
                           msp_ticket_sla_t *out);

/* $1 slug, $2 number, $3..$8 the clocks (msp_ticket_sla_t's params). */
extern const msp_sql_t msp_sql_ticket_sla_store;

/*
 * Reads.  Column sha_col of res[rows_at] names, for each ticket whose
 * clocks may run, the tenant document its snapshot needs.  Returns 0 when
 * every one is compiled (render now); when some are not, keeps the
 * step's results, fills *next with a step that loads the missing ones and
 * then calls `then` again with the kept results, and returns 1; -1 when
 * out of memory.  The configurations the rows need are held until the
 * call ends, so the answer shows every clock as of now however many
 * tenants the rows span and however small the worker's cache.
 */
int msp_ticket_sla_need(msp_call_t *call, PGresult *const *res, int nres, int rows_at,
                        int sha_col, msp_step_fn then, msp_step_t *next);

/* The document with its "sla" member shown as of now (0: as of its
 * snapshot, as the write that stored it saw it); NULL when out of memory. */
char *msp_ticket_sla_doc(msp_call_t *call, const char *doc, size_t len, int64_t now);
/* The same as of the present: a list's item function (page.h). */
char *msp_ticket_sla_item(msp_call_t *call, const char *doc, size_t len);

/* The column a read adds for msp_ticket_sla_need(), with the ticket as k. */
#define MSP_SLA_CONFIG_COLUMN \
    "CASE WHEN k.status NOT IN ('resolved', 'closed') THEN k.sla->>'config' END"

#endif
