/*
 * replies.h - the API's shared replies: one wording and one problem type
 * for each kind of refusal, whatever service gives it.
 *
 * Every 404 is the same problem (about:blank, "Not Found"): outside the
 * principal's tenants, a thing that does not exist and a thing it may not
 * see must look alike.  Only the detail says what was looked for.
 */
#ifndef MSP_REPLIES_H
#define MSP_REPLIES_H

#include "auth/tenant_context.h"
#include "call/call.h"

msp_outcome_t msp_reply_not_found(msp_call_t *call, msp_reply_t *reply, const char *detail);
msp_outcome_t msp_reply_no_tenant(msp_call_t *call, msp_reply_t *reply);
msp_outcome_t msp_reply_no_ticket(msp_call_t *call, msp_reply_t *reply);
msp_outcome_t msp_reply_no_escalation(msp_call_t *call, msp_reply_t *reply);

/* 400 for a body msp_body_parse() refused, with its reason. */
msp_outcome_t msp_reply_malformed_body(msp_call_t *call, msp_reply_t *reply, const char *why);
msp_outcome_t msp_reply_forbidden(msp_call_t *call, msp_reply_t *reply, const char *detail);
/* 400 for a bad query string, 422 for a bad body; errs name the fields. */
msp_outcome_t msp_reply_invalid(msp_call_t *call, msp_reply_t *reply, int status,
                                const char *title, const msp_errors_t *errs);

/*
 * The opening every result callback shares.  Returns 1 when the callback
 * goes on; else 0 with the reply in *out, the first that applies of: the
 * first failed statement's (msp_reply_sql_error); with t non-NULL, where
 * res[0] is msp_sql_tenant's answer, read into *t, `missing` (a 404) when
 * the principal cannot see the tenant, whatever rows the other statements
 * returned; `missing` when res[which] has no row.  which < 0 asks for no
 * row (a list may be empty).
 */
int msp_results_found(msp_call_t *call, msp_reply_t *reply, PGresult *const *res, int nres,
                      int which, msp_outcome_t (*missing)(msp_call_t *, msp_reply_t *),
                      msp_tenant_t *t, msp_outcome_t *out);

/*
 * The whole of a callback that answers with one JSON document: the first
 * failed statement's reply (msp_reply_sql_error), 404 with `missing` when
 * res[which] has no row, else 200 with its first column.
 */
msp_outcome_t msp_reply_document(msp_call_t *call, msp_reply_t *reply, PGresult *const *res,
                                 int nres, int which,
                                 msp_outcome_t (*missing)(msp_call_t *, msp_reply_t *));

#endif
