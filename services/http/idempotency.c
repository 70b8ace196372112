/*
 * idempotency.c - claiming an Idempotency-Key and reading what it holds.
 */
#include "http/idempotency.h"
#include "http/replies.h"

#include <string.h>

/* $1 slug, $2 key, $3 request SHA-256: claims the key for this request. */
static const msp_sql_t sql_idempotency_claim = {
    "idempotency_claim",
    "INSERT INTO idempotency_keys (tenant_id, subject, key, request_sha256)"
    " SELECT tenant_id, app.principal_sub(), $2, $3 FROM tenants WHERE slug = $1"
    " ON CONFLICT DO NOTHING RETURNING 1",
    3
};

static const msp_sql_t sql_idempotency_stored = {
    "idempotency_stored",
    "SELECT x.request_sha256, x.response_status, x.response_body"
    " FROM idempotency_keys x JOIN tenants t USING (tenant_id)"
    " WHERE t.slug = $1 AND x.subject = app.principal_sub() AND x.key = $2",
    2
};

int
msp_idempotency_key_valid(const char *key)
{
    size_t len = strlen(key);
    if (len < 1 || len > 200) {
        return 0;
    }
    for (; *key; key++) {
        if (*key < 0x21 || *key > 0x7e) {
            return 0;
        }
    }
    return 1;
}

msp_outcome_t
msp_reply_bad_idempotency_key(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 400, "validation", "Invalid Idempotency-Key",
                             "An Idempotency-Key is 1 to 200 visible ASCII characters.", NULL);
}

int
msp_idempotency_request(msp_call_t *call, const char *path, char out[MSP_SHA256_HEX_LEN + 1])
{
    msp_sha256_t *sha = msp_sha256_new();
    if (sha == NULL) {
        return -1;
    }
    msp_sha256_update(sha, "POST ", 5);
    msp_sha256_update(sha, path, strlen(path));
    msp_sha256_update(sha, "\n", 1);
    msp_sha256_update(sha, call->body, call->body_len);
    msp_sha256_finish(sha, out);
    return 0;
}

void
msp_stmt_idempotency(msp_step_t *step, int i, const char *slug, const char *key,
                     const char *request_sha)
{
    step->stmts[i].sql = &sql_idempotency_claim;
    step->stmts[i].params[0] = slug;
    step->stmts[i].params[1] = key;
    step->stmts[i].params[2] = request_sha;
    step->stmts[i + 1].sql = &sql_idempotency_stored;
    step->stmts[i + 1].params[0] = slug;
    step->stmts[i + 1].params[1] = key;
}

int
msp_step_idempotency(msp_call_t *call, msp_step_t *step, const char *slug, const char *path,
                     char request_sha[MSP_SHA256_HEX_LEN + 1])
{
    if (call->idempotency_key == NULL) {
        return 0;
    }
    if (path == NULL || msp_idempotency_request(call, path, request_sha) != 0) {
        return -1;
    }
    msp_stmt_idempotency(step, step->nstmts, slug, call->idempotency_key, request_sha);
    step->nstmts += 2;
    return 0;
}

msp_key_claim_t
msp_idempotency_claimed(msp_call_t *call, msp_reply_t *reply, const PGresult *claim,
                        const PGresult *stored, const char *request_sha, const char **body,
                        size_t *body_len, msp_outcome_t *out)
{
    if (PQntuples(claim) == 1) {
        return MSP_KEY_OURS;
    }
    if (PQntuples(stored) != 1) {
        *out = msp_reply_no_tenant(call, reply);
        return MSP_KEY_REPLIED;
    }
    if (strcmp(PQgetvalue(stored, 0, 0), request_sha) != 0) {
        *out = msp_reply_problem(call, reply, 422, "idempotency-key-reused",
                                 "Idempotency-Key reused",
                                 "This Idempotency-Key was used for a different request.",
                                 NULL);
        return MSP_KEY_REPLIED;
    }
    if (PQgetisnull(stored, 0, 1)) {
        *out = msp_reply_problem(call, reply, 409, "conflict", "Conflict",
                                 "A request with this Idempotency-Key is still in progress.",
                                 NULL);
        return MSP_KEY_REPLIED;
    }
    *body = PQgetvalue(stored, 0, 2);
    *body_len = (size_t) PQgetlength(stored, 0, 2);
    return MSP_KEY_STORED;
}
