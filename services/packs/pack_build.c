/*
 * pack_build.c - a review pack's document (pack.h) from the reports and
 * records as of the pack's instant.
 *
 * Every figure comes from a report or list of the API, fetched as the
 * pack's reader with the pack's period and as_of, so the pack shows what
 * the API shows and each number's drill-down is the API's own.  What the
 * pack adds is the choice and arrangement of the figures per kind, the
 * sentences of the executive summary (written by rules from figures the
 * pack shows, each citing its figure), and the averages of ratings.
 */
#include "packs/pack_doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the kinds ---------------------------------------------------------- */

static const char *const project_cols[] = {
    "name:Project:text", "state:State:text", "rag:Status:text", "rag_reason:Why:text",
    "due_date:Due:date", "milestones:Milestones:count", "budget:Budget:money",
    "actual:Actual:money", NULL
};
static const char *const action_cols[] = {
    "title:Action:text", "owner:Owner:text", "due:Due:date", "status:Status:text",
    "standing:Kept:text", NULL
};
static const char *const risk_cols[] = {
    "title:Risk:text", "likelihood:Likelihood:count", "impact:Impact:count",
    "owner:Owner:text", "status:Status:text", "mitigation:Mitigation:text", NULL
};
static const char *const decision_cols[] = {
    "title:Decision:text", "decided_on:Decided:date", "decided_by:By:text",
    "owner:Owner:text", NULL
};
static const char *const objective_cols[] = {
    "title:Objective:text", "year:Year:count", "owner:Owner:text", "status:Status:text",
    "projects:Projects:count", NULL
};

json_t *
msp_pack_build(const msp_pack_info_t *info, msp_pack_fetch_fn fetch, void *fetch_ctx,
               msp_pack_progress_fn progress, void *progress_ctx, char *why, size_t size)
{
    int kind = msp_pack_kind(info->kind);
    if (kind < 0) {
        snprintf(why, size, "unknown kind %s", info->kind ? info->kind : "(none)");
        return NULL;
    }
    pack_build_t b = {
        .info = info, .fetch = fetch, .fetch_ctx = fetch_ctx, .progress = progress,
        .progress_ctx = progress_ctx, .why = why, .size = size,
        .of = kind == 0 ? 21 : kind == 1 ? 23 : 26,     /* about how many fetches */
    };
    snprintf(b.scope, sizeof(b.scope), "period=%s&as_of=%s", info->period, info->as_of);
    snprintf(b.base, sizeof(b.base), "/v1/tenants/%s", info->slug);

    json_t *tenant = pack_get(&b, "%s", "");
    json_t *volume = pack_get(&b, "/reports/volume?%s", b.scope);
    json_t *sla = pack_get(&b, "/reports/sla?%s", b.scope);
    json_t *trend = pack_get(&b, "/reports/trend?%s", b.scope);
    if (b.failed) {
        json_decref(tenant);
        json_decref(volume);
        json_decref(sla);
        json_decref(trend);
        return NULL;
    }

    json_t *doc = json_pack(
        "{s:{s:s, s:s, s:{s:O?, s:O?}, s:s, s:{s:s, s:O?, s:O?, s:O?}, s:s, s:O?, s:s?}, s:[]}",
        "pack", "id", info->pack_id, "kind", info->kind, "tenant", "slug",
        json_object_get(tenant, "slug"), "name", json_object_get(tenant, "name"), "provider",
        info->provider ? info->provider : "", "period", "name", info->period, "start",
        pack_at(volume, "period.start"), "end", pack_at(volume, "period.end"), "time_zone",
        json_object_get(tenant, "timezone"), "as_of", info->as_of, "definitions",
        json_object_get(volume, "definitions"), "supersedes", info->supersedes, "sections");

    json_t *summary = pack_section(doc, kind == 1 ? "summary" : "headline",
                              kind == 0 ? "Headline changes against the previous week"
                              : kind == 1 ? "Executive summary" : "The quarter at a glance");
    json_t *scorecard = pack_section_scorecard(
        &b, doc, trend, tenant,
        kind == 0 ? "The last twelve weeks" : kind == 1 ? "Trailing twelve months"
                                                        : "The last twelve quarters");
    pack_section_summary(summary, scorecard, info->kind);
    if (kind == 2) {
        pack_section_targets(doc, scorecard, tenant);
    }

    pack_section_volume(&b, doc, volume);
    pack_section_sla(&b, doc, sla);

    if (kind == 0) {
        json_t *backlog = pack_get(&b, "/reports/backlog?%s", b.scope);
        json_t *co = pack_get(&b, "/reports/comanagement?%s", b.scope);
        if (!b.failed) {
            pack_section_escalations(&b, doc);
            pack_section_backlog(&b, doc, backlog);
            pack_section_comanagement(&b, doc, co);
        }
        json_decref(backlog);
        json_decref(co);
    } else {
        json_t *quality = pack_get(&b, "/reports/quality?%s", b.scope);
        json_t *co = pack_get(&b, "/reports/comanagement?%s", b.scope);
        json_t *cost = pack_get(&b, "/reports/cost?%s", b.scope);
        if (!b.failed) {
            pack_section_automation(&b, doc, quality, cost);
            pack_section_comanagement(&b, doc, co);
            char from[16], to[16];
            pack_local_date(json_string_value(pack_at(volume, "period.start")), from, sizeof(from));
            pack_local_date(json_string_value(pack_at(volume, "period.end")), to, sizeof(to));
            pack_section_cost(&b, doc, cost, from, to);
        }
        json_decref(quality);
        json_decref(co);
        json_decref(cost);
    }

    if (kind >= 1) {
        pack_section_records(&b, doc, "projects", "Projects", "projects", project_cols,
                        "No projects are recorded.", NULL, NULL);
    }
    if (kind == 2) {
        pack_section_records(&b, doc, "objectives", "Objectives", "objectives", objective_cols,
                        "No objectives are recorded.", NULL, NULL);
        pack_section_records(&b, doc, "risks", "Risks", "risks", risk_cols,
                        "No risks are recorded.", NULL, NULL);
        pack_section_records(&b, doc, "decisions", "Decisions", "decisions", decision_cols,
                        "No decisions are recorded.", NULL, NULL);
    }
    if (kind >= 1) {
        /* the last review: the one held after the previous period ended,
         * so during this one (or, held late, up to the pack's end) */
        char from[16], to[16];
        pack_local_date(json_string_value(pack_at(volume, "period.start")), from, sizeof(from));
        pack_local_date(json_string_value(pack_at(volume, "period.end")), to, sizeof(to));
        pack_section_records(&b, doc, "actions",
                        kind == 1 ? "Actions from the last review" : "Last quarter's commitments",
                        "actions", action_cols,
                        "No actions were recorded at a review held in the period.", from, to);
    }
    json_decref(tenant);
    json_decref(volume);
    json_decref(sla);
    json_decref(trend);
    if (b.failed) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
