/*
 * pack_sections.c - the sections review packs are made of (pack_doc.h):
 * volume, SLA, backlog, co-management, cost, automation candidates, the
 * scorecard and its summary, the contract's targets, open escalations,
 * and the governance records, each from the reports and lists of the API
 * as of the pack's instant.
 */
#include "packs/pack_doc.h"

#include <stdio.h>
#include <string.h>

/* ---- sections ------------------------------------------------------------ */

/* Created and resolved by priority, created by category and by source. */
void
pack_section_volume(pack_build_t *b, json_t *doc, json_t *volume)
{
    json_t *s = pack_section(doc, "volume", "Tickets created and resolved");
    json_t *v = pack_at(volume, "volume");
    static const char *const totals_cols[] = { "figure:Figure:text", "count:Tickets:count", NULL };
    json_t *totals = pack_table(s, "volume_totals", "In the period", totals_cols);
    static const char *const figures[] = { "created", "resolved", "closed", "reopened" };
    for (size_t i = 0; i < 4; i++) {
        pack_row(totals, json_pack("[s, o]", pack_words(figures[i]), pack_cell(v, figures[i])),
            json_pack("[n, o]", pack_drill(b, "volume", "metric=%s", figures[i])));
    }
    pack_row(totals, json_pack("[s, o]", pack_words("net_change"), pack_cell(v, "net_change")),
             NULL);

    static const char *const prio_cols[] = { "priority:Priority:text", "created:Created:count",
                                             "resolved:Resolved:count", NULL };
    json_t *prio = pack_table(s, "volume_by_priority", "By priority", prio_cols);
    json_t *created = pack_at(v, "created_by.priority");
    json_t *resolved = pack_at(v, "resolved_by.priority");
    static const char *const priorities[] = { "P1", "P2", "P3", "P4", "unknown" };
    for (size_t i = 0; i < 5; i++) {
        json_t *c = json_object_get(created, priorities[i]);
        json_t *r = json_object_get(resolved, priorities[i]);
        if (c == NULL && r == NULL && i == 4) {
            continue;
        }
        pack_row(prio, json_pack("[s, I, I]", priorities[i], json_integer_value(c),
                            json_integer_value(r)),
            json_pack("[n, o, o]",
                      pack_drill(b, "volume", "metric=created&priority=%s", priorities[i]),
                      pack_drill(b, "volume", "metric=resolved&priority=%s", priorities[i])));
    }
    static const int series[] = { 1, 2 };
    pack_chart(s, "bars", "volume_by_priority", 0, series, 2);

    static const char *const splits[][3] = {
        { "category", "volume_by_category", "Created by category" },
        { "source", "volume_by_source", "Created by source (machine-raised and user-reported)" },
    };
    for (size_t i = 0; i < 2; i++) {
        const char *cols[] = { NULL, "created:Created:count", NULL };
        char first[64];
        snprintf(first, sizeof(first), "%s:%c%s:text", splits[i][0],
                 splits[i][0][0] - 'a' + 'A', splits[i][0] + 1);
        cols[0] = first;
        json_t *tb = pack_table(s, splits[i][1], splits[i][2], cols);
        json_t *by = json_object_get(pack_at(v, "created_by"), splits[i][0]);
        const char *key;
        json_t *count;
        /* jansson keeps an object's keys in insertion order: the report's */
        json_object_foreach(by, key, count) {
            pack_row(tb, json_pack("[s, O]", key, count),
                json_pack("[n, o]",
                          pack_drill(b, "volume", "metric=created&%s=%s", splits[i][0], key)));
        }
    }
}

