/*
 * tickets.c - what the tickets services share: their common replies, and
 * whether a ticket is there for the principal.
 */
#include "tickets/tickets.h"

#include <string.h>

const msp_sql_t msp_sql_ticket_visible = {
    "ticket_visible",
    "SELECT 1 FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer",
    3
};

msp_outcome_t
msp_reply_no_ticket(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 404, NULL, NULL,
                             "There is no such ticket in this tenant.", NULL);
}

msp_outcome_t
msp_reply_no_tenant(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 404, NULL, NULL, "There is no such tenant.", NULL);
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
msp_reply_sla_failure(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 500, "internal", "Internal Server Error",
                             "The ticket's SLA clocks could not be computed; nothing was "
                             "changed.", NULL);
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

const char *
msp_ticket_etag(msp_call_t *call, const char *version)
{
    return msp_printf(call, "\"%s\"", version);
}
