/*
 * ngx_http_msp_module.c - the MSP gateway's nginx glue: directives and
 * configuration, the worker's database pool, and the content handler that
 * routes API requests (services/http/router.c) and guards them:
 *
 *     http {
 *         msp_database "host=127.0.0.1 dbname=msp user=msp_gateway ...";
 *         msp_pool_size 4;           # connections per worker
 *         msp_pool_queue 128;        # requests waiting per worker
 *         msp_connect_timeout 5s;
 *         msp_query_timeout 10s;     # also the statement_timeout
 *         msp_sla_sweep_interval 30s; # SLA warnings and breaches; 0: off
 *         msp_report_settle_interval 60s; # settled report headlines; 0: off
 *         msp_pack_schedule_interval 60s; # review packs of ended periods; 0: off
 *         msp_sla_config_cache 256;  # tenants' SLA configurations kept
 *
 *         server {
 *             error_page 400 405 413 414 494 500 501 505 /.msp/error;
 *             location = /.msp/error { msp_gateway; }
 *             location /v1/ { msp_gateway; }
 *         }
 *     }
 *
 * The request's own flow (body, steps, reply) is ngx_http_msp_request.c;
 * the pool is ngx_http_msp_pool.c; the sweeps' timers are
 * ngx_http_msp_sweep.c.
 */


#include "ngx_http_msp_module.h"
#include "http/api.h"
#include "sla/config.h"


