/*
 * tickets.c - what the tickets services share: whether a ticket is there
 * for the principal, the SLA failure reply, ETags.
 */
#include "tickets/tickets.h"

#include <string.h>

const msp_sql_t msp_sql_ticket_visible = {
    "ticket_visible",
    "SELECT 1 FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id"
    " WHERE t.slug = $1 AND t.ticket_prefix = $2 AND k.number = $3::integer",
    3
};

void
msp_stmt_ticket(msp_stmt_t *s, const msp_sql_t *sql, const char *slug, const char *prefix,
                const char *number)
{
    s->sql = sql;
    s->params[0] = slug;
    s->params[1] = prefix;
    s->params[2] = number;
}

msp_outcome_t
msp_reply_sla_failure(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 500, "internal", "Internal Server Error",
                             "The ticket's SLA clocks could not be computed; nothing was "
                             "changed.", NULL);
}

const char *
msp_ticket_etag(msp_call_t *call, const char *version)
{
    return msp_printf(call, "\"%s\"", version);
}
