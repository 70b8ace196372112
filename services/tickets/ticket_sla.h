/*
 * ticket_sla.h - the SLA clocks in the tickets API.
 *
 * Writes: before a statement changes a ticket, the same transaction reads
 * what its clocks are computed from (msp_stmt_ticket_sla_inputs, or
 * msp_stmt_tenant_sla_inputs for a ticket being created);
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

/* $1 slug, $2 prefix, $3 number: what a ticket's clocks are computed
 * from (its tenant's document, its history, the transaction's now). */
void msp_stmt_ticket_sla_inputs(msp_stmt_t *s, const char *slug, const char *prefix,
                                const char *number);
/* $1 slug: the same for a ticket being created, which has no history. */
void msp_stmt_tenant_sla_inputs(msp_stmt_t *s, const char *slug);

/* A row of either inputs statement (pointers into the result). */
typedef struct {
    const char *number;       /* NULL for a ticket being created */
    const char *timezone;     /* the tenant's IANA zone */
    const char *history;      /* JSON: app.ticket_sla_history() */
    int64_t     now;          /* the transaction's now, Unix seconds */
} msp_sla_inputs_t;

/* Reads row 0 of an inputs result; -1 when it has none. */
int msp_ticket_sla_inputs(const PGresult *inputs, msp_sla_inputs_t *in);

/* The configuration named by an inputs result, compiled (and cached);
 * NULL when the tenant's document does not compile, with the reason in
 * why[0..whylen) when why is not NULL. */
const msp_sla_config_t *msp_ticket_sla_config(const PGresult *inputs, char *why, size_t whylen);

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
/* The same from a configuration and a history (JSON text), as of now. */
int msp_ticket_sla_replay(msp_call_t *call, const msp_sla_config_t *cfg, const char *history,
                          const json_t *change, int64_t now, msp_ticket_sla_t *out);

/* Puts the clocks in s->params[first .. first + MSP_TICKET_SLA_PARAMS - 1],
 * for a statement that writes them with the ticket (SLA_VALUES in
 * tickets_write.c). */
void msp_ticket_sla_bind(msp_stmt_t *s, int first, const msp_ticket_sla_t *clocks);

/* $1 slug, $2 a JSON array of msp_ticket_sla_record()s: stores the clocks
 * of many of the tenant's tickets (what a recompute does). */
void msp_stmt_ticket_sla_store(msp_stmt_t *s, const char *slug, const char *records);
/* The clocks of ticket `number` (a decimal integer, as the database gives
 * it or msp_param_ticket_id() checked it) as one element of the store's
 * array. */
char *msp_ticket_sla_record(msp_call_t *call, const char *number,
                            const msp_ticket_sla_t *clocks);
/*
 * The measurements of a ticket never measured before (loaded with SQL, or
 * older than reporting), from its history (JSON text): one per instant of
 * it, replayed as of that instant, as elements of the facts statement's
 * array, comma-separated in a JSON array; NULL when the history cannot be
 * replayed or out of memory.  What a report reads the clocks of a past
 * instant from (ticket_sla_facts in migrations/0013_report_sla.sql).
 */
char *msp_ticket_sla_history_facts(msp_call_t *call, const msp_sla_config_t *cfg,
                                   const char *number, const char *history);
/* $1 slug, $2 a JSON array of facts: records them. */
void msp_stmt_ticket_sla_facts(msp_stmt_t *s, const char *slug, const char *facts);

/* Stores the clocks of one ticket (what a request does). */
void msp_stmt_ticket_sla_store_one(msp_stmt_t *s, const char *slug, const char *number,
                                   const msp_ticket_sla_t *clocks);

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