/* Attainment by clock and priority, and the period's breaches. */
void
pack_section_sla(pack_build_t *b, json_t *doc, json_t *sla)
{
    json_t *s = pack_section(doc, "sla", "Response and resolution SLA");
    static const char *const cols[] = {
        "clock:Clock:text", "priority:Priority:text", "met:Met:count", "breached:Breached:count",
        "running:Running at end:count", "attainment:Attainment:rate", NULL
    };
    json_t *tb = pack_table(s, "sla_by_priority", "Attainment by priority", cols);
    static const char *const clocks[] = { "response", "resolution" };
    for (size_t i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof(path), "sla.attainment.%s", clocks[i]);
        json_t *a = pack_at(sla, path);
        pack_row(tb, json_pack("[s, s, o, o, o, o]", clocks[i], "all", pack_cell(a, "met"),
                          pack_cell(a, "breached"), pack_cell(a, "running_at_end"),
                          pack_cell(a, "attainment")),
            json_pack("[n, n, o, o, o, o]", pack_drill(b, "sla", "metric=%s_met", clocks[i]),
                      pack_drill(b, "sla", "metric=%s_breached", clocks[i]),
                      pack_drill(b, "sla", "metric=%s_running_at_end", clocks[i]),
                      json_sprintf("%s/reports/sla?%s", b->base, b->scope)));
        const char *p;
        json_t *f;
        json_object_foreach(json_object_get(a, "by_priority"), p, f) {
            pack_row(tb, json_pack("[s, s, o, o, o, o]", clocks[i], p, pack_cell(f, "met"),
                              pack_cell(f, "breached"), pack_cell(f, "running_at_end"),
                              pack_cell(f, "attainment")),
                json_pack("[n, n, o, o, o, n]",
                          pack_drill(b, "sla", "metric=%s_met&priority=%s", clocks[i], p),
                          pack_drill(b, "sla", "metric=%s_breached&priority=%s", clocks[i], p),
                          pack_drill(b, "sla", "metric=%s_running_at_end&priority=%s",
                                     clocks[i], p)));
        }
    }

    static const char *const times_cols[] = {
        "clock:Clock:text", "count:Stopped:count", "median:Median (business):duration",
        "p90:P90 (business):duration", NULL
    };
    json_t *times = pack_table(s, "sla_times", "Times in business hours", times_cols);
    for (size_t i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof(path), "sla.times.%s", clocks[i]);
        json_t *t = pack_at(sla, path);
        pack_row(times, json_pack("[s, o, o, o]", clocks[i], pack_cell(t, "count"),
                             pack_cell(t, "business_seconds.median"),
                             pack_cell(t, "business_seconds.p90")),
            json_pack("[n, o, o, o]", pack_drill(b, "sla", "metric=%s_stopped", clocks[i]),
                      pack_drill(b, "sla", "metric=%s_stopped", clocks[i]),
                      pack_drill(b, "sla", "metric=%s_stopped", clocks[i])));
    }

    static const char *const breach_cols[] = {
        "ticket:Ticket:text", "clock:Clock:text", "priority:Priority:text", "due:Due:text",
        "late:Late (business):duration", NULL
    };
    json_t *breaches = pack_table(s, "sla_breaches", "Breaches", breach_cols);
    for (size_t i = 0; i < 2; i++) {
        json_t *list = pack_get(b, "/reports/sla/tickets?%s&metric=%s_breached&limit=%d", b->scope,
                           clocks[i], PACK_LIST_ROWS);
        size_t k;
        json_t *item;
        json_array_foreach(json_object_get(list, "items"), k, item) {
            if (pack_rows_of(breaches) >= PACK_LIST_ROWS) {
                break;
            }
            const char *id = json_string_value(json_object_get(item, "id"));
            pack_row(breaches, json_pack("[s?, s, O?, O?, O?]", id, clocks[i],
                                    json_object_get(item, "priority"),
                                    json_object_get(item, "due"),
                                    json_object_get(item, "late_business_seconds")),
                NULL);
            json_array_set_new(json_array_get(json_object_get(breaches, "links"),
                                              pack_rows_of(breaches) - 1),
                               0, json_sprintf("%s/tickets/%s", b->base, id ? id : ""));
        }
        if (json_object_get(list, "next_cursor") != NULL
            && !json_is_null(json_object_get(list, "next_cursor")))
        {
            json_object_set_new(breaches, "more", json_true());
        }
        json_decref(list);
    }
    if (pack_rows_of(breaches) == 0) {
        json_object_set_new(breaches, "note", json_string("No ticket breached its SLA."));
    }
}

