/*
 * ngx_http_msp_auth_module.c - who is asking: the access-phase check of
 * the bearer JWT (services/auth/jwt_verify.c) in gateway locations.
 *
 *     msp_jwt_issuer    https://login.example.com/;
 *     msp_jwt_audience  msp-gateway;
 *     msp_jwt_leeway    30s;
 *     msp_jwt_key       idp-2024 RS256 /etc/msp/idp-2024.pub.pem;
 *     msp_jwt_key       idp-2025 ES256 /etc/msp/idp-2025.pub.pem;
 *
 * A valid token leaves a verified principal in the request's context
 * (ngx_http_msp_auth_ctx_t, under this module).  No Authorization header
 * leaves none, and the content handler answers 401 on the routes that
 * need one.  Any other Authorization header, a bad token on a public
 * route included, is answered here: 401 problem+json with
 * WWW-Authenticate: Bearer error="invalid_token".
 */


#include "ngx_http_msp_module.h"
#include "auth/jwt_verify.h"


#define NGX_HTTP_MSP_AUTH_LEEWAY  30


typedef struct {
    ngx_array_t         *keys;        /* of msp_jwt_key_t */
    ngx_str_t            issuer;
    ngx_str_t            audience;
    time_t               leeway;

    msp_jwt_config_t     jwt;         /* the above for msp_jwt_verify() */
} ngx_http_msp_auth_loc_conf_t;


static ngx_int_t ngx_http_msp_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_msp_auth_bearer(ngx_str_t *value, ngx_str_t *token);
static ngx_int_t ngx_http_msp_auth_refuse(ngx_http_request_t *r,
    const char *why);
static ngx_int_t ngx_http_msp_auth_done(ngx_http_request_t *r, ngx_int_t rc);
static void *ngx_http_msp_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_msp_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_msp_auth_init(ngx_conf_t *cf);
static char *ngx_http_msp_auth_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_msp_auth_free_keys(void *data);


