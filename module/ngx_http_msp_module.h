
/*
 * ngx_http_msp_module.h - what the module's files share: the
 * configuration, the contract with the access-phase JWT check
 * (ngx_http_msp_auth_module), the request flow (ngx_http_msp_request.c),
 * the response writers (ngx_http_msp_reply.c) and the sweeps' timers
 * (ngx_http_msp_sweep.c).
 */


#ifndef _NGX_HTTP_MSP_MODULE_H_INCLUDED_
#define _NGX_HTTP_MSP_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "call/call.h"
#include "common/errors.h"
#include "auth/principal.h"
#include "http/router.h"

#include "ngx_http_msp_pool.h"


#define NGX_HTTP_MSP_SERVICE  "msp-gateway"
#define NGX_HTTP_MSP_VERSION  "0.1.0"


typedef struct {
    ngx_http_msp_pool_conf_t  pool;       /* msp_database, msp_pool_*,
                                             msp_*_timeout */
    ngx_msec_t                sla_sweep_interval;  /* 0: no sweep */
    ngx_msec_t                report_settle_interval;  /* 0: no settling */
    ngx_msec_t                pack_schedule_interval;  /* 0: no schedule */
    ngx_uint_t                sla_config_cache;    /* tenants kept */
    ngx_uint_t                gateway;    /* some location has msp_gateway */
    ngx_str_t                 gateway_file;
    ngx_uint_t                gateway_line;
} ngx_http_msp_main_conf_t;


typedef struct {
    ngx_flag_t                enable;     /* msp_gateway */
} ngx_http_msp_loc_conf_t;


/*
 * What the access-phase JWT check leaves for the content handler, as the
 * request context of ngx_http_msp_auth_module.  The content handler
 * serves a route that is not public only when this context exists and is
 * verified, so that a "return" or "rewrite" that skips the access phase
 * can never skip authentication.
 *
 * The access handler must let error pages through (r->err_status != 0):
 * nginx redirects its own errors (413, 400) to a msp_gateway location,
 * which answers them without running a service.
 */
typedef struct {
    unsigned                  verified:1;
    msp_principal_t           principal;
} ngx_http_msp_auth_ctx_t;


extern ngx_module_t  ngx_http_msp_module;
extern ngx_module_t  ngx_http_msp_auth_module;


/*
 * Serves a matched route for the principal (NULL on a public route):
 * reads the body, runs the service's steps on a pooled connection and
 * sends its reply.  Returns what a content handler returns.
 */
ngx_int_t ngx_http_msp_request(ngx_http_request_t *r, msp_match_t *match,
    unsigned method, const msp_principal_t *principal);


/*
 * Starts the worker's sweeps (services/call/sweep.h) on timers, after its
 * pool: the SLA breach sweep every "sla_interval", the settling of
 * report headlines every "settle_interval" and the review packs' schedule
 * every "pack_interval", each the first time after a
 * random part of it; an interval of 0 starts nothing.  The exit lets a
 * sweep under way go, before the pool is closed.
 */
ngx_int_t ngx_http_msp_sweep_init(ngx_cycle_t *cycle, ngx_msec_t sla_interval,
    ngx_msec_t settle_interval, ngx_msec_t pack_interval);
void ngx_http_msp_sweep_exit(ngx_cycle_t *cycle);


/*
 * Each sends a complete response with Content-Type, Content-Length and
 * "Cache-Control: no-store" and returns what a content handler returns.
 * Headers added to r->headers_out beforehand (Allow, Retry-After,
 * WWW-Authenticate) go out too.
 */
ngx_int_t ngx_http_msp_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);
ngx_int_t ngx_http_msp_send_problem(ngx_http_request_t *r, ngx_uint_t status,
    const char *type_slug, const char *title, const char *detail,
    const msp_errors_t *errs);

/* A service's reply: its status, type and body; ETag, Location, Link. */
ngx_int_t ngx_http_msp_send_reply(ngx_http_request_t *r,
    const msp_reply_t *reply);

/*
 * Answers a failure nginx reported as an HTTP status (a malformed request
 * body) with the matching problem; NGX_ERROR and the like are returned as
 * they are.
 */
ngx_int_t ngx_http_msp_send_failure(ngx_http_request_t *r, ngx_int_t rc);

ngx_int_t ngx_http_msp_add_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value);


#endif /* _NGX_HTTP_MSP_MODULE_H_INCLUDED_ */