void
pack_section_backlog(pack_build_t *b, json_t *doc, json_t *backlog)
{
    json_t *s = pack_section(doc, "backlog", "Backlog at the period's end");
    json_t *bl = pack_at(backlog, "backlog");
    static const char *const cols[] = { "age:Age (days):text", "open:Open:count", NULL };
    json_t *tb = pack_table(s, "backlog_by_age", "Open tickets by age", cols);
    const char *age;
    json_t *n;
    json_object_foreach(json_object_get(bl, "at_end_by_age"), age, n) {
        pack_row(tb, json_pack("[s, O]", age, n),
            json_pack("[n, o]", pack_drill(b, "backlog", "metric=open_at_end&age=%s", age)));
    }
    static const int series[] = { 1 };
    pack_chart(s, "bars", "backlog_by_age", 0, series, 1);
    static const char *const side_cols[] = { "side:Held by:text", "open:Open:count", NULL };
    json_t *sides = pack_table(s, "backlog_by_side", "Open tickets by side", side_cols);
    const char *side;
    json_object_foreach(json_object_get(bl, "at_end_by_side"), side, n) {
        pack_row(sides, json_pack("[s, O]", pack_words(side), n),
            json_pack("[n, o]", pack_drill(b, "backlog", "metric=open_at_end&side=%s", side)));
    }
}

/* Held time by side, handoffs and escalations. */
void
pack_section_comanagement(pack_build_t *b, json_t *doc, json_t *co)
{
    json_t *s = pack_section(doc, "comanagement", "Co-management: who held the work");
    json_t *c = pack_at(co, "comanagement");
    static const char *const cols[] = { "side:Side:text", "held:Held (business):duration",
                                        "share:Share:rate", NULL };
    json_t *tb = pack_table(s, "held_by_side", "Held time by side", cols);
    const char *side;
    json_t *v;
    json_object_foreach(pack_at(c, "held.sides"), side, v) {
        pack_row(tb, json_pack("[s, o, o]", pack_words(side), pack_cell(v, "business_seconds"),
                               pack_cell(v, "share")),
            json_pack("[n, o]", pack_drill(b, "comanagement", "metric=held")));
    }
    static const char *const h_cols[] = { "figure:Figure:text", "count:Count:count", NULL };
    json_t *h = pack_table(s, "handoffs", "Handoffs and escalations", h_cols);
    static const char *const figures[][2] = {
        { "handoffs.raised", "handoffs" }, { "handoffs.accepted", "handoffs_accepted" },
        { "handoffs.rejected", "handoffs_rejected" },
        { "handoffs.open_at_end", "handoffs_open_at_end" },
        { "escalations.raised", "escalations" },
        { "acknowledgement_timeouts.count", "acknowledgement_timeouts" },
    };
    for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        pack_row(h, json_pack("[s, o]", pack_words(figures[i][0]), pack_cell(c, figures[i][0])),
            json_pack("[n, o]", pack_drill(b, "comanagement", "metric=%s", figures[i][1])));
    }
}

