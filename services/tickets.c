/*
 * tickets.c - what the tickets services share: their common replies.
 */
#include "tickets.h"

#include <string.h>

msp_outcome_t
msp_reply_no_ticket(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 404, NULL, NULL,
                             "There is no such ticket in this tenant.", NULL);
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

char *
msp_rows_json_array(msp_call_t *call, const PGresult *res, int col, int nrows)
{
    size_t size = 3;
    for (int i = 0; i < nrows; i++) {
        size += (size_t) PQgetlength(res, i, col) + 1;
    }
    char *out = msp_alloc(call, size);
    if (out == NULL) {
        return NULL;
    }
    char *p = out;
    *p++ = '[';
    for (int i = 0; i < nrows; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        size_t len = (size_t) PQgetlength(res, i, col);
        memcpy(p, PQgetvalue(res, i, col), len);
        p += len;
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

const char *
msp_ticket_etag(msp_call_t *call, const char *version)
{
    return msp_printf(call, "\"%s\"", version);
}
