/*
 * run_blocking.h - the blocking driver: runs a call's steps on a libpq
 * connection with ordinary blocking calls.  For command-line tools and
 * tests, never for nginx (whose driver, the module's pool in module/, runs
 * the same steps without blocking).  Same transaction shape: BEGIN, the
 * principal, the statements, COMMIT on the last step, ROLLBACK otherwise.
 */
#ifndef MSP_RUN_BLOCKING_H
#define MSP_RUN_BLOCKING_H

#include "call/call.h"

/* Runs the call to its reply.  statement_timeout is e.g. "10000ms". */
void msp_run_blocking(PGconn *conn, msp_call_t *call, const char *statement_timeout,
                      msp_reply_t *reply);

#endif
