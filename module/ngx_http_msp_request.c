/*
 * ngx_http_msp_request.c - one API request's walk once its route is
 * matched and its principal known: read the body, fill the service's
 * call (services/call/call.h), run the steps the service asks for on a pooled
 * connection, and send the reply.
 *
 *     content handler ──> body read ──> msp_api_start()
 *                                          │ MSP_NEXT
 *                         ┌───────────────>┤
 *                         │   pool: one round trip, "done" posted
 *                         │                │
 *                         └── MSP_NEXT ── then() ── MSP_REPLY ──> send
 *
 * The request holds its connection from the first step to the reply;
 * the transaction is committed by the last step's COMMIT and rolled back
 * by the pool in every other case.  Database failures never reach the
 * service's then(): the request gets msp_api_database_failure()'s reply
 * (503, or 504 for a timeout).
 */


#include "ngx_http_msp_module.h"
#include "http/api.h"


typedef struct {
    ngx_http_request_t       *request;
    msp_call_t                call;
    msp_step_t                step;
    msp_step_t                next;
    msp_reply_t               reply;
    ngx_http_msp_job_t        job;
    u_char                    stats[NGX_HTTP_MSP_STATS_LEN];
} ngx_http_msp_ctx_t;


static void ngx_http_msp_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_read_body(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx);
static ngx_int_t ngx_http_msp_start(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx);
static ngx_int_t ngx_http_msp_proceed(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx, msp_outcome_t out);
static void ngx_http_msp_step_done(ngx_event_t *ev);
static ngx_int_t ngx_http_msp_step_result(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx);
static ngx_int_t ngx_http_msp_reply(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx);
static ngx_int_t ngx_http_msp_database_failure(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx, int timed_out);
static ngx_int_t ngx_http_msp_internal_error(ngx_http_request_t *r,
    ngx_http_msp_ctx_t *ctx);
static ngx_int_t ngx_http_msp_overloaded(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_step_is_valid(const msp_step_t *step);
static void ngx_http_msp_update_stats(ngx_http_msp_ctx_t *ctx);
static ngx_int_t ngx_http_msp_fill_call(ngx_http_request_t *r,
    msp_call_t *call, msp_match_t *match, unsigned method);
static const char *ngx_http_msp_cstr(ngx_pool_t *pool, ngx_str_t *s);
static ngx_table_elt_t *ngx_http_msp_find_header(ngx_http_request_t *r,
    ngx_str_t *name);
static const char *ngx_http_msp_base_url(ngx_http_request_t *r);
static void ngx_http_msp_cleanup(void *data);


static ngx_str_t  ngx_http_msp_idempotency_key = ngx_string("Idempotency-Key");
static ngx_str_t  ngx_http_msp_accept = ngx_string("Accept");
static ngx_str_t  ngx_http_msp_retry_after = ngx_string("Retry-After");
static ngx_str_t  ngx_http_msp_retry_after_value = ngx_string("1");


ngx_int_t
ngx_http_msp_request(ngx_http_request_t *r, msp_match_t *match,
    unsigned method, const msp_principal_t *principal)
{
    ngx_int_t            rc;
    ngx_pool_cleanup_t  *cln;
    ngx_http_msp_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_msp_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * the call's arena and the pool's job live as long as the request,
     * whichever way it ends
     */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_msp_cleanup;
    cln->data = ctx;

    ctx->request = r;

    if (ngx_http_msp_fill_call(r, &ctx->call, match, method) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->call.principal = principal;
    ctx->job.principal = principal;

    ctx->job.done.handler = ngx_http_msp_step_done;
    ctx->job.done.data = ctx;
    ctx->job.done.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_http_msp_module);

    if (method & (MSP_METHOD_POST|MSP_METHOD_PUT|MSP_METHOD_PATCH)) {

        /* the service parses the body from one buffer */

        r->request_body_in_single_buf = 1;

        rc = ngx_http_read_client_request_body(r, ngx_http_msp_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return ngx_http_msp_send_failure(r, rc);
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_msp_send_failure(r, rc);
    }

    /* the same path as a request whose body was read */

    r->main->count++;

    ngx_http_msp_body_handler(r);

    return NGX_DONE;
}


static void
ngx_http_msp_body_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_msp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_msp_module);

    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_msp_read_body(r, ctx);

    if (rc == NGX_OK) {
        rc = ngx_http_msp_start(r, ctx);
    }

    if (rc == NGX_DONE) {
        /* a step is under way: the pool's event continues the request */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * The body in one NUL-terminated buffer, wherever nginx put it: in
 * memory, in several buffers, or partly in a temporary file (its size is
 * bounded by client_max_body_size).
 */

static ngx_int_t
ngx_http_msp_read_body(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx)
{
    off_t         len;
    size_t        size;
    u_char       *body, *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (len > NGX_MAX_SIZE_T_VALUE - 1) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    body = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size = (size_t) ngx_buf_size(b);

        if (size == 0) {
            continue;
        }

        if (b->in_file) {
            n = ngx_read_file(b->file, p, size, b->file_pos);

            if (n != (ssize_t) size) {
                ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                              "msp: could not read the request body "
                              "from \"%V\"", &b->file->name);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else {
            ngx_memcpy(p, b->pos, size);
        }

        p += size;
    }

    *p = '\0';

    ctx->call.body = (const char *) body;
    ctx->call.body_len = (size_t) len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_msp_start(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx)
{
    msp_outcome_t  out;

    ngx_http_msp_update_stats(ctx);

    out = msp_api_start(&ctx->call, &ctx->step, &ctx->reply);

    return ngx_http_msp_proceed(r, ctx, out);
}


/*
 * Sends the reply, or runs ctx->step: returns NGX_DONE while it is under
 * way, else what a content handler returns.
 */

static ngx_int_t
ngx_http_msp_proceed(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx,
    msp_outcome_t out)
{
    ngx_int_t  rc;

    if (out != MSP_NEXT) {
        return ngx_http_msp_reply(r, ctx);
    }

    if (ngx_http_msp_step_is_valid(&ctx->step) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "msp: route \"%s\" gave an invalid step",
                      ctx->call.route->pattern);
        return ngx_http_msp_internal_error(r, ctx);
    }

    ctx->job.step = &ctx->step;

    rc = ngx_http_msp_pool_run(&ctx->job);

    switch (rc) {

    case NGX_AGAIN:

        /* notice a client that goes away while the database works */

        if (!r->discard_body) {
            r->read_event_handler = ngx_http_test_reading;
        }

        r->write_event_handler = ngx_http_request_empty_handler;

        return NGX_DONE;

    case NGX_BUSY:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "msp: the database wait queue is full");
        ngx_http_msp_pool_finish(&ctx->job);
        return ngx_http_msp_overloaded(r);

    case NGX_DECLINED:
        return ngx_http_msp_database_failure(r, ctx, 0);

    default:
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "msp: this worker has no database pool");
        return ngx_http_msp_internal_error(r, ctx);
    }
}


