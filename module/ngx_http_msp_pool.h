
/*
 * ngx_http_msp_pool.h - each worker's pool of non-blocking PostgreSQL
 * connections, and the one way requests use it: jobs.
 *
 * A job runs a request's transaction one step (services/call/call.h) at a time
 * on one connection.  Every step is a single round trip, pipelined on
 * prepared statements:
 *
 *     [BEGIN [READ ONLY]; principal;] statements...; [COMMIT;] Sync
 *
 * with BEGIN and the principal on the first step only and COMMIT on a
 * step marked last.  The pool never calls back into its caller directly:
 * when a step has an outcome, it posts the job's "done" event, whose
 * handler reads job->status and the results.
 *
 *     ngx_http_msp_pool_run()      runs the job's next step: on the job's
 *                                  connection, or on an idle one, or after
 *                                  waiting in the queue (FIFO);
 *     ngx_http_msp_pool_clear()    frees the results of the last step;
 *     ngx_http_msp_pool_finish()   ends the job whatever its state: leaves
 *                                  the queue, or gives the connection back
 *                                  (rolling back first when a transaction
 *                                  is open, or draining a step in flight
 *                                  when the request went away).
 *
 * A connection is reused only when PQtransactionStatus() is IDLE; in any
 * other state it is closed and a new one is connected.
 */


#ifndef _NGX_HTTP_MSP_POOL_H_INCLUDED_
#define _NGX_HTTP_MSP_POOL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <libpq-fe.h>

#include "call/call.h"
#include "auth/principal.h"


/* the client-side timer of a step: msp_query_timeout plus this */
#define NGX_HTTP_MSP_QUERY_GRACE    2000

/* reconnecting after a failed attempt: 100 ms, doubling, at most 2 s */
#define NGX_HTTP_MSP_BACKOFF_MIN    100
#define NGX_HTTP_MSP_BACKOFF_MAX    2000

/* ngx_http_msp_pool_stats() writes at most this much */
#define NGX_HTTP_MSP_STATS_LEN      512


typedef struct {
    ngx_str_t                 conninfo;         /* NUL-terminated */
    ngx_uint_t                size;             /* connections per worker */
    ngx_uint_t                queue;            /* waiting jobs per worker */
    ngx_msec_t                connect_timeout;
    ngx_msec_t                query_timeout;
    ngx_str_t                 statement_timeout; /* "10000ms", NUL-terminated */
} ngx_http_msp_pool_conf_t;


typedef enum {
    NGX_HTTP_MSP_JOB_DONE = 0,      /* the step ran: results are in res[] */
    NGX_HTTP_MSP_JOB_FAILED,        /* no usable connection: 503 */
    NGX_HTTP_MSP_JOB_TIMEDOUT       /* no answer in time: 504 */
} ngx_http_msp_job_status_e;


typedef struct ngx_http_msp_conn_s  ngx_http_msp_conn_t;


typedef struct {
    /* set by the caller before each ngx_http_msp_pool_run() */
    const msp_step_t         *step;
    const msp_principal_t    *principal;       /* NULL: an empty principal */

    /*
     * set by the caller once: handler, data and log; posted when the step
     * has an outcome (never before ngx_http_msp_pool_run() returns)
     */
    ngx_event_t               done;

    /* the outcome, when "done" runs */
    ngx_http_msp_job_status_e status;
    PGresult                 *res[MSP_STEP_MAX_STMTS];
    ngx_uint_t                nres;
    unsigned                  setup_failed:1;  /* BEGIN or the principal */
    unsigned                  canceled:1;      /* some result is 57014 */
    unsigned                  committed:1;     /* the step's COMMIT is OK */

    /* the pool's own */
    ngx_queue_t               queue;
    ngx_event_t               wait;            /* queue timeout */
    ngx_http_msp_conn_t      *conn;
    unsigned                  waiting:1;
    unsigned                  running:1;       /* a step is in flight */
    unsigned                  begun:1;         /* BEGIN was sent */
    unsigned                  finished:1;
    unsigned                  served:1;
} ngx_http_msp_job_t;


ngx_int_t ngx_http_msp_pool_init(ngx_cycle_t *cycle,
    ngx_http_msp_pool_conf_t *conf);
void ngx_http_msp_pool_exit(ngx_cycle_t *cycle);

/*
 * Returns NGX_AGAIN when the step is under way or queued ("done" will be
 * posted), NGX_BUSY when the queue is full, NGX_DECLINED when there is no
 * usable connection (the pool is down, or the job's connection was lost
 * between steps) and NGX_ERROR when the worker has no pool.
 */
ngx_int_t ngx_http_msp_pool_run(ngx_http_msp_job_t *job);
void ngx_http_msp_pool_clear(ngx_http_msp_job_t *job);
void ngx_http_msp_pool_finish(ngx_http_msp_job_t *job);

/*
 * Writes the worker's pool figures as a JSON object and returns the end;
 * writes "{}" when the worker has no pool.
 */
u_char *ngx_http_msp_pool_stats(u_char *buf, u_char *last);


#endif /* _NGX_HTTP_MSP_POOL_H_INCLUDED_ */