/* The time logged against the contract. */
void
pack_section_cost(pack_build_t *b, json_t *doc, json_t *cost, const char *from, const char *to)
{
    json_t *s = pack_section(doc, "cost", "Cost");
    json_t *c = pack_at(cost, "cost");
    if (json_integer_value(json_object_get(c, "entries")) == 0) {
        pack_note(s, "No time was logged in the period: hours, block use and out-of-scope "
                        "work cannot be shown.");
    }
    static const char *const cols[] = { "figure:Figure:text", "value:Value:number", NULL };
    json_t *tb = pack_table(s, "cost", "Against the contract", cols);
    static const char *const figures[][2] = {
        { "fee", "money" }, { "hours.total", "hours" }, { "hours.billable", "hours" },
        { "block.included", "hours" }, { "block.used", "hours" }, { "block.remaining", "hours" },
        { "block.over", "hours" }, { "block.over_amount", "money" },
        { "out_of_scope.hours", "hours" }, { "out_of_scope.amount", "money" },
        { "total", "money" }, { "tickets_created", "count" }, { "cost_per_ticket", "money" },
        { "supported_users", "count" }, { "cost_per_user", "money" },
    };
    /* a column's type is per column: the figure's own unit is in a
     * third, so that each renderer formats it right */
    json_array_append_new(json_object_get(tb, "columns"),
                          json_pack("{s:s, s:s, s:s}", "key", "unit", "title", "Unit", "type",
                                    "text"));
    for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        /* every figure of the cost comes from the period's time entries
         * (and the contract) */
        pack_row(tb, json_pack("[s, o, s]", pack_words(figures[i][0]), pack_cell(c, figures[i][0]),
                          figures[i][1]),
            json_pack("[n, o, n]", json_sprintf("%s/time-entries?from=%s&to=%s", b->base, from,
                                                to)));
    }
    json_object_set_new(tb, "currency", pack_cell(c, "currency"));
}

/* The top recurring categories, with the hours they cost. */
void
pack_section_automation(pack_build_t *b, json_t *doc, json_t *quality, json_t *cost)
{
    json_t *s = pack_section(doc, "automation", "Automation candidates");
    json_t *list = pack_at(quality, "quality.automation_candidates");
    json_t *hours = pack_at(cost, "cost.hours.by_category");
    if (json_array_size(list) == 0) {
        pack_note(s, "No category recurred in the period.");
        return;
    }
    static const char *const cols[] = {
        "category:Category:text", "recurring:Recurring:count", "previous:Previous period:count",
        "hours:Hours logged:hours", NULL
    };
    json_t *tb = pack_table(s, "automation_candidates", "Recurring categories", cols);
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) {
        const char *category = json_string_value(json_object_get(a, "category"));
        json_t *h = category ? json_object_get(hours, category) : NULL;
        pack_row(tb, json_pack("[O, o, o, o]", json_object_get(a, "category"),
                               pack_cell(a, "recurring"),
                          pack_cell(a, "previous_period"), h ? json_deep_copy(h) : json_null()),
            json_pack("[n, o]", pack_drill(b, "quality", "metric=recurring&category=%s",
                                      category ? category : "unknown")));
    }
}

/* Satisfaction of the local days [from, to) as of the pack's instant:
 * how many ratings and the sum of their scores, over the list's pages.
 * *count -1 when the list failed. */
static void
ratings(pack_build_t *b, const char *from, const char *to, long *count, long *total)
{
    long n = 0, sum = 0;
    char after[256] = "";
    for (;;) {
        json_t *list = pack_get(b, "/satisfaction?from=%s&to=%s&as_of=%s&limit=200%s%s", from, to,
                           b->info->as_of, *after ? "&after=" : "", after);
        if (list == NULL) {
            *count = -1;
            return;
        }
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(list, "items"), i, r) {
            sum += json_integer_value(json_object_get(r, "score"));
            n++;
        }
        const char *next = json_string_value(json_object_get(list, "next_cursor"));
        snprintf(after, sizeof(after), "%s", next ? next : "");
        json_decref(list);
        if (!*after) {
            break;
        }
    }
    *count = n;
    *total = sum;
}


/* Where each figure of a scorecard row comes from: the tickets behind a
 * count, the period's report behind a rate or time, its ratings. */
