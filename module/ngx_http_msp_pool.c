/*
 * ngx_http_msp_pool.c - each worker's pool of non-blocking PostgreSQL
 * connections (see ngx_http_msp_pool.h for how requests use it).
 *
 * Every libpq call here returns at once: connections are started with
 * PQconnectStart() and driven by PQconnectPoll(), queries go out with the
 * PQsend* functions and PQflush(), and PQgetResult() is called only when
 * PQisBusy() says it will not wait.  nginx watches PQsocket() through an
 * ngx_connection_t of the pool's; its events are level-triggered because
 * PQconsumeInput() may leave data in the socket.
 *
 * A connection's life:
 *
 *     CLOSED --timer--> CONNECTING --ok--> IDLE <--------------+
 *       ^                   |               |                  |
 *       +----failed---------+        job    v                  |
 *       +----lost (reconnect at once)---- ACTIVE --finish--> RESETTING
 *                                           (steps of one     (draining a
 *                                            transaction)      step, ROLLBACK)
 *
 * A connection lost while in use fails its job (503), or 504 when it was
 * the step's timer; it is reconnected at once, and after a failed attempt
 * with a backoff of 100 ms doubling to 2 s.  When no connection is usable
 * and the last attempt failed, the pool is down: new jobs are declined at
 * once and waiting ones fail.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_msp_pool.h"


/* statements each connection remembers as prepared; others run unprepared */
#define NGX_HTTP_MSP_PREPARED_MAX   128

/* BEGIN, principal, statements, COMMIT (each with its Parse) and Sync */
#define NGX_HTTP_MSP_CMDS_MAX       (2 * (MSP_STEP_MAX_STMTS + 3) + 1)

#define NGX_HTTP_MSP_QUERY_CANCELED  "57014"


typedef enum {
    NGX_HTTP_MSP_CONN_CLOSED = 0,
    NGX_HTTP_MSP_CONN_CONNECTING,
    NGX_HTTP_MSP_CONN_IDLE,
    NGX_HTTP_MSP_CONN_ACTIVE,
    NGX_HTTP_MSP_CONN_RESETTING
} ngx_http_msp_conn_state_e;


typedef enum {
    NGX_HTTP_MSP_CMD_PREPARE = 0,
    NGX_HTTP_MSP_CMD_BEGIN,
    NGX_HTTP_MSP_CMD_PRINCIPAL,
    NGX_HTTP_MSP_CMD_STMT,
    NGX_HTTP_MSP_CMD_COMMIT,
    NGX_HTTP_MSP_CMD_ROLLBACK,
    NGX_HTTP_MSP_CMD_SYNC
} ngx_http_msp_cmd_e;


/* one command of the round trip in flight, and what its result is for */
typedef struct {
    ngx_http_msp_cmd_e        kind;
    ngx_http_msp_cmd_e        owner;      /* a PREPARE's: whose statement */
    ngx_uint_t                index;      /* a STMT's place in the step */
    const msp_sql_t          *sql;
    unsigned                  answered:1;
} ngx_http_msp_cmd_t;


typedef struct ngx_http_msp_pool_s  ngx_http_msp_pool_t;


struct ngx_http_msp_conn_s {
    ngx_queue_t               queue;      /* in pool->idle when IDLE */
    ngx_http_msp_pool_t      *pool;
    ngx_uint_t                id;
    ngx_http_msp_conn_state_e state;

    PGconn                   *pg;
    ngx_connection_t         *c;          /* PQsocket() */
    ngx_event_t               timer;      /* connect, backoff, step, reset */
    ngx_msec_t                backoff;
    ngx_log_t                 log;

    ngx_http_msp_job_t       *job;        /* NULL when detached */

    ngx_http_msp_cmd_t        cmds[NGX_HTTP_MSP_CMDS_MAX];
    ngx_uint_t                ncmds;
    ngx_uint_t                cmd;        /* whose results come next */
    PGresult                 *res[MSP_STEP_MAX_STMTS];
    ngx_uint_t                nres;

    unsigned                  in_flight:1;
    unsigned                  flushing:1;
    unsigned                  rolling_back:1;
    unsigned                  setup_failed:1;
    unsigned                  canceled:1;
    unsigned                  committed:1;

    const msp_sql_t          *prepared[NGX_HTTP_MSP_PREPARED_MAX];
    ngx_uint_t                nprepared;
};


struct ngx_http_msp_pool_s {
    ngx_http_msp_pool_conf_t *conf;
    ngx_log_t                *log;
    ngx_http_msp_conn_t      *conns;
    ngx_queue_t               idle;
    ngx_queue_t               waiting;    /* jobs, first come first served */
    ngx_uint_t                nwaiting;
    unsigned                  connect_failed:1;  /* the last attempt */

    ngx_uint_t                served;
    ngx_uint_t                failed;     /* answered 503 or 504 */
    ngx_uint_t                rejected;   /* of which: the queue was full */
    ngx_uint_t                timed_out;  /* of which: 504 */
};


