/*
 * pack_doc.h - building a review pack's document (pack.h), inside the
 * packs: the state of one build (what it fetches through, its progress),
 * the document's parts (pack_doc.c) and the sections each kind is made of
 * (pack_sections.c, pack_assets.c), which msp_pack_build() (pack_build.c) puts together.
 */
#ifndef MSP_PACK_DOC_H
#define MSP_PACK_DOC_H

#include "packs/pack.h"

#include <jansson.h>
#include <stddef.h>

/* The most rows a list in a pack shows (breaches, records); more is said
 * with a link to the whole list. */
#define PACK_LIST_ROWS 50

typedef struct {
    const msp_pack_info_t *info;
    msp_pack_fetch_fn      fetch;
    void                  *fetch_ctx;
    msp_pack_progress_fn   progress;
    void                  *progress_ctx;
    int                    done, of;
    char                  *why;
    size_t                 size;
    int                    failed;
    char                   scope[192];   /* period=...&as_of=... */
    char                   base[160];    /* /v1/tenants/<slug> */
} pack_build_t;

/* GET base + the formatted target: a new reference, or NULL (b->failed). */
json_t *pack_get(pack_build_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value at a dotted path ("volume.created_by.priority"), borrowed. */
json_t *pack_at(json_t *doc, const char *path);
/* A copy of the value at path, or null: for a table's cell. */
json_t *pack_cell(json_t *doc, const char *path);
/* What a figure or value the reports name by key reads as in a pack
 * ("internal_it": "Internal IT"); the key itself when it has no words. */
const char *pack_words(const char *key);
/* The local date (YYYY-MM-DD) of an RFC 3339 time with its offset. */
void pack_local_date(const char *rfc3339, char *out, size_t size);
/* A new section of the document, at its end. */
json_t *pack_section(json_t *doc, const char *key, const char *title);
/* A section without the data it would show says why, rather than zeros. */
void pack_note(json_t *s, const char *note);
/* columns: "key:Title:type" each, NULL-terminated. */
json_t *pack_table(json_t *s, const char *key, const char *title, const char *const *columns);
/* Appends a row: cells (stolen), links (stolen; an array of paths or
 * nulls, or NULL for none). */
void pack_row(json_t *tb, json_t *cells, json_t *links);
size_t pack_rows_of(json_t *tb);
/* The section's chart: "bars" or "lines" of the series' columns of a
 * table, labelled by its column `label`. */
void pack_chart(json_t *s, const char *type, const char *table_key, int label,
                const int *series, int n);
/* A drill-down path under the tenant, with the pack's period and as_of. */
json_t *pack_drill(pack_build_t *b, const char *report, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A sentence of the summary, citing the cell it states. */
void pack_sentence(json_t *s, json_t *tb, size_t r, size_t c, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Created and resolved by priority, created by category and by source. */
void pack_section_volume(pack_build_t *b, json_t *doc, json_t *volume);
/* Attainment by clock and priority, and the period's breaches. */
void pack_section_sla(pack_build_t *b, json_t *doc, json_t *sla);
/* Open tickets at the period's end by age and by side. */
void pack_section_backlog(pack_build_t *b, json_t *doc, json_t *backlog);
/* Held time by side, handoffs and escalations. */
void pack_section_comanagement(pack_build_t *b, json_t *doc, json_t *co);
/* The time logged against the contract. */
void pack_section_cost(pack_build_t *b, json_t *doc, json_t *cost, const char *from,
                       const char *to);
/* The top recurring categories, with the hours they cost. */
void pack_section_automation(pack_build_t *b, json_t *doc, json_t *quality, json_t *cost);
/* The trend of the period and those before it: a scorecard row each. */
json_t *pack_section_scorecard(pack_build_t *b, json_t *doc, json_t *trend, json_t *tenant,
                               const char *title);
/* The quarter against the contract's targets, the quarter before and the
 * same quarter a year before: from the scorecard (the last twelve
 * quarters). */
void pack_section_targets(json_t *doc, json_t *scorecard, json_t *tenant);
/* Weekly: the handoffs still open at the week's end (who holds them, how
 * long they have waited, the next action their note asks for) and the
 * week's P1 tickets, as of the pack's instant. */
void pack_section_escalations(pack_build_t *b, json_t *doc);
/* A list of governance records (projects, risks, ...) as of the pack's
 * instant: columns are "field:Title:type" of the records' fields. */
/* With review_from and review_to (dates), only the records of the reviews
 * held in [from, to). */
void pack_section_records(pack_build_t *b, json_t *doc, const char *key, const char *title,
                          const char *list, const char *const *cols, const char *empty,
                          const char *review_from, const char *review_to);
/* The devices' compliance at the pack's as_of and the period's tickets
 * per 100 devices by model (pack_assets.c). */
void pack_section_assets(pack_build_t *b, json_t *doc, json_t *compliance, json_t *failures);
/* The devices' warranties ending and refresh ages reached by quarter;
 * with plan, the refresh plan: the devices due within 90 days. */
void pack_section_lifecycle(pack_build_t *b, json_t *doc, json_t *compliance, int plan);
/* The executive summary: sentences by rules, each citing a figure of the
 * scorecard's last row and the one before it. */
void pack_section_summary(json_t *summary, json_t *scorecard, const char *kind);

#endif