/* the pool's "done" event: a step has an outcome */

static void
ngx_http_msp_step_done(ngx_event_t *ev)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_msp_ctx_t  *ctx;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "msp step done: status %d, %ui results",
                   (int) ctx->job.status, ctx->job.nres);

    rc = ngx_http_msp_step_result(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }

    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_msp_step_result(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx)
{
    unsigned             last;
    msp_outcome_t        out;
    ngx_http_msp_job_t  *job;

    job = &ctx->job;

    switch (job->status) {

    case NGX_HTTP_MSP_JOB_FAILED:
        return ngx_http_msp_database_failure(r, ctx, 0);

    case NGX_HTTP_MSP_JOB_TIMEDOUT:
        return ngx_http_msp_database_failure(r, ctx, 1);

    default: /* NGX_HTTP_MSP_JOB_DONE */
        break;
    }

    if (job->setup_failed || job->canceled) {
        return ngx_http_msp_database_failure(r, ctx, job->canceled);
    }

    last = ctx->step.last;

    ngx_http_msp_update_stats(ctx);
    ngx_memzero(&ctx->next, sizeof(msp_step_t));
    ngx_memzero(&ctx->reply, sizeof(msp_reply_t));

    out = ctx->step.then(&ctx->call, job->res, (int) job->nres, &ctx->next,
                         &ctx->reply);

    /* the service must not keep them */

    ngx_http_msp_pool_clear(job);

    if (out == MSP_NEXT) {

        if (last) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "msp: route \"%s\" asked for a step after its last",
                          ctx->call.route->pattern);
            return ngx_http_msp_internal_error(r, ctx);
        }

        ctx->step = ctx->next;

        return ngx_http_msp_proceed(r, ctx, MSP_NEXT);
    }

    if (last && !job->committed
        && msp_call_not_committed(&ctx->call, &ctx->reply))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "msp: the transaction of route \"%s\" did not commit",
                      ctx->call.route->pattern);
    }

    return ngx_http_msp_reply(r, ctx);
}


/* every way a request ends goes through here: the connection goes back */

static ngx_int_t
ngx_http_msp_reply(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx)
{
    ngx_http_msp_pool_finish(&ctx->job);

    return ngx_http_msp_send_reply(r, &ctx->reply);
}


static ngx_int_t
ngx_http_msp_database_failure(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx,
    int timed_out)
{
    ngx_memzero(&ctx->reply, sizeof(msp_reply_t));

    (void) msp_api_database_failure(&ctx->call, &ctx->reply, timed_out);

    return ngx_http_msp_reply(r, ctx);
}


