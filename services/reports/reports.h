/*
 * reports.h - the service reports under /v1/tenants/{slug}/reports/:
 * metrics per tenant and period, as services/reports/METRICS.md defines
 * them, computed from the tickets' history as of an instant.
 *
 * Every report takes `period` (period.h's written forms) and `as_of`
 * (RFC 3339, default now, never in the future); a period that has not
 * ended by as_of is reported up to as_of ("complete": false).  Reports
 * are for the IT staff of both sides and auditors: not for requesters,
 * nor machine clients.
 */
#ifndef MSP_REPORTS_H
#define MSP_REPORTS_H

#include "auth/principal.h"
#include "call/call.h"
#include "common/errors.h"
#include "http/args.h"
#include "reports/period.h"

#include <jansson.h>

/* The version of METRICS.md the reports compute; every report names it. */
#define MSP_METRICS_VERSION "2"

/* The most periods a report spans: the trend's twelve. */
#define MSP_REPORT_MAX_PERIODS 12

/*
 * The run of n periods (at most MSP_REPORT_MAX_PERIODS) that ends with
 * last, oldest first, in zone tz, as app.report_headline() takes each:
 * its name and local bounds, whether as_of is past its end, and the
 * instants it counts in microseconds (its start, its end or as_of if
 * sooner, the start of the period before it).  New reference, or NULL.
 */
json_t *msp_report_periods(const msp_period_t *last, int n, const msp_tz_t *tz,
                           int64_t as_of_us);

/* Checks the arguments every report takes: `period` (required; read into
 * *period), `as_of` and `format` (*csv: whether the reply is CSV, from it
 * or the Accept header); what is wrong goes to errs. */
void msp_report_check_args(const msp_call_t *call, const msp_args_t *args, msp_period_t *period,
                           int *csv, msp_errors_t *errs);

/* Whether the principal, with its role in the tenant, may read its
 * reports. */
int msp_may_read_reports(const msp_principal_t *p);

/* Whether it may read the contract's terms (fee, rate), as GET
 * /v1/tenants/{slug} shows them: the provider's account managers and
 * admins and the tenant's IT leader. */
int msp_sees_contract(const msp_principal_t *p);

/* GET /v1/tenants/{slug}/reports/volume */
msp_outcome_t msp_report_volume_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
/* GET /v1/tenants/{slug}/reports/volume/tickets: the tickets behind one
 * figure (metric, and a split's value), in keyset pages. */
msp_outcome_t msp_report_volume_tickets_start(msp_call_t *call, msp_step_t *first,
                                              msp_reply_t *reply);
/* GET /v1/tenants/{slug}/reports/backlog, and .../backlog/tickets */
msp_outcome_t msp_report_backlog_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_report_backlog_tickets_start(msp_call_t *call, msp_step_t *first,
                                               msp_reply_t *reply);

/* GET /v1/tenants/{slug}/reports/sla (attainment and times), and
 * .../sla/tickets */
msp_outcome_t msp_report_sla_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_report_sla_tickets_start(msp_call_t *call, msp_step_t *first,
                                           msp_reply_t *reply);
/* GET /v1/tenants/{slug}/reports/quality (first-contact resolution,
 * reopens, recurrence, proactive work), and .../quality/tickets */
msp_outcome_t msp_report_quality_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_report_quality_tickets_start(msp_call_t *call, msp_step_t *first,
                                               msp_reply_t *reply);
/* GET /v1/tenants/{slug}/reports/comanagement (held time by side and
 * tier, handoffs, escalations, acknowledgement timeouts), and
 * .../comanagement/tickets */
msp_outcome_t msp_report_comanagement_start(msp_call_t *call, msp_step_t *first,
                                            msp_reply_t *reply);
msp_outcome_t msp_report_comanagement_tickets_start(msp_call_t *call, msp_step_t *first,
                                                    msp_reply_t *reply);
/* GET /v1/tenants/{slug}/reports/trend: the headline metrics of the
 * period asked for and the 11 before it */
msp_outcome_t msp_report_trend_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
/* GET /v1/reports/portfolio: a row per tenant the principal sees (the
 * provider's leads, account managers and admins) */
msp_outcome_t msp_report_portfolio_start(msp_call_t *call, msp_step_t *first,
                                         msp_reply_t *reply);

/* GET /v1/tenants/{slug}/reports/cost: the time logged against the
 * contract (METRICS.md, "Cost"); for those who see the contract. */
msp_outcome_t msp_report_cost_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* GET /v1/tenants/{slug}/reports/failures: tickets per 100 devices of
 * each hardware model and per 100 users of each department and site
 * (METRICS.md, "Failures"), and .../failures/tickets */
msp_outcome_t msp_report_failures_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_report_failures_tickets_start(msp_call_t *call, msp_step_t *first,
                                                msp_reply_t *reply);

#endif
