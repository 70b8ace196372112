/*
 * pack_assets.c - the review packs' sections on the tenant's devices
 * (pack_doc.h): their compliance posture and the failure rate of each
 * hardware model (the compliance and failures reports), and their
 * lifecycle: warranties ending and refresh ages reached by quarter, with
 * the quarterly pack's refresh plan (the devices due within 90 days).
 * Posture and lifecycle are as the devices stood at the pack's as_of.
 */
#include "common/query.h"
#include "packs/pack_doc.h"

#include <stdio.h>

/* The path of the devices failing a check at the pack's as_of. */
static json_t *
devices_link(pack_build_t *b, const char *check)
{
    return json_sprintf("%s/reports/compliance/assets?check=%s&as_of=%s", b->base, check,
                        b->info->as_of);
}

/* Each check's count and its share of the devices in use (to four
 * places, as the reports' ratios). */
static void
posture(pack_build_t *b, json_t *s, json_t *compliance)
{
    static const char *const cols[] = { "check:Check:text", "devices:Devices:count",
                                        "share:Of those in use:rate", NULL };
    json_t *tb = pack_table(s, "asset_posture", "Compliance at the pack's date", cols);
    json_int_t in_use = json_integer_value(json_object_get(compliance, "in_use"));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(compliance, "checks"), i, c) {
        const char *check = json_string_value(json_object_get(c, "check"));
        json_int_t n = json_integer_value(json_object_get(c, "count"));
        if (check == NULL) {
            continue;
        }
        pack_row(tb, json_pack("[s, I, o]", pack_words(check), n,
                               in_use > 0 ? json_real(msp_pack_round((double) n
                                                                     / (double) in_use, 4))
                                          : json_null()),
                 json_pack("[n, o]", devices_link(b, check)));
    }
}

/* Tickets per 100 devices by model, with the interval and the top
 * category, each count linked to its tickets. */
static void
failures_by_model(pack_build_t *b, json_t *s, json_t *failures)
{
    json_t *models = pack_at(failures, "failures.by_model");
    if (json_array_size(models) == 0) {
        pack_note(s, "No device was in service or named on a ticket in the period.");
        return;
    }
    static const char *const cols[] = {
        "model:Model:text", "devices:Devices in service:count", "tickets:Tickets:count",
        "per_100_devices:Per 100 devices:number", "low:95% from:number", "high:95% to:number",
        "top_category:Top category:text", NULL
    };
    json_t *tb = pack_table(s, "failures_by_model", "Tickets per 100 devices, by model", cols);
    size_t i;
    json_t *m;
    json_array_foreach(models, i, m) {
        const char *model = json_string_value(json_object_get(m, "model"));
        json_t *top = json_array_get(json_object_get(m, "top_categories"), 0);
        char key[640], topkey[160];
        msp_query_value(key, sizeof(key), model ? model : "");
        const char *category = json_string_value(json_object_get(top, "category"));
        msp_query_value(topkey, sizeof(topkey), category ? category : "");
        pack_row(tb, json_pack("[s, o, o, o, o, o, o]", model ? model : "",
                               pack_cell(m, "devices"), pack_cell(m, "tickets"),
                               pack_cell(m, "per_100_devices"), pack_cell(m, "low"),
                               pack_cell(m, "high"), pack_cell(top, "category")),
                 json_pack("[n, n, o, n, n, n, o]",
                           pack_drill(b, "failures", "metric=tickets&model=%s", key),
                           category ? pack_drill(b, "failures",
                                                 "metric=tickets&model=%s&category=%s", key,
                                                 topkey)
                                    : json_null()));
    }
    static const int series[] = { 3 };
    pack_chart(s, "bars", "failures_by_model", 0, series, 1);
}

void
pack_section_assets(pack_build_t *b, json_t *doc, json_t *compliance, json_t *failures)
{
    json_t *s = pack_section(doc, "assets", "Devices: compliance and failure rates");
    if (json_integer_value(json_object_get(compliance, "assets")) == 0) {
        pack_note(s, "No assets are recorded.");
        return;
    }
    posture(b, s, compliance);
    failures_by_model(b, s, failures);
}

/* The devices due within 90 days (check refresh_due), at most
 * PACK_LIST_ROWS, each linked to its record. */
static void
refresh_plan(pack_build_t *b, json_t *s)
{
    json_t *list = pack_get(b, "/reports/compliance/assets?check=refresh_due&as_of=%s&limit=%d",
                            b->info->as_of, PACK_LIST_ROWS);
    if (list == NULL) {
        return;
    }
    json_t *items = json_object_get(list, "items");
    if (json_array_size(items) == 0) {
        json_decref(list);
        return;
    }
    static const char *const cols[] = {
        "tag:Tag:text", "model:Model:text", "assigned_to:Assigned to:text",
        "department:Department:text", "purchase_date:Purchased:date",
        "warranty_end:Warranty ends:date", NULL
    };
    json_t *tb = pack_table(s, "refresh_plan", "Refresh plan: devices due within 90 days", cols);
    size_t i;
    json_t *a;
    json_array_foreach(items, i, a) {
        pack_row(tb, json_pack("[o, o, o, o, o, o]", pack_cell(a, "tag"), pack_cell(a, "model"),
                               pack_cell(a, "assigned_to"), pack_cell(a, "department"),
                               pack_cell(a, "purchase_date"), pack_cell(a, "warranty_end")),
                 json_pack("[o]", json_sprintf("%s/assets/%" JSON_INTEGER_FORMAT, b->base,
                                               json_integer_value(json_object_get(a, "id")))));
    }
    if (json_is_string(json_object_get(list, "next_cursor"))) {
        json_object_set_new(tb, "more", json_true());
    }
    json_decref(list);
}

void
pack_section_lifecycle(pack_build_t *b, json_t *doc, json_t *compliance, int plan)
{
    json_t *s = pack_section(doc, "asset_lifecycle", "Devices: warranty and refresh");
    if (json_integer_value(json_object_get(compliance, "assets")) == 0) {
        pack_note(s, "No assets are recorded.");
        return;
    }
    static const char *const cols[] = { "quarter:Quarter:text",
                                        "warranty_ends:Warranties ending:count",
                                        "refresh_age_reached:Reaching the refresh age:count",
                                        NULL };
    char title[96];
    snprintf(title, sizeof(title), "Devices in use, by quarter (refresh age %" JSON_INTEGER_FORMAT
             " months)", json_integer_value(json_object_get(compliance, "refresh_age_months")));
    json_t *tb = pack_table(s, "asset_lifecycle", title, cols);
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(compliance, "lifecycle"), i, q) {
        pack_row(tb, json_pack("[o, o, o]", pack_cell(q, "quarter"),
                               pack_cell(q, "warranty_ends"), pack_cell(q, "refresh_age_reached")),
                 NULL);
    }
    static const int series[] = { 1, 2 };
    pack_chart(s, "bars", "asset_lifecycle", 0, series, 2);
    if (plan) {
        refresh_plan(b, s);
    }
}