static void ngx_http_msp_conn_connect(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_poll(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_connected(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_connect_failed(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_lost(ngx_http_msp_conn_t *pc,
    ngx_http_msp_job_status_e status);
static void ngx_http_msp_conn_close(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_idle(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_release(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_start(ngx_http_msp_conn_t *pc,
    ngx_http_msp_job_t *job);
static ngx_int_t ngx_http_msp_conn_send_step(ngx_http_msp_conn_t *pc);
static ngx_int_t ngx_http_msp_conn_send_rollback(ngx_http_msp_conn_t *pc);
static ngx_int_t ngx_http_msp_conn_push(ngx_http_msp_conn_t *pc,
    ngx_http_msp_cmd_e kind, ngx_uint_t index, const msp_sql_t *sql,
    const char *const *params);
static ngx_int_t ngx_http_msp_conn_sync(ngx_http_msp_conn_t *pc);
static ngx_int_t ngx_http_msp_conn_flush(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_results(ngx_http_msp_conn_t *pc);
static ngx_int_t ngx_http_msp_conn_result(ngx_http_msp_conn_t *pc,
    PGresult *res);
static void ngx_http_msp_conn_step_done(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_clear(ngx_http_msp_conn_t *pc);
static ngx_uint_t ngx_http_msp_conn_ssl_pending(ngx_http_msp_conn_t *pc);
static ngx_uint_t ngx_http_msp_conn_is_prepared(ngx_http_msp_conn_t *pc,
    const msp_sql_t *sql);
static void ngx_http_msp_conn_unprepare(ngx_http_msp_conn_t *pc,
    const msp_sql_t *sql);

static ngx_int_t ngx_http_msp_conn_attach(ngx_http_msp_conn_t *pc);
static void ngx_http_msp_conn_detach(ngx_http_msp_conn_t *pc);
static ngx_int_t ngx_http_msp_conn_watch(ngx_http_msp_conn_t *pc,
    ngx_uint_t read, ngx_uint_t write);
static void ngx_http_msp_conn_set_timer(ngx_http_msp_conn_t *pc,
    ngx_msec_t timer, ngx_uint_t cancelable);

static void ngx_http_msp_conn_read_handler(ngx_event_t *rev);
static void ngx_http_msp_conn_write_handler(ngx_event_t *wev);
static void ngx_http_msp_conn_timer_handler(ngx_event_t *ev);
static void ngx_http_msp_job_wait_handler(ngx_event_t *ev);

static void ngx_http_msp_job_post(ngx_http_msp_job_t *job,
    ngx_http_msp_job_status_e status);
static void ngx_http_msp_pool_fail_waiting(ngx_http_msp_pool_t *pool);
static ngx_uint_t ngx_http_msp_pool_usable(ngx_http_msp_pool_t *pool);

static void ngx_http_msp_conn_log_pg(ngx_uint_t level,
    ngx_http_msp_conn_t *pc, const char *what, const char *msg);
static u_char *ngx_http_msp_conn_log_error(ngx_log_t *log, u_char *buf,
    size_t len);
static void ngx_http_msp_conn_notice(void *arg, const char *message);


/* the worker's pool; NULL in a worker without msp_database */
static ngx_http_msp_pool_t  *ngx_http_msp_pool;


ngx_int_t
ngx_http_msp_pool_init(ngx_cycle_t *cycle, ngx_http_msp_pool_conf_t *conf)
{
    ngx_uint_t             i;
    ngx_http_msp_conn_t   *pc;
    ngx_http_msp_pool_t   *pool;

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_http_msp_pool_t));
    if (pool == NULL) {
        return NGX_ERROR;
    }

    pool->conns = ngx_pcalloc(cycle->pool,
                              conf->size * sizeof(ngx_http_msp_conn_t));
    if (pool->conns == NULL) {
        return NGX_ERROR;
    }

    pool->conf = conf;
    pool->log = cycle->log;
    ngx_queue_init(&pool->idle);
    ngx_queue_init(&pool->waiting);

    ngx_http_msp_pool = pool;

    for (i = 0; i < conf->size; i++) {
        pc = &pool->conns[i];

        pc->pool = pool;
        pc->id = i + 1;
        pc->state = NGX_HTTP_MSP_CONN_CLOSED;

        pc->log = *cycle->log;
        pc->log.handler = ngx_http_msp_conn_log_error;
        pc->log.data = pc;
        pc->log.action = NULL;

        pc->timer.handler = ngx_http_msp_conn_timer_handler;
        pc->timer.data = pc;
        pc->timer.log = &pc->log;

        ngx_http_msp_conn_connect(pc);
    }

    return NGX_OK;
}


void
ngx_http_msp_pool_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t            i;
    ngx_http_msp_pool_t  *pool;

    pool = ngx_http_msp_pool;

    if (pool == NULL) {
        return;
    }

    for (i = 0; i < pool->conf->size; i++) {
        ngx_http_msp_conn_close(&pool->conns[i]);
    }

    ngx_http_msp_pool = NULL;
}


ngx_int_t
ngx_http_msp_pool_run(ngx_http_msp_job_t *job)
{
    ngx_queue_t          *q;
    ngx_http_msp_conn_t  *pc;
    ngx_http_msp_pool_t  *pool;

    pool = ngx_http_msp_pool;

    if (pool == NULL) {
        return NGX_ERROR;
    }

    job->status = NGX_HTTP_MSP_JOB_DONE;
    job->setup_failed = 0;
    job->canceled = 0;
    job->committed = 0;

    pc = job->conn;

    if (pc) {

        /* the next step of the transaction open on the job's connection */

        if (pc->in_flight || pc->state != NGX_HTTP_MSP_CONN_ACTIVE) {
            ngx_log_error(NGX_LOG_ALERT, job->done.log, 0,
                          "msp: step started while another runs");
            return NGX_ERROR;
        }

        if (ngx_http_msp_conn_send_step(pc) != NGX_OK) {
            ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
        }

        return NGX_AGAIN;
    }

    if (job->begun) {
        /* the connection holding its transaction was lost between steps */
        pool->failed++;
        return NGX_DECLINED;
    }

    if (!ngx_queue_empty(&pool->idle)) {
        q = ngx_queue_head(&pool->idle);
        ngx_queue_remove(q);

        pc = ngx_queue_data(q, ngx_http_msp_conn_t, queue);
        ngx_http_msp_conn_start(pc, job);

        return NGX_AGAIN;
    }

    if (pool->connect_failed && ngx_http_msp_pool_usable(pool) == 0) {
        pool->failed++;
        return NGX_DECLINED;
    }

    if (pool->nwaiting >= pool->conf->queue) {
        pool->failed++;
        pool->rejected++;
        return NGX_BUSY;
    }

    ngx_queue_insert_tail(&pool->waiting, &job->queue);
    pool->nwaiting++;
    job->waiting = 1;

    job->wait.handler = ngx_http_msp_job_wait_handler;
    job->wait.data = job;
    job->wait.log = job->done.log;

    ngx_add_timer(&job->wait, pool->conf->query_timeout);

    return NGX_AGAIN;
}


void
ngx_http_msp_pool_clear(ngx_http_msp_job_t *job)
{
    ngx_uint_t  i;

    for (i = 0; i < job->nres; i++) {
        if (job->res[i]) {
            PQclear(job->res[i]);
            job->res[i] = NULL;
        }
    }

    job->nres = 0;
}


void
ngx_http_msp_pool_finish(ngx_http_msp_job_t *job)
{
    ngx_http_msp_conn_t  *pc;
    ngx_http_msp_pool_t  *pool;

    if (job->finished) {
        return;
    }

    job->finished = 1;

    pool = ngx_http_msp_pool;

    if (job->done.posted) {
        ngx_delete_posted_event(&job->done);
    }

    if (job->wait.timer_set) {
        ngx_del_timer(&job->wait);
    }

    if (job->waiting) {
        ngx_queue_remove(&job->queue);
        job->waiting = 0;
        pool->nwaiting--;
    }

    ngx_http_msp_pool_clear(job);

    if (job->served && job->status == NGX_HTTP_MSP_JOB_DONE && pool) {
        pool->served++;
    }

    pc = job->conn;

    if (pc == NULL) {
        return;
    }

    job->conn = NULL;
    pc->job = NULL;

    if (job->running) {

        /*
         * the request went away during a step: the connection drains the
         * step's results up to its Sync, then is released (its timer
         * still runs)
         */

        job->running = 0;
        pc->state = NGX_HTTP_MSP_CONN_RESETTING;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                       "msp conn %ui: detached during a step", pc->id);
        return;
    }

    ngx_http_msp_conn_release(pc);
}


u_char *
ngx_http_msp_pool_stats(u_char *buf, u_char *last)
{
    ngx_uint_t            i, idle, busy, connecting, closed;
    ngx_http_msp_pool_t  *pool;

    pool = ngx_http_msp_pool;

    if (pool == NULL) {
        return ngx_slprintf(buf, last, "{}");
    }

    idle = 0;
    busy = 0;
    connecting = 0;
    closed = 0;

    for (i = 0; i < pool->conf->size; i++) {

        switch (pool->conns[i].state) {

        case NGX_HTTP_MSP_CONN_IDLE:
            idle++;
            break;

        case NGX_HTTP_MSP_CONN_ACTIVE:
        case NGX_HTTP_MSP_CONN_RESETTING:
            busy++;
            break;

        case NGX_HTTP_MSP_CONN_CONNECTING:
            connecting++;
            break;

        default:
            closed++;
        }
    }

    return ngx_slprintf(buf, last,
                        "{\"worker\":%P,\"size\":%ui,\"idle\":%ui,"
                        "\"busy\":%ui,\"connecting\":%ui,\"closed\":%ui,"
                        "\"waiting\":%ui,\"queue\":%ui,"
                        "\"served\":%ui,\"failed\":%ui,"
                        "\"rejected\":%ui,\"timed_out\":%ui}",
                        ngx_pid, pool->conf->size, idle, busy, connecting,
                        closed, pool->nwaiting, pool->conf->queue,
                        pool->served, pool->failed, pool->rejected,
                        pool->timed_out);
}


/* connecting */


static void
ngx_http_msp_conn_connect(ngx_http_msp_conn_t *pc)
{
    ngx_http_msp_pool_conf_t  *conf;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    conf = pc->pool->conf;

    pc->log.action = "connecting to the database";

    pc->pg = PQconnectStart((const char *) conf->conninfo.data);

    if (pc->pg == NULL) {
        ngx_log_error(NGX_LOG_ALERT, &pc->log, 0,
                      "PQconnectStart() failed: out of memory");
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    if (PQstatus(pc->pg) == CONNECTION_BAD) {
        ngx_http_msp_conn_log_pg(pc->backoff ? NGX_LOG_INFO : NGX_LOG_ERR,
                                 pc, "could not connect",
                                 PQerrorMessage(pc->pg));
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    if (PQsetnonblocking(pc->pg, 1) != 0) {
        ngx_http_msp_conn_log_pg(NGX_LOG_ALERT, pc, "PQsetnonblocking() failed",
                                 PQerrorMessage(pc->pg));
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    PQsetNoticeProcessor(pc->pg, ngx_http_msp_conn_notice, pc);

    pc->state = NGX_HTTP_MSP_CONN_CONNECTING;
    pc->nprepared = 0;

    ngx_http_msp_conn_set_timer(pc, conf->connect_timeout, 1);

    /* as if PQconnectPoll() had returned PGRES_POLLING_WRITING */

    if (ngx_http_msp_conn_attach(pc) != NGX_OK
        || ngx_http_msp_conn_watch(pc, 0, 1) != NGX_OK)
    {
        ngx_http_msp_conn_connect_failed(pc);
    }
}


static void
ngx_http_msp_conn_poll(ngx_http_msp_conn_t *pc)
{
    PostgresPollingStatusType  status;

    /*
     * PQconnectPoll() may close the socket and open another one, which
     * may get the same number: nginx stops watching the socket first and
     * watches whatever PQsocket() is afterwards
     */

    if (ngx_http_msp_conn_watch(pc, 0, 0) != NGX_OK) {
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    status = PQconnectPoll(pc->pg);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "msp conn %ui: PQconnectPoll: %d", pc->id, (int) status);

    switch (status) {

    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:

        if (ngx_http_msp_conn_attach(pc) != NGX_OK
            || ngx_http_msp_conn_watch(pc, status == PGRES_POLLING_READING,
                                       status == PGRES_POLLING_WRITING)
               != NGX_OK)
        {
            ngx_http_msp_conn_connect_failed(pc);
        }

        return;

    case PGRES_POLLING_OK:
        ngx_http_msp_conn_connected(pc);
        return;

    default: /* PGRES_POLLING_FAILED */
        ngx_http_msp_conn_log_pg(pc->backoff ? NGX_LOG_INFO : NGX_LOG_ERR,
                                 pc, "could not connect",
                                 PQerrorMessage(pc->pg));
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }
}


static void
ngx_http_msp_conn_connected(ngx_http_msp_conn_t *pc)
{
    ngx_uint_t  level;

    if (ngx_http_msp_conn_attach(pc) != NGX_OK) {
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    if (PQenterPipelineMode(pc->pg) != 1) {
        ngx_http_msp_conn_log_pg(NGX_LOG_ALERT, pc,
                                 "PQenterPipelineMode() failed",
                                 PQerrorMessage(pc->pg));
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    /* the read event tells when the server closes an idle connection */

    if (ngx_http_msp_conn_watch(pc, 1, 0) != NGX_OK) {
        ngx_http_msp_conn_connect_failed(pc);
        return;
    }

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    pc->log.action = NULL;

    /* after failed attempts, the database is back: worth a notice */

    level = pc->backoff ? NGX_LOG_NOTICE : NGX_LOG_INFO;

    ngx_log_error(level, &pc->log, 0, "connected to the database");

    pc->backoff = 0;
    pc->pool->connect_failed = 0;

    ngx_http_msp_conn_idle(pc);
}


static void
ngx_http_msp_conn_connect_failed(ngx_http_msp_conn_t *pc)
{
    ngx_http_msp_pool_t  *pool;

    pool = pc->pool;

    ngx_http_msp_conn_close(pc);

    pool->connect_failed = 1;

    pc->backoff = pc->backoff ? ngx_min(2 * pc->backoff,
                                        NGX_HTTP_MSP_BACKOFF_MAX)
                              : NGX_HTTP_MSP_BACKOFF_MIN;

    if (!(ngx_exiting || ngx_quit || ngx_terminate)) {
        ngx_http_msp_conn_set_timer(pc, pc->backoff, 1);
    }

    /* the pool is down: nobody waits for it */

    if (ngx_http_msp_pool_usable(pool) == 0) {
        ngx_http_msp_pool_fail_waiting(pool);
    }
}


/* an established connection cannot be used any more */

static void
ngx_http_msp_conn_lost(ngx_http_msp_conn_t *pc,
    ngx_http_msp_job_status_e status)
{
    ngx_http_msp_job_t  *job;

    job = pc->job;

    ngx_http_msp_conn_close(pc);

    if (job) {
        pc->job = NULL;
        job->conn = NULL;

        if (job->running) {
            job->running = 0;
            ngx_http_msp_job_post(job, status);
        }
    }

    ngx_http_msp_conn_connect(pc);
}


static void
ngx_http_msp_conn_close(ngx_http_msp_conn_t *pc)
{
    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    if (pc->state == NGX_HTTP_MSP_CONN_IDLE) {
        ngx_queue_remove(&pc->queue);
    }

    ngx_http_msp_conn_clear(pc);
    ngx_http_msp_conn_detach(pc);

    if (pc->pg) {
        PQfinish(pc->pg);
        pc->pg = NULL;
    }

    pc->state = NGX_HTTP_MSP_CONN_CLOSED;
    pc->nprepared = 0;
    pc->in_flight = 0;
    pc->flushing = 0;
    pc->rolling_back = 0;
    pc->log.action = NULL;
}


/* handing connections out and taking them back */


static void
ngx_http_msp_conn_idle(ngx_http_msp_conn_t *pc)
{
    ngx_queue_t          *q;
    ngx_http_msp_job_t   *job;
    ngx_http_msp_pool_t  *pool;

    pool = pc->pool;

    pc->job = NULL;
    pc->rolling_back = 0;
    pc->log.action = NULL;

    if (!ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        ngx_queue_remove(q);
        pool->nwaiting--;

        job = ngx_queue_data(q, ngx_http_msp_job_t, queue);
        job->waiting = 0;

        if (job->wait.timer_set) {
            ngx_del_timer(&job->wait);
        }

        ngx_http_msp_conn_start(pc, job);
        return;
    }

    pc->state = NGX_HTTP_MSP_CONN_IDLE;
    ngx_queue_insert_head(&pool->idle, &pc->queue);
}


static void
ngx_http_msp_conn_start(ngx_http_msp_conn_t *pc, ngx_http_msp_job_t *job)
{
    pc->state = NGX_HTTP_MSP_CONN_ACTIVE;
    pc->job = job;
    job->conn = pc;

    if (ngx_http_msp_conn_send_step(pc) != NGX_OK) {
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
    }
}


/*
 * A connection nobody uses any more: back to the pool if no transaction
 * is open, through a ROLLBACK if one is, closed in any other state.
 */

static void
ngx_http_msp_conn_release(ngx_http_msp_conn_t *pc)
{
    PGTransactionStatusType  status;

    pc->job = NULL;

    status = PQtransactionStatus(pc->pg);

    switch (status) {

    case PQTRANS_IDLE:
        ngx_http_msp_conn_idle(pc);
        return;

    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:

        if (!pc->rolling_back) {
            pc->state = NGX_HTTP_MSP_CONN_RESETTING;

            if (ngx_http_msp_conn_send_rollback(pc) == NGX_OK) {
                return;
            }
        }

        /* fall through */

    default:
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "closing a connection in transaction state %d",
                      (int) status);
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
        return;
    }
}


/* sending */


static ngx_int_t
ngx_http_msp_conn_send_step(ngx_http_msp_conn_t *pc)
{
    ngx_int_t                  i;
    const char                *principal[4];
    const msp_step_t          *step;
    ngx_http_msp_job_t        *job;
    const msp_principal_t     *p;
    ngx_http_msp_pool_conf_t  *conf;

    job = pc->job;
    step = job->step;
    conf = pc->pool->conf;

    ngx_http_msp_conn_clear(pc);

    pc->log.action = "running a query";
    job->running = 1;

    if (!job->begun) {
        job->begun = 1;

        if (ngx_http_msp_conn_push(pc, NGX_HTTP_MSP_CMD_BEGIN, 0,
                                   step->read_only ? &msp_sql_begin_read_only
                                                   : &msp_sql_begin,
                                   NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* an empty principal: row-level security shows nothing */

        p = job->principal;

        principal[0] = p ? p->sub : "";
        principal[1] = p ? p->org : "";
        principal[2] = p ? p->role : "";
        principal[3] = (const char *) conf->statement_timeout.data;

        if (ngx_http_msp_conn_push(pc, NGX_HTTP_MSP_CMD_PRINCIPAL, 0,
                                   &msp_sql_principal, principal)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < step->nstmts; i++) {
        if (ngx_http_msp_conn_push(pc, NGX_HTTP_MSP_CMD_STMT, i,
                                   step->stmts[i].sql, step->stmts[i].params)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    pc->nres = step->nstmts;

    if (step->last) {
        if (ngx_http_msp_conn_push(pc, NGX_HTTP_MSP_CMD_COMMIT, 0,
                                   &msp_sql_commit, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_msp_conn_sync(pc);
}


static ngx_int_t
ngx_http_msp_conn_send_rollback(ngx_http_msp_conn_t *pc)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "msp conn %ui: rollback", pc->id);

    ngx_http_msp_conn_clear(pc);

    pc->rolling_back = 1;
    pc->log.action = "rolling back";

    if (ngx_http_msp_conn_push(pc, NGX_HTTP_MSP_CMD_ROLLBACK, 0,
                               &msp_sql_rollback, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_msp_conn_sync(pc);
}


/* a statement, prepared on this connection first if it is not yet */

static ngx_int_t
ngx_http_msp_conn_push(ngx_http_msp_conn_t *pc, ngx_http_msp_cmd_e kind,
    ngx_uint_t index, const msp_sql_t *sql, const char *const *params)
{
    ngx_http_msp_cmd_t  *cmd;

    if (pc->ncmds + 2 >= NGX_HTTP_MSP_CMDS_MAX) {
        ngx_log_error(NGX_LOG_ALERT, &pc->log, 0, "too many commands");
        return NGX_ERROR;
    }

    if (!ngx_http_msp_conn_is_prepared(pc, sql)) {

        if (pc->nprepared == NGX_HTTP_MSP_PREPARED_MAX) {

            /* more statements than a connection remembers: unprepared */

            if (!PQsendQueryParams(pc->pg, sql->sql, sql->nparams, NULL,
                                   params, NULL, NULL, 0))
            {
                ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc,
                                         "PQsendQueryParams() failed",
                                         PQerrorMessage(pc->pg));
                return NGX_ERROR;
            }

            goto queued;
        }

        if (!PQsendPrepare(pc->pg, sql->name, sql->sql, sql->nparams, NULL)) {
            ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc,
                                     "PQsendPrepare() failed",
                                     PQerrorMessage(pc->pg));
            return NGX_ERROR;
        }

        /* remembered now, so that a step using it twice parses it once */

        pc->prepared[pc->nprepared++] = sql;

        cmd = &pc->cmds[pc->ncmds++];
        cmd->kind = NGX_HTTP_MSP_CMD_PREPARE;
        cmd->owner = kind;
        cmd->index = index;
        cmd->sql = sql;
        cmd->answered = 0;
    }

    if (!PQsendQueryPrepared(pc->pg, sql->name, sql->nparams, params,
                             NULL, NULL, 0))
    {
        ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc,
                                 "PQsendQueryPrepared() failed",
                                 PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

queued:

    cmd = &pc->cmds[pc->ncmds++];
    cmd->kind = kind;
    cmd->owner = kind;
    cmd->index = index;
    cmd->sql = sql;
    cmd->answered = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_msp_conn_sync(ngx_http_msp_conn_t *pc)
{
    ngx_msec_t           timer;
    ngx_http_msp_cmd_t  *cmd;

    if (!PQpipelineSync(pc->pg)) {
        ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc, "PQpipelineSync() failed",
                                 PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

    cmd = &pc->cmds[pc->ncmds++];
    cmd->kind = NGX_HTTP_MSP_CMD_SYNC;
    cmd->owner = NGX_HTTP_MSP_CMD_SYNC;
    cmd->index = 0;
    cmd->sql = NULL;
    cmd->answered = 0;

    pc->in_flight = 1;

    /*
     * the server cancels a statement after statement_timeout; this timer
     * catches a server or network that does not answer at all
     */

    timer = pc->pool->conf->query_timeout + NGX_HTTP_MSP_QUERY_GRACE;
    ngx_http_msp_conn_set_timer(pc, timer, pc->job == NULL);

    return ngx_http_msp_conn_flush(pc);
}


static ngx_int_t
ngx_http_msp_conn_flush(ngx_http_msp_conn_t *pc)
{
    int  rc;

    rc = PQflush(pc->pg);

    if (rc < 0) {
        ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc, "PQflush() failed",
                                 PQerrorMessage(pc->pg));
        return NGX_ERROR;
    }

    pc->flushing = (rc == 1);

    return ngx_http_msp_conn_watch(pc, 1, pc->flushing);
}


/* receiving */


static void
ngx_http_msp_conn_results(ngx_http_msp_conn_t *pc)
{
    ngx_int_t   rc;
    PGresult   *res;

    for ( ;; ) {

        if (PQstatus(pc->pg) == CONNECTION_BAD) {
            ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc, "connection lost",
                                     PQerrorMessage(pc->pg));
            ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
            return;
        }

        if (PQisBusy(pc->pg)) {

            if (!ngx_http_msp_conn_ssl_pending(pc)) {
                return;
            }

            /* the socket may never be readable again: TLS has the data */

            if (!PQconsumeInput(pc->pg)) {
                ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc, "connection lost",
                                         PQerrorMessage(pc->pg));
                ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
                return;
            }

            continue;
        }

        res = PQgetResult(pc->pg);

        if (res == NULL) {

            /* the end of a command's results */

            if (pc->cmd >= pc->ncmds
                || pc->cmds[pc->cmd].kind == NGX_HTTP_MSP_CMD_SYNC)
            {
                if (PQstatus(pc->pg) == CONNECTION_BAD) {
                    continue;
                }

                ngx_log_error(NGX_LOG_ALERT, &pc->log, 0,
                              "no result where one was expected");
                ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
                return;
            }

            pc->cmd++;
            continue;
        }

        rc = ngx_http_msp_conn_result(pc, res);

        if (rc == NGX_DONE) {
            ngx_http_msp_conn_step_done(pc);
            return;
        }

        if (rc == NGX_DECLINED) {
            ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
            return;
        }

        if (rc == NGX_ERROR) {
            if (PQstatus(pc->pg) == CONNECTION_BAD) {
                continue;
            }

            ngx_log_error(NGX_LOG_ALERT, &pc->log, 0,
                          "unexpected result from the database");
            ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
            return;
        }
    }
}


/*
 * Files one result under its command; keeps the statements' own (and
 * the error of a statement's failed Parse), frees the rest.  Returns
 * NGX_DONE on the Sync that ends the round trip, NGX_DECLINED when the
 * server announced it is closing the connection.
 */

static ngx_int_t
ngx_http_msp_conn_result(ngx_http_msp_conn_t *pc, PGresult *res)
{
    char                *state;
    ExecStatusType       status;
    ngx_http_msp_cmd_t  *cmd;

    status = PQresultStatus(res);

    if (pc->cmd >= pc->ncmds) {
        PQclear(res);
        return NGX_ERROR;
    }

    cmd = &pc->cmds[pc->cmd];

    if (cmd->kind == NGX_HTTP_MSP_CMD_SYNC
        || status == PGRES_PIPELINE_SYNC)
    {
        /*
         * a server shutting down (57P01..57P03) says so in an error that
         * belongs to no command, then closes: the connection is lost, not
         * out of step with the protocol
         */

        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        if (status == PGRES_FATAL_ERROR && state != NULL
            && ngx_strncmp(state, "57P", 3) == 0)
        {
            ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc,
                                     "connection closed by the server",
                                     PQresultErrorMessage(res));
            PQclear(res);
            return NGX_DECLINED;
        }

        PQclear(res);

        if (cmd->kind == NGX_HTTP_MSP_CMD_SYNC
            && status == PGRES_PIPELINE_SYNC)
        {
            return NGX_DONE;
        }

        return NGX_ERROR;
    }

    if (cmd->answered) {
        /* a command has one result; be lenient with more */
        PQclear(res);
        return NGX_OK;
    }

    cmd->answered = 1;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    if (state && ngx_strcmp(state, NGX_HTTP_MSP_QUERY_CANCELED) == 0) {
        pc->canceled = 1;
    }

    switch (cmd->kind) {

    case NGX_HTTP_MSP_CMD_PREPARE:

        if (status == PGRES_COMMAND_OK) {
            break;
        }

        ngx_http_msp_conn_unprepare(pc, cmd->sql);

        if (status == PGRES_FATAL_ERROR) {
            ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc, cmd->sql->name,
                                     PQresultErrorMessage(res));
        }

        if (cmd->owner == NGX_HTTP_MSP_CMD_STMT) {

            /* the statement's answer is why it could not be prepared */

            if (pc->res[cmd->index] == NULL) {
                pc->res[cmd->index] = res;
                return NGX_OK;
            }

        } else if (cmd->owner != NGX_HTTP_MSP_CMD_COMMIT
                   && cmd->owner != NGX_HTTP_MSP_CMD_ROLLBACK)
        {
            pc->setup_failed = 1;
        }

        break;

    case NGX_HTTP_MSP_CMD_BEGIN:
    case NGX_HTTP_MSP_CMD_PRINCIPAL:

        if (status != (cmd->kind == NGX_HTTP_MSP_CMD_BEGIN ? PGRES_COMMAND_OK
                                                           : PGRES_TUPLES_OK))
        {
            pc->setup_failed = 1;

            if (status == PGRES_FATAL_ERROR) {
                ngx_http_msp_conn_log_pg(NGX_LOG_ERR, pc, cmd->sql->name,
                                         PQresultErrorMessage(res));
            }
        }

        break;

    case NGX_HTTP_MSP_CMD_STMT:

        if (pc->res[cmd->index] == NULL) {
            pc->res[cmd->index] = res;
            return NGX_OK;
        }

        break;

    case NGX_HTTP_MSP_CMD_COMMIT:

        /* COMMIT of a failed transaction answers ROLLBACK */

        pc->committed = (status == PGRES_COMMAND_OK
                         && ngx_strcmp(PQcmdStatus(res), "COMMIT") == 0);
        break;

    default: /* NGX_HTTP_MSP_CMD_ROLLBACK: the transaction status tells */
        break;
    }

    PQclear(res);

    return NGX_OK;
}


static void
ngx_http_msp_conn_step_done(ngx_http_msp_conn_t *pc)
{
    ngx_uint_t           i;
    ngx_http_msp_job_t  *job;

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    pc->in_flight = 0;
    pc->log.action = NULL;

    job = pc->job;

    if (job == NULL) {
        /* a detached step or a rollback has come to its end */
        ngx_http_msp_conn_clear(pc);
        ngx_http_msp_conn_release(pc);
        return;
    }

    for (i = 0; i < pc->nres; i++) {
        if (pc->res[i] == NULL) {
            ngx_log_error(NGX_LOG_ALERT, &pc->log, 0,
                          "statement %ui of a step has no result", i);
            ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
            return;
        }
    }

    for (i = 0; i < pc->nres; i++) {
        job->res[i] = pc->res[i];
        pc->res[i] = NULL;
    }

    job->nres = pc->nres;
    pc->nres = 0;

    job->setup_failed = pc->setup_failed;
    job->canceled = pc->canceled;
    job->committed = pc->committed;
    job->served = 1;
    job->running = 0;

    ngx_http_msp_job_post(job, NGX_HTTP_MSP_JOB_DONE);
}


static void
ngx_http_msp_conn_clear(ngx_http_msp_conn_t *pc)
{
    ngx_uint_t  i;

    for (i = 0; i < MSP_STEP_MAX_STMTS; i++) {
        if (pc->res[i]) {
            PQclear(pc->res[i]);
            pc->res[i] = NULL;
        }
    }

    pc->nres = 0;
    pc->ncmds = 0;
    pc->cmd = 0;
    pc->setup_failed = 0;
    pc->canceled = 0;
    pc->committed = 0;
}


/*
 * PQconsumeInput() reads at most one TLS record at a time: the rest of
 * an answer may wait decrypted inside OpenSSL while the socket has
 * nothing more to say.
 */

static ngx_uint_t
ngx_http_msp_conn_ssl_pending(ngx_http_msp_conn_t *pc)
{
#if (NGX_OPENSSL)
    SSL  *ssl;

    if (!PQsslInUse(pc->pg)) {
        return 0;
    }

    ssl = PQsslStruct(pc->pg, "OpenSSL");

    return ssl != NULL && SSL_pending(ssl) > 0;
#else
    return 0;
#endif
}


static ngx_uint_t
ngx_http_msp_conn_is_prepared(ngx_http_msp_conn_t *pc, const msp_sql_t *sql)
{
    ngx_uint_t  i;

    for (i = 0; i < pc->nprepared; i++) {
        if (pc->prepared[i] == sql) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_msp_conn_unprepare(ngx_http_msp_conn_t *pc, const msp_sql_t *sql)
{
    ngx_uint_t  i;

    for (i = 0; i < pc->nprepared; i++) {
        if (pc->prepared[i] == sql) {
            pc->prepared[i] = pc->prepared[--pc->nprepared];
            return;
        }
    }
}


/* nginx's view of the socket */


static ngx_int_t
ngx_http_msp_conn_attach(ngx_http_msp_conn_t *pc)
{
    ngx_socket_t       fd;
    ngx_connection_t  *c;

    fd = PQsocket(pc->pg);

    if (fd == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0, "no socket to watch");
        return NGX_ERROR;
    }

    if (pc->c) {
        if (pc->c->fd == fd) {
            return NGX_OK;
        }

        ngx_http_msp_conn_detach(pc);
    }

    c = ngx_get_connection(fd, &pc->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = pc;
    c->log = &pc->log;
    c->read->log = &pc->log;
    c->write->log = &pc->log;
    c->read->handler = ngx_http_msp_conn_read_handler;
    c->write->handler = ngx_http_msp_conn_write_handler;

    pc->c = c;

    return NGX_OK;
}


/*
 * Forgets the socket, which libpq closes (or has closed already): nginx
 * stops watching it without a system call, as ngx_close_connection()
 * does, because the descriptor may be gone.
 */

static void
ngx_http_msp_conn_detach(ngx_http_msp_conn_t *pc)
{
    ngx_connection_t  *c;

    c = pc->c;

    if (c == NULL) {
        return;
    }

    if (c->read->active || c->read->disabled) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active || c->write->disabled) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
    pc->c = NULL;
}


/* level-triggered: libpq may leave data in the socket */

static ngx_int_t
ngx_http_msp_conn_watch(ngx_http_msp_conn_t *pc, ngx_uint_t read,
    ngx_uint_t write)
{
    ngx_connection_t  *c;

    c = pc->c;

    if (c == NULL) {
        return (read || write) ? NGX_ERROR : NGX_OK;
    }

    if (read && !c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (!read && c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (write && !c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (!write && c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Timers that only wait for the database (connecting, reconnecting) are
 * cancelable so that they do not hold up a worker's graceful exit; a
 * step's timer is not: a request waits on it.
 */

static void
ngx_http_msp_conn_set_timer(ngx_http_msp_conn_t *pc, ngx_msec_t timer,
    ngx_uint_t cancelable)
{
    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    pc->timer.cancelable = cancelable;

    ngx_add_timer(&pc->timer, timer);
}


/* event handlers */


static void
ngx_http_msp_conn_read_handler(ngx_event_t *rev)
{
    ngx_connection_t     *c;
    ngx_http_msp_conn_t  *pc;

    c = rev->data;
    pc = c->data;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "msp conn %ui: read, state %d", pc->id, (int) pc->state);

    if (pc->state == NGX_HTTP_MSP_CONN_CONNECTING) {
        ngx_http_msp_conn_poll(pc);
        return;
    }

    if (!PQconsumeInput(pc->pg)) {
        ngx_http_msp_conn_log_pg(pc->in_flight ? NGX_LOG_ERR : NGX_LOG_INFO,
                                 pc, "connection lost",
                                 PQerrorMessage(pc->pg));
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
        return;
    }

    if (pc->flushing && ngx_http_msp_conn_flush(pc) != NGX_OK) {
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
        return;
    }

    if (pc->in_flight) {
        ngx_http_msp_conn_results(pc);
        return;
    }

    /* nothing is expected: a notice, or the server closing the connection */

    (void) PQisBusy(pc->pg);

    if (PQstatus(pc->pg) == CONNECTION_BAD) {
        ngx_http_msp_conn_log_pg(NGX_LOG_INFO, pc, "connection lost",
                                 PQerrorMessage(pc->pg));
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
    }
}


static void
ngx_http_msp_conn_write_handler(ngx_event_t *wev)
{
    ngx_connection_t     *c;
    ngx_http_msp_conn_t  *pc;

    c = wev->data;
    pc = c->data;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "msp conn %ui: write, state %d", pc->id, (int) pc->state);

    if (pc->state == NGX_HTTP_MSP_CONN_CONNECTING) {
        ngx_http_msp_conn_poll(pc);
        return;
    }

    if (ngx_http_msp_conn_flush(pc) != NGX_OK) {
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_FAILED);
    }
}


static void
ngx_http_msp_conn_timer_handler(ngx_event_t *ev)
{
    ngx_uint_t            level;
    ngx_http_msp_conn_t  *pc;

    pc = ev->data;

    switch (pc->state) {

    case NGX_HTTP_MSP_CONN_CLOSED:
        ngx_http_msp_conn_connect(pc);
        return;

    case NGX_HTTP_MSP_CONN_CONNECTING:
        level = pc->backoff ? NGX_LOG_INFO : NGX_LOG_ERR;
        ngx_log_error(level, &pc->log, NGX_ETIMEDOUT, "could not connect");
        ngx_http_msp_conn_connect_failed(pc);
        return;

    case NGX_HTTP_MSP_CONN_ACTIVE:
    case NGX_HTTP_MSP_CONN_RESETTING:

        /* the connection is in a state nobody knows: it is not reused */

        ngx_log_error(NGX_LOG_ERR, &pc->log, NGX_ETIMEDOUT,
                      "the database did not answer");
        ngx_http_msp_conn_lost(pc, NGX_HTTP_MSP_JOB_TIMEDOUT);
        return;

    default:
        return;
    }
}


static void
ngx_http_msp_job_wait_handler(ngx_event_t *ev)
{
    ngx_http_msp_job_t   *job;
    ngx_http_msp_pool_t  *pool;

    job = ev->data;
    pool = ngx_http_msp_pool;

    ngx_log_error(NGX_LOG_ERR, ev->log, NGX_ETIMEDOUT,
                  "msp: timed out waiting for a database connection");

    ngx_queue_remove(&job->queue);
    job->waiting = 0;
    pool->nwaiting--;

    ngx_http_msp_job_post(job, NGX_HTTP_MSP_JOB_TIMEDOUT);
}


/* the pool */


static void
ngx_http_msp_job_post(ngx_http_msp_job_t *job,
    ngx_http_msp_job_status_e status)
{
    ngx_http_msp_pool_t  *pool;

    pool = ngx_http_msp_pool;

    job->status = status;

    if (status != NGX_HTTP_MSP_JOB_DONE) {
        pool->failed++;

        if (status == NGX_HTTP_MSP_JOB_TIMEDOUT) {
            pool->timed_out++;
        }
    }

    ngx_post_event(&job->done, &ngx_posted_events);
}


static void
ngx_http_msp_pool_fail_waiting(ngx_http_msp_pool_t *pool)
{
    ngx_queue_t         *q;
    ngx_http_msp_job_t  *job;

    while (!ngx_queue_empty(&pool->waiting)) {
        q = ngx_queue_head(&pool->waiting);
        ngx_queue_remove(q);
        pool->nwaiting--;

        job = ngx_queue_data(q, ngx_http_msp_job_t, queue);
        job->waiting = 0;

        if (job->wait.timer_set) {
            ngx_del_timer(&job->wait);
        }

        ngx_http_msp_job_post(job, NGX_HTTP_MSP_JOB_FAILED);
    }
}


static ngx_uint_t
ngx_http_msp_pool_usable(ngx_http_msp_pool_t *pool)
{
    ngx_uint_t  i, n;

    n = 0;

    for (i = 0; i < pool->conf->size; i++) {
        if (pool->conns[i].state >= NGX_HTTP_MSP_CONN_IDLE) {
            n++;
        }
    }

    return n;
}


/* logging */


static void
ngx_http_msp_conn_log_pg(ngx_uint_t level, ngx_http_msp_conn_t *pc,
    const char *what, const char *msg)
{
    size_t  len;

    len = msg ? ngx_strlen(msg) : 0;

    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
        len--;
    }

    ngx_log_error(level, &pc->log, 0, "%s: %*s", what, len, msg);
}


static u_char *
ngx_http_msp_conn_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char               *p;
    ngx_http_msp_conn_t  *pc;

    pc = log->data;
    p = buf;

    if (log->action) {
        p = ngx_snprintf(buf, len, " while %s", log->action);
        len -= p - buf;
    }

    return ngx_snprintf(p, len, ", msp database connection %ui", pc->id);
}


static void
ngx_http_msp_conn_notice(void *arg, const char *message)
{
    ngx_http_msp_conn_log_pg(NGX_LOG_NOTICE, arg, "postgres", message);
}