static ngx_command_t  ngx_http_msp_auth_commands[] = {

    { ngx_string("msp_jwt_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE3,
      ngx_http_msp_auth_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("msp_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_msp_auth_loc_conf_t, issuer),
      NULL },

    { ngx_string("msp_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_msp_auth_loc_conf_t, audience),
      NULL },

    { ngx_string("msp_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_msp_auth_loc_conf_t, leeway),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_msp_auth_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_msp_auth_init,                /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_msp_auth_create_loc_conf,     /* create location configuration */
    ngx_http_msp_auth_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_msp_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_msp_auth_module_ctx,         /* module context */
    ngx_http_msp_auth_commands,            /* module directives */
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


static ngx_str_t  ngx_http_msp_auth_challenge =
    ngx_string("Bearer error=\"invalid_token\"");


static ngx_int_t
ngx_http_msp_auth_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    const char                    *why;
    ngx_str_t                      token;
    ngx_http_msp_loc_conf_t       *mlcf;
    ngx_http_msp_auth_ctx_t       *ctx;
    ngx_http_msp_auth_loc_conf_t  *alcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_msp_module);

    if (!mlcf->enable) {
        return NGX_DECLINED;
    }

    /*
     * nginx runs the access phase for the main request only; a subrequest
     * acts for the principal of r->main, verified once
     */

    if (r != r->main) {
        return NGX_DECLINED;
    }

    /*
     * nginx's own error (a 413, a malformed request) redirected by
     * error_page to the gateway: it is answered as it is, whatever the
     * token, and no service runs for it
     */

    if (r->err_status) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_msp_auth_module);

    if (ctx != NULL && ctx->verified) {
        return NGX_OK;
    }

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_msp_auth_bearer(&r->headers_in.authorization->value, &token)
        != NGX_OK)
    {
        return ngx_http_msp_auth_refuse(r, "Authorization is not a bearer "
                                           "token");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_msp_auth_ctx_t));
    if (ctx == NULL) {
        rc = ngx_http_msp_send_failure(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return ngx_http_msp_auth_done(r, rc);
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_msp_auth_module);

    if (msp_jwt_verify(&alcf->jwt, (const char *) token.data, token.len,
                       ngx_time(), &ctx->principal, &why)
        != 0)
    {
        return ngx_http_msp_auth_refuse(r, why);
    }

    ctx->verified = 1;

    ngx_http_set_ctx(r, ctx, ngx_http_msp_auth_module);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "msp jwt: sub \"%s\" org \"%s\" role \"%s\"",
                   ctx->principal.sub, ctx->principal.org,
                   ctx->principal.role);

    return NGX_OK;
}


/* "Bearer" 1*SP token (RFC 6750, 2.1); the scheme is case-insensitive */

static ngx_int_t
ngx_http_msp_auth_bearer(ngx_str_t *value, ngx_str_t *token)
{
    u_char  *p, *last;

    if (value->len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(value->data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p = value->data + sizeof("Bearer ") - 1;
    last = value->data + value->len;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (p == last) {
        return NGX_DECLINED;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


/*
 * The 401 is sent from here rather than returned: nginx's own 401 page is
 * HTML.  The request is then finalized as a content handler's would be,
 * and NGX_DONE stops the phases: returning what sending returned (NGX_OK)
 * would tell the access phase that access is granted, and the content
 * handler would run after all.
 */

static ngx_int_t
ngx_http_msp_auth_refuse(ngx_http_request_t *r, const char *why)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    /* the reason, never the token */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "msp: bearer token refused: %s", why);

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return ngx_http_msp_auth_done(r, ngx_http_msp_send_failure(r, rc));
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        rc = ngx_http_msp_send_failure(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return ngx_http_msp_auth_done(r, rc);
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value = ngx_http_msp_auth_challenge;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    r->headers_out.www_authenticate = h;

    rc = ngx_http_msp_send_problem(r, NGX_HTTP_UNAUTHORIZED, NULL, NULL,
                                   "The bearer token is not valid: it is "
                                   "malformed, expired, or not signed for "
                                   "this service.", NULL);

    return ngx_http_msp_auth_done(r, rc);
}


/* a response was sent (or failed): finish as a content handler would */

static ngx_int_t
ngx_http_msp_auth_done(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static void *
ngx_http_msp_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_msp_auth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_msp_auth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->issuer = { 0, NULL };
     *     conf->audience = { 0, NULL };
     *     conf->jwt = { NULL, 0, NULL, NULL, 0 };
     */

    conf->keys = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_msp_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_msp_auth_loc_conf_t *prev = parent;
    ngx_http_msp_auth_loc_conf_t *conf = child;

    /* a level with keys of its own replaces the keys it would inherit */

    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway,
                             NGX_HTTP_MSP_AUTH_LEEWAY);

    if (conf->keys != NULL
        && (conf->issuer.len == 0 || conf->audience.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"msp_jwt_key\" needs \"msp_jwt_issuer\" and "
                           "\"msp_jwt_audience\"");
        return NGX_CONF_ERROR;
    }

    /*
     * the configuration's words are NUL-terminated (ngx_conf_read_token()),
     * and no key is added once merging starts, so the array's elements
     * stay where they are
     */

    if (conf->keys != NULL) {
        conf->jwt.keys = conf->keys->elts;
        conf->jwt.nkeys = conf->keys->nelts;
    }

    conf->jwt.issuer = (const char *) conf->issuer.data;
    conf->jwt.audience = (const char *) conf->audience.data;
    conf->jwt.leeway = (long) conf->leeway;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_msp_auth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_msp_auth_handler;

    return NGX_OK;
}


/* msp_jwt_key KID ALG FILE: the key is read and checked now */

static char *
ngx_http_msp_auth_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_msp_auth_loc_conf_t *alcf = conf;

    ngx_err_t            err;
    ngx_str_t           *value, file;
    ngx_uint_t           i;
    const char          *why;
    msp_jwt_key_t       *key;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;

    if (alcf->keys == NGX_CONF_UNSET_PTR) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        alcf->keys = ngx_array_create(cf->pool, 4, sizeof(msp_jwt_key_t));
        if (alcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        /* the key bytes are malloc()'d: scrubbed and freed with the cycle */

        cln->handler = ngx_http_msp_auth_free_keys;
        cln->data = alcf->keys;
    }

    key = alcf->keys->elts;

    for (i = 0; i < alcf->keys->nelts; i++) {
        if (ngx_strcmp(key[i].kid, value[1].data) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate msp_jwt_key \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    file = value[3];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    key = ngx_array_push(alcf->keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    if (msp_jwt_load_key(key, (const char *) value[1].data,
                         (const char *) value[2].data,
                         (const char *) file.data, &why)
        != 0)
    {
        err = ngx_errno;
        alcf->keys->nelts--;

        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "msp_jwt_key \"%V\" %V \"%V\": %s",
                           &value[1], &value[2], &file, why);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_msp_auth_free_keys(void *data)
{
    ngx_array_t *keys = data;

    ngx_uint_t      i;
    msp_jwt_key_t  *key;

    key = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        msp_jwt_key_free(&key[i]);
    }
}
