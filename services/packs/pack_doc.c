/*
 * pack_doc.c - the parts of a review pack's document (pack_doc.h): its
 * sections, tables, rows, charts and sentences, the words figures read
 * as, and the fetching of the reports they come from.
 */
#include "packs/pack_doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- fetching ----------------------------------------------------------- */

/* GET base + the formatted target: a new reference, or NULL (b->failed). */
json_t *
pack_get(pack_build_t *b, const char *fmt, ...)
{
    if (b->failed) {
        return NULL;
    }
    char target[768];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(target, sizeof(target), "%s", b->base);
    vsnprintf(target + n, sizeof(target) - (size_t) n, fmt, ap);
    va_end(ap);
    json_t *doc = b->fetch(b->fetch_ctx, target, b->why, b->size);
    if (doc == NULL) {
        b->failed = 1;
    }
    b->done++;
    if (b->progress != NULL) {
        b->progress(b->progress_ctx, "collecting", b->done, b->of > b->done ? b->of : b->done);
    }
    return doc;
}

/* The value at a dotted path ("volume.created_by.priority"), borrowed. */
json_t *
pack_at(json_t *doc, const char *path)
{
    char key[64];
    while (doc != NULL && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t) (dot - path) : strlen(path);
        if (len >= sizeof(key)) {
            return NULL;
        }
        memcpy(key, path, len);
        key[len] = '\0';
        doc = json_object_get(doc, key);
        path += len + (dot ? 1 : 0);
    }
    return doc;
}

/* A copy of the value at path, or null: for a table's cell. */
json_t *
pack_cell(json_t *doc, const char *path)
{
    json_t *v = pack_at(doc, path);
    return v ? json_deep_copy(v) : json_null();
}

/* ---- words ---------------------------------------------------------------- */

/* What a figure or value the reports name by key reads as in a pack
 * ("internal_it": "Internal IT"); the key itself when it has no words. */
const char *
pack_words(const char *key)
{
    static const char *const table[][2] = {
        { "created", "Created" }, { "resolved", "Resolved" }, { "closed", "Closed" },
        { "reopened", "Reopened" }, { "net_change", "Net change (created - resolved)" },
        { "provider", "Provider" }, { "internal_it", "Internal IT" }, { "vendor", "Vendor" },
        { "customer", "Customer (waiting on the requester)" }, { "user", "Users" },
        { "machine", "Machine clients (monitoring)" }, { "response", "Response" },
        { "resolution", "Resolution" }, { "all", "All" },
        { "handoffs.raised", "Handoffs raised" }, { "handoffs.accepted", "Handoffs accepted" },
        { "handoffs.rejected", "Handoffs rejected" },
        { "handoffs.open_at_end", "Handoffs open at the period's end" },
        { "escalations.raised", "Escalations raised" },
        { "acknowledgement_timeouts.count", "Acknowledgement timeouts" },
        { "fee", "Fee for the period" }, { "hours.total", "Hours logged" },
        { "hours.billable", "Billable hours" }, { "block.included", "Hours included" },
        { "block.used", "Included hours used" }, { "block.remaining", "Included hours left" },
        { "block.over", "Hours beyond the block" },
        { "block.over_amount", "Billed beyond the block" },
        { "out_of_scope.hours", "Hours out of scope" },
        { "out_of_scope.amount", "Billed out of scope" }, { "total", "Total cost" },
        { "tickets_created", "Tickets created" }, { "cost_per_ticket", "Cost per ticket" },
        { "supported_users", "Supported users" }, { "cost_per_user", "Cost per user" },
        { "response_attainment", "Response SLA attainment" },
        { "resolution_attainment", "Resolution SLA attainment" },
        { "first_contact_resolution_rate", "First-contact resolution" },
        { "reopen_rate", "Reopen rate" }, { "recurrence_rate", "Recurrence rate" },
        { "open_at_end", "Open at the period's end" },
        { "resolution_median_business_seconds", "Resolution median (business time)" },
        { "resolution_p90_business_seconds", "Resolution P90 (business time)" },
        { "satisfaction", "Satisfaction (mean rating)" },
        /* the compliance checks (pack_assets.c) */
        { "unencrypted", "Not encrypted" }, { "not_enrolled", "Not enrolled in an MDM" },
        { "not_patched", "Not patched within the window" },
        { "warranty_ending", "Warranty ending within 90 days" },
        { "not_seen", "Not seen for 30 days" },
        { "retired_assigned", "Retired but still assigned" },
        { "out_of_warranty", "Out of warranty" }, { "past_refresh_age", "Past the refresh age" },
        { "refresh_due", "Due for refresh within 90 days" },
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i][0], key) == 0) {
            return table[i][1];
        }
    }
    return key;
}

