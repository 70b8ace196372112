
/*
 * ngx_http_msp_module.h - what the module's files share: the location
 * configuration and the response writers (ngx_http_msp_reply.c).
 */


#ifndef _NGX_HTTP_MSP_MODULE_H_INCLUDED_
#define _NGX_HTTP_MSP_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "errors.h"


#define NGX_HTTP_MSP_SERVICE  "msp-gateway"
#define NGX_HTTP_MSP_VERSION  "0.1.0"


typedef struct {
    ngx_flag_t                enable;     /* msp_gateway */
} ngx_http_msp_loc_conf_t;


extern ngx_module_t  ngx_http_msp_module;


/*
 * Both send a complete response with Content-Type, Content-Length and
 * "Cache-Control: no-store" and return what a content handler returns.
 * Headers added to r->headers_out beforehand (Allow, Location) go out too.
 */
ngx_int_t ngx_http_msp_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);
ngx_int_t ngx_http_msp_send_problem(ngx_http_request_t *r, ngx_uint_t status,
    const char *type_slug, const char *title, const char *detail,
    const msp_errors_t *errs);

/*
 * Answers a failure nginx reported as an HTTP status (a malformed request
 * body) with the matching problem; NGX_ERROR and the like are returned as
 * they are.
 */
ngx_int_t ngx_http_msp_send_failure(ngx_http_request_t *r, ngx_int_t rc);

ngx_int_t ngx_http_msp_add_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value);


#endif /* _NGX_HTTP_MSP_MODULE_H_INCLUDED_ */
