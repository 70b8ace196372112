/*
 * ngx_http_msp_sweep.c - the sweeps on timers (services/call/sweep.h):
 * the SLA breach sweep every msp_sla_sweep_interval, the settling of
 * report headlines every msp_report_settle_interval, and the review packs'
 * schedule every msp_pack_schedule_interval.  Every worker runs
 * each sweep's statement on its own pool, as the sweep's principal:
 *
 *     timer ──> job: BEGIN; principal; sweep($batch); COMMIT
 *                 │
 *                 └── done: work done > 0 ──> again, soon
 *                           otherwise (none, another sweeper, a failure)
 *                                               ──> again after the interval
 *
 * Workers and hosts need no coordination: each sweep's function lets one
 * sweeper in at a time (the others get -1 at once) and does each piece of
 * work once.  A worker's first sweep comes at a random instant of the
 * second half of its first interval: its pool has had time to connect,
 * and workers started together do not all ask at once.
 *
 * The timer is cancelable: it never holds up a graceful exit.  A sweep
 * under way does, for as long as its step may take, like a request.
 */


#include "ngx_http_msp_module.h"
#include "packs/pack_schedule.h"
#include "reports/report_settle.h"
#include "sla/sla_sweep.h"


/* a sweep that did some work runs again after this long */
#define NGX_HTTP_MSP_SWEEP_AGAIN  10

/* the SLA breach sweep, the settling of report headlines, the packs'
 * schedule */
#define NGX_HTTP_MSP_NSWEEPS      3


typedef struct {
    const msp_sweep_t        *sweep;
    ngx_event_t               timer;
    ngx_http_msp_job_t        job;
    msp_step_t                step;
    ngx_msec_t                interval;
    ngx_log_t                *log;
    u_char                    batch[NGX_INT_T_LEN + 1];
    unsigned                  running:1;
} ngx_http_msp_sweep_t;


static void ngx_http_msp_sweep_start_one(ngx_cycle_t *cycle,
    ngx_http_msp_sweep_t *sw, const msp_sweep_t *sweep, ngx_msec_t interval);
static void ngx_http_msp_sweep_start(ngx_event_t *ev);
static void ngx_http_msp_sweep_done(ngx_event_t *ev);
static ngx_int_t ngx_http_msp_sweep_result(ngx_http_msp_sweep_t *sw);
static void ngx_http_msp_sweep_schedule(ngx_http_msp_sweep_t *sw,
    ngx_msec_t delay);


/* the worker's sweepers; an interval is 0 when the worker does not run it */
static ngx_http_msp_sweep_t  ngx_http_msp_sweeps[NGX_HTTP_MSP_NSWEEPS];


ngx_int_t
ngx_http_msp_sweep_init(ngx_cycle_t *cycle, ngx_msec_t sla_interval,
    ngx_msec_t settle_interval, ngx_msec_t pack_interval)
{
    ngx_http_msp_sweep_start_one(cycle, &ngx_http_msp_sweeps[0],
                                 &msp_sla_sweep, sla_interval);
    ngx_http_msp_sweep_start_one(cycle, &ngx_http_msp_sweeps[1],
                                 &msp_report_settle, settle_interval);
    ngx_http_msp_sweep_start_one(cycle, &ngx_http_msp_sweeps[2],
                                 &msp_pack_schedule, pack_interval);

    return NGX_OK;
}


static void
ngx_http_msp_sweep_start_one(ngx_cycle_t *cycle, ngx_http_msp_sweep_t *sw,
    const msp_sweep_t *sweep, ngx_msec_t interval)
{
    ngx_memzero(sw, sizeof(ngx_http_msp_sweep_t));

    sw->sweep = sweep;

    if (interval == 0) {
        return;
    }

    sw->interval = interval;
    sw->log = cycle->log;

    (void) ngx_sprintf(sw->batch, "%d%Z", sweep->batch);

    sw->step.stmts[0].sql = sweep->sql;
    sw->step.stmts[0].params[0] = (const char *) sw->batch;
    sw->step.nstmts = 1;
    sw->step.last = 1;

    /* the module reads the result itself: the step needs no then() */

    sw->step.then = NULL;

    sw->timer.handler = ngx_http_msp_sweep_start;
    sw->timer.data = sw;
    sw->timer.log = cycle->log;
    sw->timer.cancelable = 1;

    ngx_http_msp_sweep_schedule(sw, interval / 2
                                    + (ngx_msec_t) ngx_random()
                                      % (interval - interval / 2));
}


/*
 * The worker is going away: a sweep under way is let go (the pool drains
 * its step and rolls back), before the pool closes its connections.
 */

