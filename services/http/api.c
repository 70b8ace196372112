/*
 * api.c - the route table: every route of the API, one row each, with the
 * service that answers it.
 *
 * A new endpoint is a new row and its start function.  Rows that share a
 * pattern may each handle different methods; the first match wins
 * (http/router.h).  Services read path parameters by the names in their
 * pattern (http/params.h).
 */
#include "http/api.h"
#include "call/health.h"
#include "escalations/escalations.h"
#include "governance/governance.h"
#include "http/router.h"
#include "tenants/tenants_api.h"
#include "reports/reports.h"
#include "tickets/tickets.h"

static const msp_route_t routes[] = {
    /* pattern, then: methods, start, public */
    { "/v1/health",
      MSP_METHOD_GET, msp_health_start, 1 },
    { "/v1/me",
      MSP_METHOD_GET, msp_me_start, 0 },
    { "/v1/tenants",
      MSP_METHOD_GET, msp_tenant_list_start, 0 },
    { "/v1/tenants/{slug}",
      MSP_METHOD_GET, msp_tenant_get_start, 0 },
    { "/v1/tenants/{slug}/tickets",
      MSP_METHOD_GET, msp_ticket_list_start, 0 },
    { "/v1/tenants/{slug}/tickets",
      MSP_METHOD_POST, msp_ticket_create_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}",
      MSP_METHOD_GET, msp_ticket_get_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}",
      MSP_METHOD_PATCH, msp_ticket_update_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/assets",
      MSP_METHOD_GET, msp_ticket_assets_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/comments",
      MSP_METHOD_POST, msp_comment_create_start, 0 },
    { "/v1/tenants/{slug}/time-entries",
      MSP_METHOD_GET, msp_tenant_time_entries_start, 0 },
    { "/v1/tenants/{slug}/time-entries/{id}",
      MSP_METHOD_GET, msp_time_entry_get_start, 0 },
    { "/v1/tenants/{slug}/time-entries/{id}",
      MSP_METHOD_PATCH, msp_time_entry_update_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/time-entries",
      MSP_METHOD_GET, msp_time_entry_list_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/time-entries",
      MSP_METHOD_POST, msp_time_entry_create_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/satisfaction",
      MSP_METHOD_GET, msp_rating_get_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/satisfaction",
      MSP_METHOD_POST, msp_rating_create_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/satisfaction",
      MSP_METHOD_PATCH, msp_rating_update_start, 0 },
    { "/v1/tenants/{slug}/satisfaction",
      MSP_METHOD_GET, msp_tenant_ratings_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/sla",
      MSP_METHOD_GET, msp_sla_explain_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/events",
      MSP_METHOD_GET, msp_ticket_events_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/escalations",
      MSP_METHOD_GET, msp_escalation_list_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/escalations",
      MSP_METHOD_POST, msp_escalation_create_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/escalations/{id}",
      MSP_METHOD_GET, msp_escalation_get_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/escalations/{id}/accept",
      MSP_METHOD_POST, msp_escalation_accept_start, 0 },
    { "/v1/tenants/{slug}/tickets/{number}/escalations/{id}/reject",
      MSP_METHOD_POST, msp_escalation_reject_start, 0 },
    { "/v1/tenants/{slug}/reports/volume",
      MSP_METHOD_GET, msp_report_volume_start, 0 },
    { "/v1/tenants/{slug}/reports/volume/tickets",
      MSP_METHOD_GET, msp_report_volume_tickets_start, 0 },
    { "/v1/tenants/{slug}/reports/backlog",
      MSP_METHOD_GET, msp_report_backlog_start, 0 },
    { "/v1/tenants/{slug}/reports/backlog/tickets",
      MSP_METHOD_GET, msp_report_backlog_tickets_start, 0 },
    { "/v1/tenants/{slug}/reports/sla",
      MSP_METHOD_GET, msp_report_sla_start, 0 },
    { "/v1/tenants/{slug}/reports/sla/tickets",
      MSP_METHOD_GET, msp_report_sla_tickets_start, 0 },
    { "/v1/tenants/{slug}/reports/quality",
      MSP_METHOD_GET, msp_report_quality_start, 0 },
    { "/v1/tenants/{slug}/reports/quality/tickets",
      MSP_METHOD_GET, msp_report_quality_tickets_start, 0 },
    { "/v1/tenants/{slug}/reports/comanagement",
      MSP_METHOD_GET, msp_report_comanagement_start, 0 },
    { "/v1/tenants/{slug}/reports/comanagement/tickets",
      MSP_METHOD_GET, msp_report_comanagement_tickets_start, 0 },
    { "/v1/tenants/{slug}/reports/trend",
      MSP_METHOD_GET, msp_report_trend_start, 0 },
    { "/v1/reports/portfolio",
      MSP_METHOD_GET, msp_report_portfolio_start, 0 },
    { "/v1/tenants/{slug}/escalation-policy",
      MSP_METHOD_GET, msp_escalation_policy_start, 0 },
    { "/v1/queue",
      MSP_METHOD_GET, msp_queue_start, 0 },
    { "/v1/escalations",
      MSP_METHOD_GET, msp_escalations_waiting_start, 0 },
    { "/v1/inbox",
      MSP_METHOD_GET, msp_inbox_start, 0 },
};

const msp_route_table_t msp_api_routes = { routes, sizeof(routes) / sizeof(routes[0]) };

msp_outcome_t
msp_api_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    return call->route->start(call, first, reply);
}