static ngx_int_t ngx_http_msp_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_error_page(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_not_allowed(ngx_http_request_t *r,
    msp_match_t *match);
static ngx_int_t ngx_http_msp_unauthorized(ngx_http_request_t *r);

static void *ngx_http_msp_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_msp_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_msp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_msp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_msp_gateway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_msp_database(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_uint_t ngx_http_msp_is_address(u_char *host, size_t len);

static ngx_int_t ngx_http_msp_init_process(ngx_cycle_t *cycle);
static void ngx_http_msp_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_msp_pool_size_bounds = {
    ngx_conf_check_num_bounds, 1, 1024
};

static ngx_conf_num_bounds_t  ngx_http_msp_pool_queue_bounds = {
    ngx_conf_check_num_bounds, 0, 65536
};

static ngx_conf_num_bounds_t  ngx_http_msp_sla_config_cache_bounds = {
    ngx_conf_check_num_bounds, 1, 1048576
};


static ngx_command_t  ngx_http_msp_commands[] = {

    { ngx_string("msp_gateway"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_msp_gateway,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("msp_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_msp_database,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("msp_pool_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, pool.size),
      &ngx_http_msp_pool_size_bounds },

    { ngx_string("msp_pool_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, pool.queue),
      &ngx_http_msp_pool_queue_bounds },

    { ngx_string("msp_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, pool.connect_timeout),
      NULL },

    { ngx_string("msp_query_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, pool.query_timeout),
      NULL },

    { ngx_string("msp_sla_sweep_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, sla_sweep_interval),
      NULL },

    { ngx_string("msp_report_settle_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, report_settle_interval),
      NULL },

    { ngx_string("msp_pack_schedule_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, pack_schedule_interval),
      NULL },

    { ngx_string("msp_sla_config_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_msp_main_conf_t, sla_config_cache),
      &ngx_http_msp_sla_config_cache_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_msp_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_msp_create_main_conf,         /* create main configuration */
    ngx_http_msp_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_msp_create_loc_conf,          /* create location configuration */
    ngx_http_msp_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_msp_module = {
    NGX_MODULE_V1,
    &ngx_http_msp_module_ctx,              /* module context */
    ngx_http_msp_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_msp_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_msp_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_msp_allow = ngx_string("Allow");
static ngx_str_t  ngx_http_msp_www_authenticate =
    ngx_string("WWW-Authenticate");
static ngx_str_t  ngx_http_msp_bearer = ngx_string("Bearer");


static ngx_int_t
ngx_http_msp_handler(ngx_http_request_t *r)
{
    unsigned                  method;
    msp_match_t               match;
    msp_match_status_t        result;
    ngx_http_msp_auth_ctx_t  *actx;

    /* nginx's own error, sent here by error_page */

    if (r->err_status) {
        return ngx_http_msp_error_page(r);
    }

    method = msp_method_from_name((const char *) r->method_name.data,
                                  r->method_name.len);

    result = msp_route_match(&msp_api_routes, method,
                             (const char *) r->uri.data, r->uri.len, &match);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "msp route \"%V %V\": match %d route \"%s\"",
                   &r->method_name, &r->uri, (int) result,
                   match.route ? match.route->pattern : "");

    switch (result) {

    case MSP_MATCH_NOT_FOUND:
        return ngx_http_msp_not_found(r);

    case MSP_MATCH_NOT_ALLOWED:
        return ngx_http_msp_not_allowed(r, &match);

    case MSP_MATCH_OK:
        break;
    }

    if (match.route->is_public) {
        return ngx_http_msp_request(r, &match, method, NULL);
    }

    /* the access phase may have been skipped: never trust its absence */

    actx = ngx_http_get_module_ctx(r, ngx_http_msp_auth_module);

    if (actx == NULL || !actx->verified) {
        return ngx_http_msp_unauthorized(r);
    }

    return ngx_http_msp_request(r, &match, method, &actx->principal);
}


/*
 * nginx answers some requests before any handler runs: a body over
 * client_max_body_size (413), a malformed request line, header or
 * chunked body (400), a URI or headers too long (414, 494).  error_page
 * redirects them to a msp_gateway location with r->err_status set, and
 * they get a problem instead of nginx's HTML page.
 */

static ngx_int_t
ngx_http_msp_error_page(ngx_http_request_t *r)
{
    ngx_int_t    rc;
    ngx_uint_t   status;
    const char  *title, *detail;

    status = r->err_status;
    title = NULL;

    switch (status) {

    case NGX_HTTP_BAD_REQUEST:
        detail = "The request is malformed.";
        break;

    case NGX_HTTP_NOT_ALLOWED:
        detail = "The request method is not allowed.";
        break;

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        detail = "The request body is larger than this server accepts.";
        break;

    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        detail = "The request URI is too long.";
        break;

    case NGX_HTTP_REQUEST_HEADER_TOO_LARGE:
        status = NGX_HTTP_BAD_REQUEST;
        detail = "The request headers are too large.";
        break;

    case NGX_HTTPS_CERT_ERROR:
    case NGX_HTTPS_NO_CERT:
        status = NGX_HTTP_BAD_REQUEST;
        detail = "The client certificate is missing or invalid.";
        break;

    case NGX_HTTP_TO_HTTPS:
        status = NGX_HTTP_BAD_REQUEST;
        detail = "A plain HTTP request was sent to an HTTPS port.";
        break;

    case NGX_HTTP_NOT_IMPLEMENTED:
        detail = "The request uses a feature this server does not support.";
        break;

    case NGX_HTTP_VERSION_NOT_SUPPORTED:
        title = "HTTP Version Not Supported";
        detail = "The HTTP version is not supported.";
        break;

    default:
        if (status < NGX_HTTP_BAD_REQUEST || status > 599) {
            status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        detail = NULL;
        break;
    }

    /* nginx sends r->err_status as the response's status */

    r->err_status = status;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        r->keepalive = 0;
    }

    return ngx_http_msp_send_problem(r, status, NULL, title, detail, NULL);
}


static ngx_int_t
ngx_http_msp_not_found(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_msp_send_failure(r, rc);
    }

    return ngx_http_msp_send_problem(r, NGX_HTTP_NOT_FOUND, NULL, NULL,
                                     "There is no API resource at this path.",
                                     NULL);
}


static ngx_int_t
ngx_http_msp_not_allowed(ngx_http_request_t *r, msp_match_t *match)
{
    u_char     *p;
    u_char      detail[sizeof("This resource accepts only .")
                       + MSP_ALLOW_MAX];
    ngx_int_t   rc;
    ngx_str_t   allow;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_msp_send_failure(r, rc);
    }

    /* the match lives on the handler's stack; headers outlive it */

    allow.len = ngx_strlen(match->allow);
    allow.data = ngx_pnalloc(r->pool, allow.len);
    if (allow.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(allow.data, match->allow, allow.len);

    if (ngx_http_msp_add_header(r, &ngx_http_msp_allow, &allow) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_snprintf(detail, sizeof(detail) - 1,
                     "This resource accepts only %V.", &allow);
    *p = '\0';

    return ngx_http_msp_send_problem(r, NGX_HTTP_NOT_ALLOWED, NULL, NULL,
                                     (const char *) detail, NULL);
}


/*
 * No verified principal and no token: the access handler answers bad
 * tokens itself (with an "error" attribute); this is the request that
 * reached a protected route without one.
 */

static ngx_int_t
ngx_http_msp_unauthorized(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_msp_send_failure(r, rc);
    }

    if (ngx_http_msp_add_header(r, &ngx_http_msp_www_authenticate,
                                &ngx_http_msp_bearer)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_msp_send_problem(r, NGX_HTTP_UNAUTHORIZED, NULL, NULL,
                                     "This resource requires a bearer token.",
                                     NULL);
}


/* configuration */


static void *
ngx_http_msp_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_msp_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_msp_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->pool.conninfo = { 0, NULL };
     *     conf->pool.statement_timeout = { 0, NULL };
     *     conf->gateway = 0;
     *     conf->gateway_file = { 0, NULL };
     *     conf->gateway_line = 0;
     */

    conf->pool.size = NGX_CONF_UNSET_UINT;
    conf->pool.queue = NGX_CONF_UNSET_UINT;
    conf->pool.connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->pool.query_timeout = NGX_CONF_UNSET_MSEC;
    conf->sla_sweep_interval = NGX_CONF_UNSET_MSEC;
    conf->report_settle_interval = NGX_CONF_UNSET_MSEC;
    conf->pack_schedule_interval = NGX_CONF_UNSET_MSEC;
    conf->sla_config_cache = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_msp_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_msp_main_conf_t *mmcf = conf;

    u_char  *p;

    ngx_conf_init_uint_value(mmcf->pool.size, 4);
    ngx_conf_init_uint_value(mmcf->pool.queue, 128);
    ngx_conf_init_msec_value(mmcf->pool.connect_timeout, 5000);
    ngx_conf_init_msec_value(mmcf->pool.query_timeout, 10000);
    ngx_conf_init_msec_value(mmcf->sla_sweep_interval, 30000);
    ngx_conf_init_msec_value(mmcf->report_settle_interval, 60000);
    ngx_conf_init_msec_value(mmcf->pack_schedule_interval, 60000);
    ngx_conf_init_uint_value(mmcf->sla_config_cache, 256);

    if (mmcf->pool.connect_timeout == 0 || mmcf->pool.query_timeout == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"msp_connect_timeout\" and \"msp_query_timeout\" "
                      "must not be zero");
        return NGX_CONF_ERROR;
    }

    if (mmcf->gateway && mmcf->pool.conninfo.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"msp_gateway\" in %V:%ui needs a database: "
                      "add \"msp_database\" to the http block",
                      &mmcf->gateway_file, mmcf->gateway_line);
        return NGX_CONF_ERROR;
    }

    /* the server's own limit, set in every transaction: "10000ms" */

    p = ngx_pnalloc(cf->pool, NGX_INT_T_LEN + sizeof("ms"));
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    mmcf->pool.statement_timeout.data = p;
    mmcf->pool.statement_timeout.len =
        ngx_sprintf(p, "%Mms%Z", mmcf->pool.query_timeout) - p - 1;

    return NGX_CONF_OK;
}


static void *
ngx_http_msp_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_msp_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_msp_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_msp_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_msp_loc_conf_t *prev = parent;
    ngx_http_msp_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    /*
     * locations nested in a gateway location (and its "if" and
     * "limit_except" blocks) stay part of the API, unless they name
     * a content handler of their own, such as proxy_pass: a static file
     * handler answering under /v1/ would be a surprise
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->enable && clcf->handler == NULL) {
        clcf->handler = ngx_http_msp_handler;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_msp_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_msp_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_msp_main_conf_t  *mmcf;

    if (mlcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    mlcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_msp_handler;

    /* remembered for the error if the http block has no msp_database */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_msp_module);

    if (!mmcf->gateway) {
        mmcf->gateway = 1;
        mmcf->gateway_file = cf->conf_file->file.name;
        mmcf->gateway_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


/*
 * msp_database "conninfo": a libpq connection string or URI, checked
 * here so that a typo stops nginx from starting rather than every worker
 * from connecting.
 */

static char *
ngx_http_msp_database(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_msp_main_conf_t *mmcf = conf;

    u_char            *p, *host, *end;
    char              *err;
    size_t             len;
    ngx_str_t         *value;
    ngx_uint_t         hostaddr;
    PQconninfoOption  *opts, *opt;

    if (mmcf->pool.conninfo.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a connection string";
    }

    p = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(p, value[1].data, value[1].len + 1);

    mmcf->pool.conninfo.data = p;
    mmcf->pool.conninfo.len = value[1].len;

    err = NULL;
    opts = PQconninfoParse((const char *) p, &err);

    if (opts == NULL) {
        len = err ? ngx_strlen(err) : 0;

        while (len && (err[len - 1] == '\n' || err[len - 1] == ' ')) {
            len--;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid connection string in \"%V\": %*s",
                           &cmd->name, len, err ? err : "out of memory");

        if (err) {
            PQfreemem(err);
        }

        return NGX_CONF_ERROR;
    }

    /*
     * libpq resolves host names with blocking calls, which would stall
     * a worker: warn unless every host is an address or a socket directory
     */

    host = NULL;
    hostaddr = 0;

    for (opt = opts; opt->keyword; opt++) {

        if (opt->val == NULL || opt->val[0] == '\0') {
            continue;
        }

        if (ngx_strcmp(opt->keyword, "hostaddr") == 0) {
            hostaddr = 1;

        } else if (ngx_strcmp(opt->keyword, "host") == 0) {
            host = (u_char *) opt->val;
        }
    }

    while (host && !hostaddr) {

        end = (u_char *) ngx_strchr(host, ',');
        len = end ? (size_t) (end - host) : ngx_strlen(host);

        if (len && host[0] != '/' && !ngx_http_msp_is_address(host, len)) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"%V\" names the host \"%*s\": libpq "
                               "resolves names with blocking calls; "
                               "give an address (hostaddr=...)",
                               &cmd->name, len, host);
            break;
        }

        host = end ? end + 1 : NULL;
    }

    PQconninfoFree(opts);

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_msp_is_address(u_char *host, size_t len)
{
#if (NGX_HAVE_INET6)
    u_char  addr6[16];
#endif

    if (ngx_inet_addr(host, len) != INADDR_NONE) {
        return 1;
    }

#if (NGX_HAVE_INET6)
    if (ngx_inet6_addr(host, len, addr6) == NGX_OK) {
        return 1;
    }
#endif

    return 0;
}


/* the worker's pool and its sweeps */


static ngx_int_t
ngx_http_msp_init_process(ngx_cycle_t *cycle)
{
    ngx_http_msp_main_conf_t  *mmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_msp_module);

    if (mmcf == NULL || mmcf->pool.conninfo.len == 0) {
        return NGX_OK;
    }

    /* a request holds the configurations it uses whatever the size, so
     * the cache only bounds what stays between requests */
    msp_sla_config_cache_size(mmcf->sla_config_cache);

    if (ngx_http_msp_pool_init(cycle, &mmcf->pool) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_msp_sweep_init(cycle, mmcf->sla_sweep_interval,
                                   mmcf->report_settle_interval,
                                   mmcf->pack_schedule_interval);
}


static void
ngx_http_msp_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_msp_sweep_exit(cycle);
    ngx_http_msp_pool_exit(cycle);
}