static json_t *
scorecard_links(pack_build_t *b, json_t *p, const char *scope)
{
    char from[16], to[16];
    pack_local_date(json_string_value(json_object_get(p, "start")), from, sizeof(from));
    pack_local_date(json_string_value(json_object_get(p, "end")), to, sizeof(to));
    json_t *created = json_sprintf("%s/reports/volume/tickets?metric=created&%s", b->base, scope);
    json_t *ratings = json_sprintf("%s/satisfaction?from=%s&to=%s&as_of=%s", b->base, from, to,
                                   b->info->as_of);
    return json_pack("[n, o, o, O, o, o, o, o, o, o, o, O, o]", created,
                     json_sprintf("%s/reports/volume/tickets?metric=resolved&%s", b->base, scope),
                     created, json_sprintf("%s/reports/sla?%s", b->base, scope),
                     json_sprintf("%s/reports/sla?%s", b->base, scope),
                     json_sprintf("%s/reports/sla/tickets?metric=resolution_stopped&%s", b->base,
                                  scope),
                     json_sprintf("%s/reports/sla/tickets?metric=resolution_stopped&%s", b->base,
                                  scope),
                     json_sprintf("%s/reports/quality/tickets?metric=first_contact&%s", b->base,
                                  scope),
                     json_sprintf("%s/reports/quality/tickets?metric=reopened&%s", b->base, scope),
                     json_sprintf("%s/reports/quality/tickets?metric=recurring&%s", b->base,
                                  scope),
                     ratings, ratings);
}

/* The trend of the period and those before it: a scorecard row each. */
json_t *
pack_section_scorecard(pack_build_t *b, json_t *doc, json_t *trend, json_t *tenant,
                       const char *title)
{
    json_t *s = pack_section(doc, "scorecard", title);
    static const char *const cols[] = {
        "period:Period:text", "created:Created:count", "resolved:Resolved:count",
        "per_user:Created per 100 users:number", "response:Response SLA:rate",
        "resolution:Resolution SLA:rate", "median:Resolution median:duration",
        "p90:Resolution P90:duration", "fcr:First contact:rate", "reopen:Reopened:rate",
        "recurrence:Recurring:rate", "satisfaction:Satisfaction:score",
        "ratings:Ratings:count", NULL
    };
    json_t *tb = pack_table(s, "scorecard", title, cols);
    json_t *users = pack_at(tenant, "contract.supported_users");
    size_t i;
    json_t *p;
    json_array_foreach(pack_at(trend, "trend"), i, p) {
        const char *name = json_string_value(json_object_get(p, "period"));
        json_t *per_user = json_null();
        if (json_integer_value(users) > 0 && json_is_integer(json_object_get(p, "created"))) {
            /* to the hundredth, half up, in integers: the same in any language */
            json_int_t c = json_integer_value(json_object_get(p, "created"));
            json_int_t u = json_integer_value(users);
            per_user = json_real((double) ((c * 20000 / u + 1) / 2) / 100.0);
        }
        json_t *satisfaction = json_null(), *count = json_null();
        char from[16], to[16];
        long n, sum;
        pack_local_date(json_string_value(json_object_get(p, "start")), from, sizeof(from));
        pack_local_date(json_string_value(json_object_get(p, "end")), to, sizeof(to));
        ratings(b, from, to, &n, &sum);
        if (n > 0) {
            /* the mean to the hundredth, half up, in integers */
            satisfaction = json_real((double) ((sum * 200 / n + 1) / 2) / 100.0);
        }
        count = n >= 0 ? json_integer(n) : json_null();
        char scope[160];
        snprintf(scope, sizeof(scope), "period=%s&as_of=%s", name ? name : "",
                 b->info->as_of);
        pack_row(tb, json_pack("[s?, o, o, o, o, o, o, o, o, o, o, o, o]", name,
                               pack_cell(p, "created"),
                          pack_cell(p, "resolved"), per_user, pack_cell(p, "response_attainment"),
                          pack_cell(p, "resolution_attainment"),
                          pack_cell(p, "resolution_median_business_seconds"),
                          pack_cell(p, "resolution_p90_business_seconds"),
                          pack_cell(p, "first_contact_resolution_rate"),
                          pack_cell(p, "reopen_rate"),
                          pack_cell(p, "recurrence_rate"), satisfaction, count),
            scorecard_links(b, p, scope));
    }
    static const int series[] = { 1, 2 };
    pack_chart(s, "lines", "scorecard", 0, series, 2);
    return tb;
}

