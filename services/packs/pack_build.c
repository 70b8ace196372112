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
        .of = kind == 0 ? 23 : kind == 1 ? 25 : 29,     /* about how many fetches */
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
        "{s:{s:s, s:s, s:{s:O?, s:O?}, s:s, s:{s:s, s:O?, s:O?, s:O?, s:s+++++}, s:s, s:O?,"
        " s:s?}, s:[]}",
        "pack", "id", info->pack_id, "kind", info->kind, "tenant", "slug",
        json_object_get(tenant, "slug"), "name", json_object_get(tenant, "name"), "provider",
        info->provider ? info->provider : "", "period", "name", info->period, "start",
        pack_at(volume, "period.start"), "end", pack_at(volume, "period.end"), "time_zone",
        json_object_get(tenant, "timezone"), "bounds",
        json_string_value(pack_at(volume, "period.start")) ?: "", " to ",
        json_string_value(pack_at(volume, "period.end")) ?: "", ", ",
        json_string_value(json_object_get(tenant, "timezone")) ?: "", "",
        "as_of", info->as_of, "definitions",
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

    json_t *compliance = pack_get(&b, "/reports/compliance?as_of=%s", info->as_of);
    json_t *failures = pack_get(&b, "/reports/failures?%s", b.scope);
    if (!b.failed) {
        pack_section_assets(&b, doc, compliance, failures);
        if (kind >= 1) {
            pack_section_lifecycle(&b, doc, compliance, kind == 2);
        }
    }
    json_decref(compliance);
    json_decref(failures);

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

/* ---- the portfolio ------------------------------------------------------- */

/* A tenant's page of the portfolio: its headline figures (the portfolio
 * report's row, the trend's definitions), its volume by priority and its
 * SLA attainment, each with the tenant's own drill-downs. */
static void
portfolio_page(pack_build_t *b, json_t *doc, json_t *item)
{
    const char *slug = json_string_value(json_object_get(item, "tenant"));
    const char *name = json_string_value(json_object_get(item, "name"));
    if (slug == NULL) {
        return;
    }
    json_t *s = pack_section(doc, slug, name ? name : slug);
    json_object_set_new(s, "page_break", json_true());
    pack_build_t t = *b;
    snprintf(t.base, sizeof(t.base), "/v1/tenants/%s", slug);
    static const char *const cols[] = { "figure:Figure:text", "value:Value:number",
                                        "unit:Unit:text", NULL };
    char key[96];
    snprintf(key, sizeof(key), "%s-headline", slug);
    json_t *tb = pack_table(s, key, "Headline", cols);
    static const char *const figures[][2] = {
        { "created", "count" }, { "resolved", "count" }, { "net_change", "count" },
        { "open_at_end", "count" }, { "response_attainment", "rate" },
        { "resolution_attainment", "rate" }, { "resolution_median_business_seconds", "duration" },
        { "resolution_p90_business_seconds", "duration" },
        { "first_contact_resolution_rate", "rate" }, { "reopen_rate", "rate" },
        { "recurrence_rate", "rate" },
    };
    for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        pack_row(tb, json_pack("[s, o, s]", pack_words(figures[i][0]),
                               pack_cell(item, figures[i][0]), figures[i][1]),
                 json_pack("[n, o, n]", json_sprintf("%s/reports/trend?%s", t.base, t.scope)));
    }
    json_t *volume = pack_get(&t, "/reports/volume?%s", t.scope);
    json_t *sla = pack_get(&t, "/reports/sla?%s", t.scope);
    if (volume != NULL && sla != NULL) {
        static const char *const prio_cols[] = { "priority:Priority:text",
                                                 "created:Created:count",
                                                 "resolved:Resolved:count", NULL };
        snprintf(key, sizeof(key), "%s-by-priority", slug);
        json_t *prio = pack_table(s, key, "By priority", prio_cols);
        static const char *const priorities[] = { "P1", "P2", "P3", "P4" };
        for (size_t i = 0; i < 4; i++) {
            pack_row(prio, json_pack("[s, I, I]", priorities[i],
                                     json_integer_value(json_object_get(
                                         pack_at(volume, "volume.created_by.priority"),
                                         priorities[i])),
                                     json_integer_value(json_object_get(
                                         pack_at(volume, "volume.resolved_by.priority"),
                                         priorities[i]))),
                     json_pack("[n, o, o]",
                               pack_drill(&t, "volume", "metric=created&priority=%s",
                                          priorities[i]),
                               pack_drill(&t, "volume", "metric=resolved&priority=%s",
                                          priorities[i])));
        }
        static const char *const sla_cols[] = {
            "clock:Clock:text", "met:Met:count", "breached:Breached:count",
            "attainment:Attainment:rate", NULL
        };
        snprintf(key, sizeof(key), "%s-sla", slug);
        json_t *att = pack_table(s, key, "SLA attainment", sla_cols);
        static const char *const clocks[] = { "response", "resolution" };
        for (size_t i = 0; i < 2; i++) {
            char path[64];
            snprintf(path, sizeof(path), "sla.attainment.%s", clocks[i]);
            json_t *a = pack_at(sla, path);
            pack_row(att, json_pack("[s, o, o, o]", pack_words(clocks[i]), pack_cell(a, "met"),
                                    pack_cell(a, "breached"), pack_cell(a, "attainment")),
                     json_pack("[n, o, o, o]",
                               pack_drill(&t, "sla", "metric=%s_met", clocks[i]),
                               pack_drill(&t, "sla", "metric=%s_breached", clocks[i]),
                               json_sprintf("%s/reports/sla?%s", t.base, t.scope)));
        }
    }
    b->done = t.done;
    b->failed = t.failed;
    json_decref(volume);
    json_decref(sla);
}

