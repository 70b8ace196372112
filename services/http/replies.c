/*
 * replies.c - the API's shared replies (replies.h).
 */
#include "http/replies.h"

msp_outcome_t
msp_reply_not_found(msp_call_t *call, msp_reply_t *reply, const char *detail)
{
    return msp_reply_problem(call, reply, 404, NULL, NULL, detail, NULL);
}

msp_outcome_t
msp_reply_no_tenant(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "There is no such tenant.");
}

msp_outcome_t
msp_reply_no_ticket(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "There is no such ticket in this tenant.");
}

msp_outcome_t
msp_reply_no_escalation(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_not_found(call, reply, "There is no such escalation on this ticket.");
}

msp_outcome_t
msp_reply_malformed_body(msp_call_t *call, msp_reply_t *reply, const char *why)
{
    return msp_reply_problem(call, reply, 400, "malformed-body", "Malformed body", why, NULL);
}

msp_outcome_t
msp_reply_forbidden(msp_call_t *call, msp_reply_t *reply, const char *detail)
{
    return msp_reply_problem(call, reply, 403, "forbidden", "Forbidden", detail, NULL);
}

msp_outcome_t
msp_reply_invalid(msp_call_t *call, msp_reply_t *reply, int status, const char *title,
                  const msp_errors_t *errs)
{
    size_t n = errs->n + errs->dropped;
    char *detail = msp_printf(call, "The request has %zu invalid field%s.", n,
                              n == 1 ? "" : "s");
    return msp_reply_problem(call, reply, status, "validation", title, detail, errs);
}

int
msp_results_found(msp_call_t *call, msp_reply_t *reply, PGresult *const *res, int nres,
                  int which, msp_outcome_t (*missing)(msp_call_t *, msp_reply_t *),
                  msp_tenant_t *t, msp_outcome_t *out)
{
    const PGresult *err = msp_first_error(res, nres);
    if (err != NULL) {
        *out = msp_reply_sql_error(call, reply, err);
        return 0;
    }
    int visible = t != NULL ? msp_tenant_read(call, res[0], t) : 1;
    if (visible < 0) {
        *out = msp_reply_out_of_memory(reply);
        return 0;
    }
    if (visible == 0 || (which >= 0 && PQntuples(res[which]) != 1)) {
        *out = missing(call, reply);
        return 0;
    }
    return 1;
}

msp_outcome_t
msp_reply_document(msp_call_t *call, msp_reply_t *reply, PGresult *const *res, int nres,
                   int which, msp_outcome_t (*missing)(msp_call_t *, msp_reply_t *))
{
    msp_outcome_t out;
    if (!msp_results_found(call, reply, res, nres, which, missing, NULL, &out)) {
        return out;
    }
    return msp_reply_json(call, reply, 200, PQgetvalue(res[which], 0, 0),
                          (size_t) PQgetlength(res[which], 0, 0));
}
