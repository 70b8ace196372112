/*
 * sla_explain.c - GET /v1/tenants/{slug}/tickets/{id}/sla: the ticket's
 * SLA clocks, and the arithmetic behind them for a person to check.
 *
 * The clocks are replayed from the history there and then (sla/clock.h),
 * as of the request: the segments between events, the status, holder and
 * priority in force in each, which clocks ran, and the working windows
 * (in the tenant's local time) whose seconds were counted.
 */
#include "http/params.h"
#include "auth/tenant_context.h"
#include "tickets/ticket_rules.h"
#include "tickets/ticket_sla.h"
#include "tickets/tickets.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

static msp_outcome_t
explained(msp_call_t *call, PGresult *const *res, int nres, msp_step_t *next,
          msp_reply_t *reply)
{
    (void) next;
    msp_tenant_t t;
    msp_outcome_t early;
    if (!msp_results_found(call, reply, res, nres, 1, msp_reply_no_ticket, &t, &early)) {
        return early;
    }
    /* The stretches show who held the work, handoffs the history keeps
     * from requesters and machine clients; they see the clocks on the
     * ticket itself. */
    if (!msp_sees_staff_level(&t.as)) {
        return msp_reply_forbidden(call, reply, "The SLA explanation shows who held the work; "
                                   "it is for IT staff. The ticket shows its clocks.");
    }
    msp_sla_inputs_t in;
    msp_ticket_sla_inputs(res[1], &in);
    const msp_sla_config_t *cfg = msp_ticket_sla_config(res[1], NULL, 0);
    json_t *history = json_loads(in.history, 0, NULL);
    int64_t now = in.now;
    json_t *segments = json_array();
    msp_sla_snapshot_t *snap = msp_alloc(call, sizeof(*snap));
    if (cfg == NULL || history == NULL || segments == NULL || snap == NULL
        || msp_sla_replay(cfg, history, now, snap, segments) != 0)
    {
        json_decref(history);
        json_decref(segments);
        return msp_reply_sla_failure(call, reply);
    }
    json_decref(history);

    json_t *stored = msp_sla_snapshot_json(snap);
    json_t *clocks = msp_sla_view(stored, cfg, now);
    json_decref(stored);
    json_t *thresholds = json_array();
    for (int i = 0; i < cfg->policy.nthresholds; i++) {
        json_array_append_new(thresholds, json_integer(cfg->policy.thresholds[i]));
    }
    json_t *pauses = json_array();
    if (cfg->policy.pause_pending_customer) {
        json_array_append_new(pauses, json_string("pending_customer"));
    }
    if (cfg->policy.pause_pending_vendor) {
        json_array_append_new(pauses, json_string("pending_vendor"));
    }
    json_t *doc = json_pack("{s:s, s:s, s:o, s:{s:o, s:o}, s:o, s:o}",
        "ticket", msp_printf(call, "%s-%s", t.prefix, in.number),
        "timezone", in.timezone,
        "clocks", clocks ? clocks : json_null(),
        "policy", "thresholds_percent", thresholds, "pause_statuses", pauses,
        "segments", segments,
        "pending_alerts", msp_sla_pending_json(snap));
    return msp_reply_doc(call, reply, 200, doc);
}

msp_outcome_t
msp_sla_explain_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    const char *slug = msp_param_slug(call, "slug"), *prefix, *number;
    if (slug == NULL || msp_param_ticket_id(call, "number", &prefix, &number) != 0) {
        return msp_reply_no_ticket(call, reply);
    }
    msp_step_tenant(first, slug);
    msp_stmt_ticket_sla_inputs(&first->stmts[1], slug, prefix, number);
    first->nstmts = 2;
    first->read_only = 1;
    first->then = explained;
    return MSP_NEXT;
}
