/*
 * run_blocking.c - the blocking driver: a call's steps on a blocking libpq
 * connection, for mspctl and tests.
 */
#include "call/run_blocking.h"

#include "http/api.h"

#include <stdio.h>
#include <string.h>

static PGresult *
run(PGconn *conn, const msp_sql_t *sql, const char *const *params)
{
    return PQexecParams(conn, sql->sql, sql->nparams, NULL, params, NULL, NULL, 0);
}

static int
ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static void
finish(PGconn *conn, const msp_sql_t *sql)
{
    PQclear(run(conn, sql, NULL));
}

void
msp_run_blocking(PGconn *conn, msp_call_t *call, const char *statement_timeout,
                 msp_reply_t *reply)
{
    msp_step_t step;
    memset(&step, 0, sizeof(step));
    memset(reply, 0, sizeof(*reply));
    if (msp_api_start(call, &step, reply) == MSP_REPLY) {
        return;
    }

    const msp_principal_t *p = call->principal;
    const char *principal[] = {
        p ? p->sub : "", p ? p->org : "", p ? p->role : "", statement_timeout
    };
    PGresult *res = run(conn, step.read_only ? &msp_sql_begin_read_only : &msp_sql_begin, NULL);
    int began = ok(res);
    PQclear(res);
    res = began ? run(conn, &msp_sql_principal, principal) : NULL;
    if (!began || !ok(res)) {
        PQclear(res);
        finish(conn, &msp_sql_rollback);
        msp_api_database_failure(call, reply, 0);
        return;
    }
    PQclear(res);

    for (;;) {
        PGresult *results[MSP_STEP_MAX_STMTS] = { 0 };
        int failed = 0;
        for (int i = 0; i < step.nstmts; i++) {
            results[i] = failed ? PQmakeEmptyPGresult(conn, PGRES_PIPELINE_ABORTED)
                                : run(conn, step.stmts[i].sql, step.stmts[i].params);
            if (!failed && !ok(results[i])) {
                /* The service answers the client in its own words; the
                 * operator running this driver sees the database's. */
                fprintf(stderr, "%s: %s", step.stmts[i].sql->name,
                        PQresultErrorMessage(results[i]));
                failed = 1;
            }
        }
        int committed = 0;
        if (step.last && !failed) {
            res = run(conn, &msp_sql_commit, NULL);
            committed = ok(res);
            PQclear(res);
        }

        msp_step_t next;
        memset(&next, 0, sizeof(next));
        msp_outcome_t out = step.then(call, results, step.nstmts, &next, reply);
        for (int i = 0; i < step.nstmts; i++) {
            PQclear(results[i]);
        }

        if (out == MSP_NEXT && !step.last && !failed) {
            step = next;
            continue;
        }
        if (!committed) {
            /* Replying before the last step is the service's choice not
             * to commit; asking for a step after a failed one, or after
             * the last, cannot be carried out. */
            finish(conn, &msp_sql_rollback);
            if (out == MSP_NEXT) {
                msp_api_database_failure(call, reply, 0);
            } else if (step.last) {
                msp_call_not_committed(call, reply);
            }
        }
        return;
    }
}