void
ngx_http_msp_sweep_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t             i;
    ngx_http_msp_sweep_t  *sw;

    for (i = 0; i < NGX_HTTP_MSP_NSWEEPS; i++) {
        sw = &ngx_http_msp_sweeps[i];

        if (sw->interval == 0) {
            continue;
        }

        if (sw->timer.timer_set) {
            ngx_del_timer(&sw->timer);
        }

        if (sw->running) {
            sw->running = 0;
            ngx_http_msp_pool_finish(&sw->job);
        }

        sw->interval = 0;
    }
}


static void
ngx_http_msp_sweep_start(ngx_event_t *ev)
{
    ngx_int_t              rc;
    ngx_http_msp_job_t    *job;
    ngx_http_msp_sweep_t  *sw;

    sw = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate || sw->running) {
        return;
    }

    /* a job is used once: each sweep starts from a clean one */

    job = &sw->job;

    ngx_memzero(job, sizeof(ngx_http_msp_job_t));

    job->step = &sw->step;
    job->principal = sw->sweep->principal;

    job->done.handler = ngx_http_msp_sweep_done;
    job->done.data = sw;
    job->done.log = sw->log;

    rc = ngx_http_msp_pool_run(job);

    switch (rc) {

    case NGX_AGAIN:
        sw->running = 1;
        return;

    case NGX_BUSY:
        ngx_log_error(NGX_LOG_INFO, sw->log, 0,
                      "msp %s: skipped, the database wait queue is full",
                      sw->sweep->name);
        break;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_INFO, sw->log, 0,
                      "msp %s: skipped, the database is unavailable",
                      sw->sweep->name);
        break;

    default:
        ngx_log_error(NGX_LOG_ALERT, sw->log, 0,
                      "msp %s: this worker has no database pool",
                      sw->sweep->name);
        ngx_http_msp_pool_finish(job);
        return;
    }

    /* the next interval will tell */

    ngx_http_msp_pool_finish(job);
    ngx_http_msp_sweep_schedule(sw, sw->interval);
}


/* the pool's "done" event: the sweep's step has an outcome */

static void
ngx_http_msp_sweep_done(ngx_event_t *ev)
{
    ngx_int_t              n;
    ngx_http_msp_sweep_t  *sw;

    sw = ev->data;

    sw->running = 0;

    n = ngx_http_msp_sweep_result(sw);

    ngx_http_msp_pool_finish(&sw->job);

    if (n > 0) {
        ngx_log_error(NGX_LOG_INFO, sw->log, 0,
                      "msp %s: %i done", sw->sweep->name, n);
    }

    /*
     * work done: there may be more than one batch held; none, another
     * sweeper at work, or a failure: the next interval
     */

    ngx_http_msp_sweep_schedule(sw, n > 0 ? NGX_HTTP_MSP_SWEEP_AGAIN
                                          : sw->interval);
}


/*
 * The work the sweep did; 0 when there was none, when another sweeper
 * held the lock, or when the sweep failed (which is logged).
 */

static ngx_int_t
ngx_http_msp_sweep_result(ngx_http_msp_sweep_t *sw)
{
    long                 n;
    char                 why[256];
    ngx_http_msp_job_t  *job;

    job = &sw->job;

    switch (job->status) {

    case NGX_HTTP_MSP_JOB_FAILED:
        ngx_log_error(NGX_LOG_ERR, sw->log, 0,
                      "msp %s: the database is unavailable", sw->sweep->name);
        return 0;

    case NGX_HTTP_MSP_JOB_TIMEDOUT:
        ngx_log_error(NGX_LOG_ERR, sw->log, NGX_ETIMEDOUT,
                      "msp %s timed out", sw->sweep->name);
        return 0;

    default: /* NGX_HTTP_MSP_JOB_DONE */
        break;
    }

    if (job->setup_failed) {
        ngx_log_error(NGX_LOG_ERR, sw->log, 0,
                      "msp %s: could not begin the transaction",
                      sw->sweep->name);
        return 0;
    }

    /* what the result means is the service's (services/call/sweep.h) */

    n = msp_sweep_count(job->nres == 1 ? job->res[0] : NULL, why, sizeof(why));

    if (n == MSP_SWEEP_FAILED) {
        ngx_log_error(NGX_LOG_ERR, sw->log, 0, "msp %s failed: %s",
                      sw->sweep->name, why);
        return 0;
    }

    if (!job->committed) {
        ngx_log_error(NGX_LOG_ERR, sw->log, 0,
                      "msp %s: the transaction did not commit",
                      sw->sweep->name);
        return 0;
    }

    if (n == MSP_SWEEP_BUSY) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sw->log, 0,
                       "msp %s: another sweeper is at work", sw->sweep->name);
        return 0;
    }

    return (ngx_int_t) n;
}


static void
ngx_http_msp_sweep_schedule(ngx_http_msp_sweep_t *sw, ngx_msec_t delay)
{
    if (sw->interval == 0 || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(&sw->timer, delay);
}
