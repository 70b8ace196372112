/*
 * idempotency.h - Idempotency-Key on the requests that create.
 *
 * A create with a key first claims it, in its first step: (tenant,
 * subject, key) with the request's SHA-256 (method, path, body).  The
 * first request to claim it goes on and stores its response with the row
 * it writes, in the same statement; a retry, or a concurrent twin that
 * waited on the claim, gets that stored response; the same key with
 * another request is 422, and a key whose first request has not finished
 * is 409.
 */
#ifndef MSP_IDEMPOTENCY_H
#define MSP_IDEMPOTENCY_H

#include "call/call.h"
#include "common/sha256.h"

/* An Idempotency-Key is 1 to 200 visible ASCII characters; the 400 for
 * one that is not. */
int msp_idempotency_key_valid(const char *key);
msp_outcome_t msp_reply_bad_idempotency_key(msp_call_t *call, msp_reply_t *reply);

/* The request's identity for its key: "POST <path>\n<body>", hex. */
int msp_idempotency_request(msp_call_t *call, const char *path,
                            char out[MSP_SHA256_HEX_LEN + 1]);

/* Puts the claim at step->stmts[i] and the stored response at [i + 1]. */
void msp_stmt_idempotency(msp_step_t *step, int i, const char *slug, const char *key,
                          const char *request_sha);

/*
 * What the claim's and the stored response's results say: MSP_KEY_OURS
 * (go on and create), MSP_KEY_STORED (the first request's response is
 * *status, *body: reply with it), or MSP_KEY_REPLIED (*out is the reply:
 * 404 for a tenant not visible, 422, 409).
 */
typedef enum { MSP_KEY_OURS, MSP_KEY_STORED, MSP_KEY_REPLIED } msp_key_claim_t;
msp_key_claim_t msp_idempotency_claimed(msp_call_t *call, msp_reply_t *reply,
                                        const PGresult *claim, const PGresult *stored,
                                        const char *request_sha, const char **body,
                                        size_t *body_len, msp_outcome_t *out);

/* For a create at path: when the request has a key, its identity into
 * request_sha and the claim and stored response after step's statements
 * (step->nstmts grows by 2); nothing without a key.  0, or -1 when out of
 * memory. */
int msp_step_idempotency(msp_call_t *call, msp_step_t *step, const char *slug,
                         const char *path, char request_sha[MSP_SHA256_HEX_LEN + 1]);

#endif
