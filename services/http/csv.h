/*
 * csv.h - a JSON reply as CSV (RFC 4180: CRLF line ends, fields quoted when
 * they hold a comma, a quote or a line break, quotes doubled), one table
 * per reply with a header row, for spreadsheets.
 *
 * A list ({"items": [...]}) becomes one row per item, its columns the
 * items' members in the order they first appear (a nested value as JSON
 * text; a page's next link stays in the Link header).  Any other document
 * becomes rows of `figure,value`, the figure named by its path
 * (attainment.resolution.by_priority.P1.met), so every number of a report
 * is one row.
 */
#ifndef MSP_CSV_H
#define MSP_CSV_H

#include "call/call.h"
#include "common/buf.h"

/* Whether the request asks for CSV: `format=csv` in args (already parsed
 * and checked), or else an Accept header naming text/csv. */
int msp_csv_wanted(const msp_call_t *call, const char *format);

/* Turns a 2xx JSON reply into CSV in place; other replies (problems) are
 * left as they are.  Out of memory: a 500 problem. */
msp_outcome_t msp_csv_reply(msp_call_t *call, msp_reply_t *reply, msp_outcome_t outcome);

/* A JSON value as a CSV field: a string as it is, null empty, anything
 * else as its JSON text (reals in 15 significant digits, MSP_JSON_REALS). */
void msp_csv_value(msp_buf_t *b, const json_t *v);

#endif