/* The quarter against the contract's targets, the quarter before and the
 * same quarter a year before: from the scorecard (the last twelve
 * quarters), whose columns are named in `metrics` below. */
void
pack_section_targets(json_t *doc, json_t *scorecard, json_t *tenant)
{
    json_t *s = pack_section(doc, "targets", "The quarter against the contract's targets");
    json_t *targets = pack_at(tenant, "contract.targets");
    json_t *rows = json_object_get(scorecard, "rows");
    size_t n = json_array_size(rows);
    static const struct {
        const char *target;     /* in contract.targets */
        size_t      column;     /* of the scorecard */
        int         at_most;    /* a ceiling rather than a floor */
        const char *type;
    } metrics[] = {
        { "response_attainment", 4, 0, "rate" }, { "resolution_attainment", 5, 0, "rate" },
        { "first_contact_resolution_rate", 8, 0, "rate" }, { "reopen_rate", 9, 1, "rate" },
        { "recurrence_rate", 10, 1, "rate" }, { "satisfaction", 11, 0, "score" },
    };
    if (json_object_size(targets) == 0) {
        pack_note(s, "The contract sets no service-level targets (contract.targets in the "
                        "tenant file): the quarter is compared with the quarters before.");
    }
    static const char *const cols[] = {
        "metric:Metric:text", "target:Target:number", "quarter:This quarter:number",
        "previous:Quarter before:number", "year_before:A year before:number",
        "met:Target met:text", "unit:Unit:text", NULL
    };
    json_t *tb = pack_table(s, "targets", "Service levels", cols);
    json_t *now = json_array_get(rows, n - 1);
    json_t *before = n >= 2 ? json_array_get(rows, n - 2) : NULL;
    json_t *year = n >= 5 ? json_array_get(rows, n - 5) : NULL;
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        json_t *t = json_object_get(targets, metrics[i].target);
        json_t *v = json_array_get(now, metrics[i].column);
        const char *met = "-";
        if (json_is_number(t) && json_is_number(v)) {
            double x = json_number_value(v), goal = json_number_value(t);
            met = (metrics[i].at_most ? x <= goal : x >= goal) ? "yes" : "no";
        } else if (json_is_number(t)) {
            met = "not measured";
        }
        json_t *prev = before ? json_array_get(before, metrics[i].column) : NULL;
        json_t *ago = year ? json_array_get(year, metrics[i].column) : NULL;
        char label[96];
        snprintf(label, sizeof(label), "%s%s", pack_words(metrics[i].target),
                 metrics[i].at_most ? " (at most)" : "");
        pack_row(tb, json_pack("[s, O?, O?, O?, O?, s, s]", label, t, v, prev, ago,
                          met, metrics[i].type),
            NULL);
    }
}

/* Weekly: the handoffs still open at the week's end (who holds them, how
 * long they have waited, the next action their note asks for) and the
 * week's P1 tickets, as of the pack's instant. */