json_t *
msp_pack_build_portfolio(const msp_pack_info_t *info, msp_pack_fetch_fn fetch, void *fetch_ctx,
                         msp_pack_progress_fn progress, void *progress_ctx, char *why,
                         size_t size, json_t **slugs)
{
    if (msp_pack_kind(info->kind) < 0) {
        snprintf(why, size, "unknown kind %s", info->kind ? info->kind : "(none)");
        return NULL;
    }
    pack_build_t b = {
        .info = info, .fetch = fetch, .fetch_ctx = fetch_ctx, .progress = progress,
        .progress_ctx = progress_ctx, .why = why, .size = size, .of = 1,
    };
    snprintf(b.scope, sizeof(b.scope), "period=%s&as_of=%s", info->period, info->as_of);
    /* the portfolio report's path is not under a tenant */
    b.base[0] = '\0';
    json_t *portfolio = pack_get(&b, "/v1/reports/portfolio?%s", b.scope);
    if (portfolio == NULL) {
        return NULL;
    }
    json_t *items = json_object_get(portfolio, "items");
    b.of = 1 + 2 * (int) json_array_size(items);
    json_t *doc = json_pack(
        "{s:{s:s, s:s, s:s, s:{s:n, s:o}, s:s, s:{s:s, s:s}, s:s, s:O?, s:n}, s:[]}",
        "pack", "id", info->pack_id, "kind", "portfolio", "period_kind", info->kind,
        "tenant", "slug", "name", json_sprintf("%zu clients", json_array_size(items)),
        "provider", info->provider ? info->provider : "",
        "period", "name", info->period, "bounds", "each client's own time zone",
        "as_of", info->as_of, "definitions", json_object_get(portfolio, "definitions"),
        "supersedes", "sections");

    json_t *s = pack_section(doc, "portfolio", "Every tenant");
    static const char *const cols[] = {
        "tenant:Tenant:text", "created:Created:count", "resolved:Resolved:count",
        "open_at_end:Open at end:count", "response:Response SLA:rate",
        "resolution:Resolution SLA:rate", "median:Resolution median:duration",
        "fcr:First contact:rate", "reopen:Reopened:rate", NULL
    };
    json_t *summary = pack_table(s, "portfolio", "A row per tenant", cols);
    *slugs = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        const char *slug = json_string_value(json_object_get(item, "tenant"));
        json_array_append(*slugs, json_object_get(item, "tenant"));
        char base[160];
        snprintf(base, sizeof(base), "/v1/tenants/%s/reports", slug ? slug : "");
        pack_row(summary,
                 json_pack("[O?, o, o, o, o, o, o, o, o]", json_object_get(item, "name"),
                           pack_cell(item, "created"), pack_cell(item, "resolved"),
                           pack_cell(item, "open_at_end"), pack_cell(item, "response_attainment"),
                           pack_cell(item, "resolution_attainment"),
                           pack_cell(item, "resolution_median_business_seconds"),
                           pack_cell(item, "first_contact_resolution_rate"),
                           pack_cell(item, "reopen_rate")),
                 json_pack("[n, o, o, o, o, o, o, o, o]",
                           json_sprintf("%s/volume/tickets?metric=created&%s", base, b.scope),
                           json_sprintf("%s/volume/tickets?metric=resolved&%s", base, b.scope),
                           json_sprintf("%s/backlog/tickets?metric=open_at_end&%s", base,
                                        b.scope),
                           json_sprintf("%s/sla?%s", base, b.scope),
                           json_sprintf("%s/sla?%s", base, b.scope),
                           json_sprintf("%s/sla/tickets?metric=resolution_stopped&%s", base,
                                        b.scope),
                           json_sprintf("%s/quality/tickets?metric=first_contact&%s", base,
                                        b.scope),
                           json_sprintf("%s/quality/tickets?metric=reopened&%s", base, b.scope)));
    }
    if (json_array_size(items) == 0) {
        pack_note(s, "No tenant is assigned to you.");
    }
    json_array_foreach(items, i, item) {
        portfolio_page(&b, doc, item);
        if (b.failed) {
            break;
        }
    }
    json_decref(portfolio);
    if (b.failed) {
        json_decref(doc);
        json_decref(*slugs);
        *slugs = NULL;
        return NULL;
    }
    return doc;
}
