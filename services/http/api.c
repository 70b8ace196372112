/*
 * api.c - which service answers which route.
 */
#include "http/api.h"
#include "escalations/escalations.h"
#include "call/health.h"
#include "tenants/tenants_api.h"
#include "tickets/tickets.h"

#include <stddef.h>

typedef msp_outcome_t (*msp_start_fn)(msp_call_t *call, msp_step_t *first,
                                      msp_reply_t *reply);

static const struct {
    int          route;
    msp_start_fn start;
    int          is_public;
} services[] = {
    { MSP_ROUTE_HEALTH,         msp_health_start,         1 },
    { MSP_ROUTE_ME,             msp_me_start,             0 },
    { MSP_ROUTE_TENANT_LIST,    msp_tenant_list_start,    0 },
    { MSP_ROUTE_TENANT_GET,     msp_tenant_get_start,     0 },
    { MSP_ROUTE_TICKET_LIST,    msp_ticket_list_start,    0 },
    { MSP_ROUTE_TICKET_CREATE,  msp_ticket_create_start,  0 },
    { MSP_ROUTE_TICKET_GET,     msp_ticket_get_start,     0 },
    { MSP_ROUTE_TICKET_UPDATE,  msp_ticket_update_start,  0 },
    { MSP_ROUTE_COMMENT_CREATE, msp_comment_create_start, 0 },
    { MSP_ROUTE_TICKET_SLA,     msp_sla_explain_start,    0 },
    { MSP_ROUTE_QUEUE,          msp_queue_start,          0 },
    { MSP_ROUTE_TICKET_EVENTS,  msp_ticket_events_start,  0 },
    { MSP_ROUTE_ESCALATION_LIST,   msp_escalation_list_start,     0 },
    { MSP_ROUTE_ESCALATION_CREATE, msp_escalation_create_start,   0 },
    { MSP_ROUTE_ESCALATION_GET,    msp_escalation_get_start,      0 },
    { MSP_ROUTE_ESCALATION_ACCEPT, msp_escalation_decide_start,   0 },
    { MSP_ROUTE_ESCALATION_REJECT, msp_escalation_decide_start,   0 },
    { MSP_ROUTE_ESCALATION_POLICY, msp_escalation_policy_start,   0 },
    { MSP_ROUTE_ESCALATIONS_WAITING, msp_escalations_waiting_start, 0 },
    { MSP_ROUTE_INBOX,          msp_inbox_start,          0 },
};

int
msp_route_is_public(int route)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (services[i].route == route) {
            return services[i].is_public;
        }
    }
    return 0;
}

msp_outcome_t
msp_api_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (services[i].route == call->route) {
            return services[i].start(call, first, reply);
        }
    }
    return msp_reply_problem(call, reply, 404, NULL, NULL,
                             "There is no API resource at this path.", NULL);
}
