
/*
 * ngx_http_msp_module.c - the MSP gateway's nginx glue: the msp_gateway
 * directive, its location configuration, and the content handler that
 * routes API requests (services/router.c) to their handlers.
 *
 *     location /v1/ {
 *         msp_gateway;
 *     }
 */


#include "ngx_http_msp_module.h"
#include "router.h"


static ngx_int_t ngx_http_msp_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_not_allowed(ngx_http_request_t *r,
    msp_match_t *match);
static ngx_int_t ngx_http_msp_health(ngx_http_request_t *r);
static void *ngx_http_msp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_msp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_msp_gateway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_msp_commands[] = {

    { ngx_string("msp_gateway"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_msp_gateway,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_msp_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

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
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_msp_allow = ngx_string("Allow");

static ngx_str_t  ngx_http_msp_health_body = ngx_string(
    "{\"status\":\"ok\",\"service\":\"" NGX_HTTP_MSP_SERVICE "\","
    "\"version\":\"" NGX_HTTP_MSP_VERSION "\"}");


static ngx_int_t
ngx_http_msp_handler(ngx_http_request_t *r)
{
    unsigned             method;
    msp_match_t          match;
    msp_match_status_t   result;

    method = msp_method_from_name((const char *) r->method_name.data,
                                  r->method_name.len);

    result = msp_route_match(&msp_api_routes, method,
                             (const char *) r->uri.data, r->uri.len, &match);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "msp route \"%V %V\": match %d route %d",
                   &r->method_name, &r->uri, (int) result, match.route);

    switch (result) {

    case MSP_MATCH_NOT_FOUND:
        return ngx_http_msp_not_found(r);

    case MSP_MATCH_NOT_ALLOWED:
        return ngx_http_msp_not_allowed(r, &match);

    case MSP_MATCH_OK:
        break;
    }

    switch (match.route) {

    case MSP_ROUTE_HEALTH:
        return ngx_http_msp_health(r);
    }

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "msp route %d for \"%V\" has no handler",
                  match.route, &r->uri);

    return ngx_http_msp_send_failure(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
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


static ngx_int_t
ngx_http_msp_health(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_msp_send_failure(r, rc);
    }

    return ngx_http_msp_send_json(r, NGX_HTTP_OK, &ngx_http_msp_health_body);
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

    if (mlcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    mlcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_msp_handler;

    return NGX_CONF_OK;
}