void
pack_section_escalations(pack_build_t *b, json_t *doc)
{
    json_t *s = pack_section(doc, "escalations", "Open escalations and major incidents");
    json_t *open = pack_get(b, "/reports/comanagement/tickets?%s"
                               "&metric=handoffs_open_at_end&limit=%d",
                       b->scope, PACK_LIST_ROWS);
    static const char *const cols[] = {
        "ticket:Ticket:text", "raised_at:Raised:text", "from:From:text", "to:Held by:text",
        "next_action:Next action:text", NULL
    };
    json_t *tb = pack_table(s, "open_escalations", "Handoffs open at the week's end", cols);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(open, "items"), i, item) {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *esc = json_string_value(json_object_get(item, "escalation"));
        json_t *one = id && esc ? pack_get(b, "/tickets/%s/escalations/%s", id, esc) : NULL;
        pack_row(tb, json_pack("[s?, O?, O?, O?, O?]", id, json_object_get(item, "at"),
                          json_object_get(item, "from"), json_object_get(item, "to"),
                          pack_at(one, "note.next_action")),
            json_pack("[o]", json_sprintf("%s/tickets/%s", b->base, id ? id : "")));
        json_decref(one);
    }
    if (json_is_string(json_object_get(open, "next_cursor"))) {
        json_object_set_new(tb, "more", json_true());
    }
    if (pack_rows_of(tb) == 0) {
        json_object_set_new(tb, "note", json_string("No handoff was open at the week's end."));
    }
    json_decref(open);

    json_t *p1 = pack_get(b, "/reports/volume/tickets?%s&metric=created&priority=P1&limit=%d",
                     b->scope, PACK_LIST_ROWS);
    static const char *const p1_cols[] = { "ticket:Ticket:text", "created_at:Created:text",
                                           "category:Category:text", NULL };
    json_t *major = pack_table(s, "major_incidents", "Major incidents (P1 tickets of the week)",
                          p1_cols);
    json_array_foreach(json_object_get(p1, "items"), i, item) {
        const char *id = json_string_value(json_object_get(item, "id"));
        pack_row(major, json_pack("[s?, O?, O?]", id, json_object_get(item, "at"),
                             json_object_get(item, "category")),
            json_pack("[o]", json_sprintf("%s/tickets/%s", b->base, id ? id : "")));
    }
    if (json_is_string(json_object_get(p1, "next_cursor"))) {
        json_object_set_new(major, "more", json_true());
    }
    if (pack_rows_of(major) == 0) {
        json_object_set_new(major, "note", json_string("No P1 ticket was raised in the week."));
    }
    json_decref(p1);
}

/* A list of governance records (projects, risks, ...) as of the pack's
 * instant: columns are "field:Title:type" of the records' fields. */
void
pack_section_records(pack_build_t *b, json_t *doc, const char *key, const char *title,
                     const char *list, const char *const *cols, const char *empty,
                     const char *review_from, const char *review_to)
{
    json_t *s = pack_section(doc, key, title);
    json_t *items = pack_get(b, "/%s?as_of=%s&limit=%d", list, b->info->as_of,
                        review_from ? 200 : PACK_LIST_ROWS);
    if (items == NULL) {
        return;
    }
    json_t *tb = NULL;
    json_t *columns = NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(items, "items"), i, item) {
        /* a review's records: those of the reviews held in the window */
        const char *on = json_string_value(json_object_get(item, "review_on"));
        if (review_from != NULL
            && (on == NULL || strcmp(on, review_from) < 0 || strcmp(on, review_to) >= 0))
        {
            continue;
        }
        if (tb == NULL) {
            tb = pack_table(s, key, title, cols);
            columns = json_object_get(tb, "columns");
        }
        if (pack_rows_of(tb) >= PACK_LIST_ROWS) {
            json_object_set_new(tb, "more", json_true());
            break;
        }
        json_t *cells = json_array(), *links = json_array();
        for (size_t c = 0; c < json_array_size(columns); c++) {
            const char *field = json_string_value(json_object_get(json_array_get(columns, c),
                                                                  "key"));
            json_t *v = json_object_get(item, field);
            /* milestones, an objective's projects: how many */
            json_array_append_new(cells, json_is_array(v)
                                             ? json_integer((json_int_t) json_array_size(v))
                                             : v ? json_deep_copy(v) : json_null());
            const char *id = json_string_value(json_object_get(item, "id"));
            json_array_append_new(links, c == 0 && id ? json_sprintf("%s/%s/%s", b->base, list, id)
                                                      : json_null());
        }
        pack_row(tb, cells, links);
    }
    if (tb == NULL) {
        pack_note(s, empty);
    } else if (!json_is_null(json_object_get(items, "next_cursor"))
               && json_object_get(items, "next_cursor") != NULL)
    {
        json_object_set_new(tb, "more", json_true());
    }
    json_decref(items);
}

