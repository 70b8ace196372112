/*
 * ngx_http_msp_reply.c - writing the API's responses: services' replies,
 * JSON bodies and RFC 9457 problems (built by services/http/problem.c), never
 * an HTML page.
 */


#include <stdlib.h>

#include "ngx_http_msp_module.h"
#include "http/problem.h"


static ngx_int_t ngx_http_msp_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body);
static void ngx_http_msp_free(void *data);


static ngx_str_t  ngx_http_msp_json_type = ngx_string("application/json");
static ngx_str_t  ngx_http_msp_problem_type =
    ngx_string("application/problem+json");

static ngx_str_t  ngx_http_msp_cache_control = ngx_string("Cache-Control");
static ngx_str_t  ngx_http_msp_no_store = ngx_string("no-store");

static ngx_str_t  ngx_http_msp_etag = ngx_string("ETag");
static ngx_str_t  ngx_http_msp_location = ngx_string("Location");
static ngx_str_t  ngx_http_msp_link = ngx_string("Link");


ngx_int_t
ngx_http_msp_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    return ngx_http_msp_send(r, status, &ngx_http_msp_json_type, body);
}


ngx_int_t
ngx_http_msp_send_problem(ngx_http_request_t *r, ngx_uint_t status,
    const char *type_slug, const char *title, const char *detail,
    const msp_errors_t *errs)
{
    char                *json;
    ngx_str_t            body;
    ngx_pool_cleanup_t  *cln;

    /* allocated before the body so that the body can never leak */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json = msp_problem_json((int) status, type_slug, title, detail, errs, NULL);
    if (json == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "msp: no memory for a %ui problem body", status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the buffer is sent as it is and freed with the request's pool */

    cln->handler = ngx_http_msp_free;
    cln->data = json;

    body.data = (u_char *) json;
    body.len = ngx_strlen(json);

    return ngx_http_msp_send(r, status, &ngx_http_msp_problem_type, &body);
}


/*
 * The reply's strings live in the call's arena, which lasts as long as
 * the request: they are sent as they are.
 */

ngx_int_t
ngx_http_msp_send_reply(ngx_http_request_t *r, const msp_reply_t *reply)
{
    ngx_str_t  type, body, value;

    if (reply->status < 200 || reply->status > 599
        || (reply->body == NULL && reply->body_len))
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "msp: invalid reply, status %d", reply->status);

        return ngx_http_msp_send_problem(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL, NULL, NULL, NULL);
    }

    if (reply->etag) {
        value.data = (u_char *) reply->etag;
        value.len = ngx_strlen(reply->etag);

        if (ngx_http_msp_add_header(r, &ngx_http_msp_etag, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (reply->location) {
        value.data = (u_char *) reply->location;
        value.len = ngx_strlen(reply->location);

        if (ngx_http_msp_add_header(r, &ngx_http_msp_location, &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (reply->link) {
        value.data = (u_char *) reply->link;
        value.len = ngx_strlen(reply->link);

        if (ngx_http_msp_add_header(r, &ngx_http_msp_link, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (reply->content_type) {
        type.data = (u_char *) reply->content_type;
        type.len = ngx_strlen(reply->content_type);

    } else {
        type = ngx_http_msp_json_type;
    }

    body.data = (u_char *) reply->body;
    body.len = reply->body_len;

    return ngx_http_msp_send(r, (ngx_uint_t) reply->status, &type, &body);
}


ngx_int_t
ngx_http_msp_send_failure(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc < NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /*
     * whatever failed (reading a body, so far) left the connection in
     * a state the next request cannot start from
     */

    r->keepalive = 0;

    if (rc == NGX_HTTP_BAD_REQUEST) {
        /* as nginx does: a malformed request is not worth lingering on */
        r->lingering_close = 0;

        return ngx_http_msp_send_problem(r, rc, NULL, NULL,
                                         "The request body is malformed.",
                                         NULL);
    }

    return ngx_http_msp_send_problem(r, rc, NULL, NULL, NULL, NULL);
}


ngx_int_t
ngx_http_msp_add_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_msp_send(ngx_http_request_t *r, ngx_uint_t status, ngx_str_t *type,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_msp_add_header(r, &ngx_http_msp_cache_control,
                                &ngx_http_msp_no_store)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * preconditions are the services' (If-Match is 412 only when stale):
     * nginx's not_modified filter would answer 412 to any If-Match, since
     * it knows no ETag of ours
     */

    r->disable_not_modified = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = body->len;

    /* we need to allocate all before the header would be sent */

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = body->len ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_msp_free(void *data)
{
    free(data);
}