static ngx_int_t
ngx_http_msp_internal_error(ngx_http_request_t *r, ngx_http_msp_ctx_t *ctx)
{
    ngx_memzero(&ctx->reply, sizeof(msp_reply_t));

    (void) msp_reply_problem(&ctx->call, &ctx->reply,
                             NGX_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL,
                             "The gateway could not complete the request.",
                             NULL);

    return ngx_http_msp_reply(r, ctx);
}


/* overload is explicit: the client is told when to come back */

static ngx_int_t
ngx_http_msp_overloaded(ngx_http_request_t *r)
{
    if (ngx_http_msp_add_header(r, &ngx_http_msp_retry_after,
                                &ngx_http_msp_retry_after_value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_msp_send_problem(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "overloaded", "Overloaded",
                                     "Too many requests are waiting for the "
                                     "database; retry shortly.", NULL);
}


static ngx_int_t
ngx_http_msp_step_is_valid(const msp_step_t *step)
{
    int                i;
    const msp_sql_t   *sql;

    if (step->then == NULL
        || step->nstmts < 0
        || step->nstmts > MSP_STEP_MAX_STMTS)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < step->nstmts; i++) {
        sql = step->stmts[i].sql;

        if (sql == NULL || sql->name == NULL || sql->sql == NULL
            || sql->nparams < 0 || sql->nparams > MSP_STMT_MAX_PARAMS)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_msp_update_stats(ngx_http_msp_ctx_t *ctx)
{
    u_char  *p;

    p = ngx_http_msp_pool_stats(ctx->stats,
                                ctx->stats + NGX_HTTP_MSP_STATS_LEN - 1);
    *p = '\0';

    ctx->call.driver_stats = (const char *) ctx->stats;
}


/* the call: everything a service may read, as NUL-terminated strings */

static ngx_int_t
ngx_http_msp_fill_call(ngx_http_request_t *r, msp_call_t *call,
    msp_match_t *match, unsigned method)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    call->route = match->route;
    call->method = method;

    /* captures point into r->uri, which lives as long as the request */

    call->nparams = match->nparams;

    for (i = 0; i < match->nparams; i++) {
        call->params[i] = match->params[i];
    }

    call->args = ngx_http_msp_cstr(r->pool, &r->args);
    if (call->args == NULL) {
        return NGX_ERROR;
    }

    call->args_len = r->args.len;

    h = r->headers_in.if_match;

    if (h) {
        call->if_match = ngx_http_msp_cstr(r->pool, &h->value);
        if (call->if_match == NULL) {
            return NGX_ERROR;
        }
    }

    h = ngx_http_msp_find_header(r, &ngx_http_msp_idempotency_key);

    if (h) {
        call->idempotency_key = ngx_http_msp_cstr(r->pool, &h->value);
        if (call->idempotency_key == NULL) {
            return NGX_ERROR;
        }
    }

    h = ngx_http_msp_find_header(r, &ngx_http_msp_accept);

    if (h) {
        call->accept = ngx_http_msp_cstr(r->pool, &h->value);
        if (call->accept == NULL) {
            return NGX_ERROR;
        }
    }

    call->base_url = ngx_http_msp_base_url(r);
    if (call->base_url == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static const char *
ngx_http_msp_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    if (s->len) {
        ngx_memcpy(p, s->data, s->len);
    }

    p[s->len] = '\0';

    return (const char *) p;
}


static ngx_table_elt_t *
ngx_http_msp_find_header(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }
}


/* "http://host:port" as the client named it, for Location and Link */

static const char *
ngx_http_msp_base_url(ngx_http_request_t *r)
{
    u_char                    *p, *url;
    ngx_str_t                  scheme, host;
    ngx_http_core_srv_conf_t  *cscf;

    ngx_str_set(&scheme, "http://");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    }
#endif

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    if (host.len == 0) {
        ngx_str_set(&host, "localhost");
    }

    url = ngx_pnalloc(r->pool, scheme.len + host.len + 1);
    if (url == NULL) {
        return NULL;
    }

    p = ngx_cpymem(url, scheme.data, scheme.len);
    p = ngx_cpymem(p, host.data, host.len);
    *p = '\0';

    return (const char *) url;
}


/*
 * The request's pool is going away, however the request ended: a job
 * still queued or running is let go (the pool drains and rolls back
 * a step in flight), then the call's memory is freed.
 */

static void
ngx_http_msp_cleanup(void *data)
{
    ngx_http_msp_ctx_t  *ctx = data;

    ngx_http_msp_pool_finish(&ctx->job);
    msp_call_free(&ctx->call);
}