/* The local date (YYYY-MM-DD) of an RFC 3339 time with its offset. */
void
pack_local_date(const char *rfc3339, char *out, size_t size)
{
    snprintf(out, size, "%.10s", rfc3339 ? rfc3339 : "");
}

/* ---- the document's parts ------------------------------------------------ */

json_t *
pack_section(json_t *doc, const char *key, const char *title)
{
    json_t *s = json_pack("{s:s, s:s, s:[], s:[]}", "key", key, "title", title,
                          "sentences", "tables");
    json_array_append_new(json_object_get(doc, "sections"), s);
    return s;
}

/* A section without the data it would show says why, rather than zeros. */
void
pack_note(json_t *s, const char *note)
{
    json_object_set_new(s, "note", json_string(note));
}

/* columns: "key:Title:type" each, NULL-terminated. */
json_t *
pack_table(json_t *s, const char *key, const char *title, const char *const *columns)
{
    json_t *cols = json_array();
    for (size_t i = 0; columns[i] != NULL; i++) {
        char k[64], t[96], type[16];
        if (sscanf(columns[i], "%63[^:]:%95[^:]:%15s", k, t, type) != 3) {
            continue;
        }
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s}", "key", k, "title", t,
                                              "type", type));
    }
    json_t *tb = json_pack("{s:s, s:s, s:o, s:[], s:[]}", "key", key, "title", title,
                           "columns", cols, "rows", "links");
    json_array_append_new(json_object_get(s, "tables"), tb);
    return tb;
}

/* Appends a row: cells (stolen), links (stolen; an array of paths or
 * nulls, or NULL for none). */
void
pack_row(json_t *tb, json_t *cells, json_t *links)
{
    size_t n = json_array_size(cells);
    if (links == NULL) {
        links = json_array();
    }
    while (json_array_size(links) < n) {
        json_array_append_new(links, json_null());
    }
    json_array_append_new(json_object_get(tb, "rows"), cells);
    json_array_append_new(json_object_get(tb, "links"), links);
}

size_t
pack_rows_of(json_t *tb)
{
    return json_array_size(json_object_get(tb, "rows"));
}

void
pack_chart(json_t *s, const char *type, const char *table_key, int label, const int *series, int n)
{
    json_t *cols = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(cols, json_integer(series[i]));
    }
    json_object_set_new(s, "chart", json_pack("{s:s, s:s, s:i, s:o}", "type", type, "table",
                                              table_key, "label", label, "series", cols));
}

/* A drill-down path under the tenant, with the pack's period and as_of. */
json_t *
pack_drill(pack_build_t *b, const char *report, const char *fmt, ...)
{
    char extra[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(extra, sizeof(extra), fmt, ap);
    va_end(ap);
    return json_sprintf("%s/reports/%s/tickets?%s&%s", b->base, report, b->scope, extra);
}

/* A sentence of the summary, citing the cell it states. */
void
pack_sentence(json_t *s, json_t *tb, size_t r, size_t c, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    json_t *value = json_array_get(json_array_get(json_object_get(tb, "rows"), r), c);
    json_array_append_new(json_object_get(s, "sentences"),
                          json_pack("{s:s, s:{s:s, s:i, s:i, s:O}}", "text", text, "cites",
                                    "table", json_string_value(json_object_get(tb, "key")),
                                    "row", (int) r, "column", (int) c, "value",
                                    value ? value : json_null()));
}
