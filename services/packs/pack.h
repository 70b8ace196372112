/*
 * pack.h - a review pack's document: what the weekly operational, the
 * monthly business and the quarterly strategic review of a tenant show,
 * built from the service reports and the governance records as of an
 * instant, and the renderers that turn it into files.
 *
 * The document (the pack's JSON format) is a list of sections; a section
 * holds sentences, tables and at most one chart; a table holds columns
 * (key, title, type) and rows of cells, each number with the API path of
 * its drill-down (the tickets or records behind it) beside it.  Every
 * renderer walks the same document, so the JSON, the CSV tables, the HTML
 * and the PDF show the same numbers:
 *
 *     {"pack": {"id", "kind", "tenant": {"slug", "name"}, "provider",
 *               "period": {"name", "start", "end", "time_zone"}, "as_of",
 *               "definitions", "supersedes"},
 *      "sections": [{"key", "title", "note"?,           (no data: why)
 *                    "sentences": [{"text", "cites": {"table", "row",
 *                                   "column", "value"}}],
 *                    "tables": [{"key", "title", "columns": [{"key",
 *                                "title", "type"}], "rows": [[...]],
 *                                "links": [[...]], "more"?}],
 *                    "chart"?: {"type": "bars"|"lines", "table",
 *                               "label": column, "series": [columns]}}]}
 *
 * Column types: text, count, rate (a share, 0 to 1), hours, money,
 * duration (seconds), score (1 to 5), date.  A missing figure (nothing to
 * measure) is null and shows as a dash.
 *
 * Everything here is deterministic: the same inputs give the same bytes
 * (no clock, no randomness, ordered keys), which is what makes a pack
 * reproducible and its signature checkable.
 */
#ifndef MSP_PACK_H
#define MSP_PACK_H

#include <jansson.h>
#include <stddef.h>

/* What a pack is of, as the packs row names it. */
typedef struct {
    const char *slug;
    const char *pack_id;
    const char *kind;          /* weekly, monthly, quarterly */
    const char *period;        /* 2026-W48, 2026-11, 2026-Q4 */
    const char *as_of;         /* RFC 3339 */
    const char *supersedes;    /* NULL for none */
    const char *provider;      /* the provider's name, on every page */
} msp_pack_info_t;

/* Runs GET target (a path and query under /v1) as the pack's reader and
 * returns the reply's JSON document (a new reference), or NULL with why
 * filled in. */
typedef json_t *(*msp_pack_fetch_fn)(void *ctx, const char *target, char *why, size_t size);

/* Told after each piece of work: done of about `of`. */
typedef void (*msp_pack_progress_fn)(void *ctx, const char *step, int done, int of);

/* The kinds (pack_kind.c): weekly 0, monthly 1, quarterly 2; -1 for a
 * name that is none of them. */
int msp_pack_kind(const char *kind);

/* The kind's period, in words: "week", "month", "quarter"; NULL for an
 * unknown kind. */
const char *msp_pack_period_word(const char *kind);

/*
 * Builds the pack's document from the reports and records as of
 * info->as_of, fetching through fetch.  A new reference, or NULL with why.
 */
json_t *msp_pack_build(const msp_pack_info_t *info, msp_pack_fetch_fn fetch, void *fetch_ctx,
                       msp_pack_progress_fn progress, void *progress_ctx, char *why,
                       size_t size);

/*
 * The portfolio pack of info->kind and period (info->slug unused): a row
 * per tenant the reader sees (the portfolio report), then a page per
 * tenant, fetched as the one who asked for it.  *slugs: the tenants it
 * shows (a new JSON array).  A new reference, or NULL with why.
 */
json_t *msp_pack_build_portfolio(const msp_pack_info_t *info, msp_pack_fetch_fn fetch,
                                 void *fetch_ctx, msp_pack_progress_fn progress,
                                 void *progress_ctx, char *why, size_t size, json_t **slugs);

/* A rendered file of a pack. */
typedef struct {
    char          *name;        /* pack.json, pack.html, pack.pdf, pack-csv.zip, csv/x.csv */
    const char    *media_type;  /* static */
    unsigned char *data;        /* malloc'd */
    size_t         len;
} msp_pack_file_t;

typedef struct {
    msp_pack_file_t *files;
    size_t           n, cap;
} msp_pack_files_t;

/* Adds a file, taking data (malloc'd); -1 when out of memory (data is
 * freed). */
int  msp_pack_files_add(msp_pack_files_t *files, const char *name, const char *media_type,
                        unsigned char *data, size_t len);
void msp_pack_files_free(msp_pack_files_t *files);

/* The renderers: each adds its files; 0 or -1 (out of memory, or for the
 * PDF a failure cairo reported). */
int msp_pack_render_json(const json_t *doc, msp_pack_files_t *out);
int msp_pack_render_csv(const json_t *doc, msp_pack_files_t *out);
/* api_base: what drill-down paths are links under ("https://msp.example"). */
int msp_pack_render_html(const json_t *doc, const char *api_base, msp_pack_files_t *out);
/* logo: a PNG file's path, or NULL. */
int msp_pack_render_pdf(const json_t *doc, const char *logo, msp_pack_files_t *out);

/* x rounded half away from zero to `decimals` places, as a person rounds
 * the decimal the JSON wrote (0.9525 is 95.3%): how every figure shown is
 * rounded. */
double msp_pack_round(double x, int decimals);

/* Whether column c of a table is shown in the HTML and the PDF (a "unit"
 * column only says how its row's figure reads), and whether it holds
 * figures (set right, as its title). */
int msp_pack_column_shown(const json_t *table, size_t c);
int msp_pack_column_numeric(const json_t *table, size_t c);

/* Cell (r, c) of a table of the document as text, as HTML and PDF show
 * it ("95.2%", "12.5 h", "18,500.00 USD", "-" for null), by its column's
 * type (a table with a "unit" column gives each row's own).  Writes at
 * most size bytes. */
void msp_pack_cell_text(const json_t *table, size_t r, size_t c, char *buf, size_t size);

#endif