/* The executive summary: sentences by rules, each citing a figure of the
 * scorecard's last row and the one before it. */
void
pack_section_summary(json_t *summary, json_t *scorecard, const char *kind)
{
    size_t n = pack_rows_of(scorecard);
    if (n == 0) {
        pack_note(summary, "There are no figures for the period.");
        return;
    }
    json_t *rows = json_object_get(scorecard, "rows");
    json_t *now = json_array_get(rows, n - 1), *before = n > 1 ? json_array_get(rows, n - 2) : NULL;
    const char *period = json_string_value(json_array_get(now, 0));
    const char *unit = strcmp(kind, "quarterly") == 0 ? "quarter"
                     : strcmp(kind, "weekly") == 0 ? "week" : "month";
    json_int_t created = json_integer_value(json_array_get(now, 1));
    json_int_t resolved = json_integer_value(json_array_get(now, 2));
    if (before != NULL) {
        json_int_t was = json_integer_value(json_array_get(before, 1));
        pack_sentence(summary, scorecard, n - 1, 1,
                 "%" JSON_INTEGER_FORMAT " %s created in %s, %s the previous %s (%"
                 JSON_INTEGER_FORMAT ").", created,
                 created == 1 ? "ticket was" : "tickets were", period ? period : "the period",
                 created > was ? "more than" : created < was ? "fewer than" : "as many as",
                 unit, was);
    } else {
        pack_sentence(summary, scorecard, n - 1, 1, "%" JSON_INTEGER_FORMAT " %s created in %s.",
                 created, created == 1 ? "ticket was" : "tickets were",
                 period ? period : "the period");
    }
    pack_sentence(summary, scorecard, n - 1, 2,
             "%" JSON_INTEGER_FORMAT " %s resolved: the backlog %s.", resolved,
             resolved == 1 ? "was" : "were",
             resolved > created ? "shrank" : resolved < created ? "grew" : "held steady");
    static const struct { size_t col; const char *what; } rates[] = {
        { 4, "Response SLA attainment" }, { 5, "Resolution SLA attainment" },
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_array_get(now, rates[i].col);
        if (!json_is_number(v)) {
            pack_sentence(summary, scorecard, n - 1, rates[i].col,
                     "%s cannot be measured: no clock was decided in the period.", rates[i].what);
            continue;
        }
        json_t *w = before ? json_array_get(before, rates[i].col) : NULL;
        char change[96] = "", shown[32];
        double x = msp_pack_round(json_number_value(v) * 100, 1);
        if (json_is_number(w)) {
            double d = x - msp_pack_round(json_number_value(w) * 100, 1);
            snprintf(change, sizeof(change), ", %s %.1f points on the previous %s",
                     d >= 0 ? "up" : "down", d >= 0 ? d : -d, unit);
        }
        msp_pack_cell_text(scorecard, n - 1, rates[i].col, shown, sizeof(shown));
        pack_sentence(summary, scorecard, n - 1, rates[i].col, "%s was %s%s.", rates[i].what, shown,
                 change);
    }
    json_t *sat = json_array_get(now, 11);
    if (json_is_number(sat)) {
        char shown[32];
        msp_pack_cell_text(scorecard, n - 1, 11, shown, sizeof(shown));
        pack_sentence(summary, scorecard, n - 1, 11,
                 "Requesters rated the service %s out of 5 (%" JSON_INTEGER_FORMAT " ratings).",
                 shown, json_integer_value(json_array_get(now, 12)));
    }
}
