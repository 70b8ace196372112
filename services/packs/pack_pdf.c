/*
 * pack_pdf.c - a pack as PDF, drawn with cairo and laid out with pango,
 * on A4 pages: on every page the provider's name (and logo), the tenant,
 * the period, the pack's id and the page's number; then each section's
 * sentences, chart and tables.  A table that does not fit continues on
 * the next page under its header row repeated; a row is never split.
 *
 * The same pack gives the same bytes: the fonts are the project's pinned
 * files (DejaVu Sans from Debian's fonts-dejavu-core, loaded into a font
 * configuration of their own, so no other font installed on the machine
 * can be picked), and the document's date is the pack's as_of, not the
 * time of rendering.
 */
#include "packs/pack.h"

#include "common/buf.h"
#include "packs/pack_chart.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pinned fonts. */
#define PDF_FONT_DIR     "/usr/share/fonts/truetype/dejavu/"
#define PDF_FONT_REGULAR PDF_FONT_DIR "DejaVuSans.ttf"
#define PDF_FONT_BOLD    PDF_FONT_DIR "DejaVuSans-Bold.ttf"
#define PDF_FAMILY       "DejaVu Sans"

/* A4 in points, and the margins. */
#define PAGE_W   595.0
#define PAGE_H   842.0
#define MARGIN   42.0
#define HEAD_H   40.0     /* the running header's band */
#define FOOT_H   24.0
#define BODY_TOP (MARGIN + HEAD_H)
#define BODY_END (PAGE_H - MARGIN - FOOT_H)
#define BODY_W   (PAGE_W - 2 * MARGIN)

typedef struct {
    cairo_surface_t  *surface;
    cairo_t          *cr;
    PangoFontMap     *fonts;
    PangoContext     *pango;
    const json_t     *pack;
    cairo_surface_t  *logo;
    int               page;
    double            y;          /* where the next block goes */
} pdf_t;

/* The font map of the pinned fonts: made once per process and kept, so
 * that fontconfig's and cairo's caches serve every pack (a new map per
 * pack would grow them each time).  NULL when a font cannot be loaded. */
static PangoFontMap *
pinned_fonts(void)
{
    static PangoFontMap *fonts;
    if (fonts != NULL) {
        return fonts;
    }
    FcConfig *config = FcConfigCreate();
    if (config == NULL
        || !FcConfigAppFontAddFile(config, (const FcChar8 *) PDF_FONT_REGULAR)
        || !FcConfigAppFontAddFile(config, (const FcChar8 *) PDF_FONT_BOLD))
    {
        if (config != NULL) {
            FcConfigDestroy(config);
        }
        return NULL;
    }
    fonts = pango_cairo_font_map_new();
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(fonts), config);
    FcConfigDestroy(config);        /* the font map holds its own reference */
    return fonts;
}

static cairo_status_t
write_out(void *closure, const unsigned char *data, unsigned int len)
{
    msp_buf_t *b = closure;
    msp_buf_put(b, (const char *) data, len);
    return b->failed ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

static const char *
str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* A layout of text in the pinned family at size points (bold or not),
 * wrapped at width (or not, for width <= 0).  The caller unrefs it. */
static PangoLayout *
layout(pdf_t *p, const char *text, double size, int bold, double width)
{
    PangoLayout *l = pango_layout_new(p->pango);
    PangoFontDescription *font = pango_font_description_new();
    pango_font_description_set_family(font, PDF_FAMILY);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, font);
    pango_font_description_free(font);
    if (width > 0) {
        pango_layout_set_width(l, (int) (width * PANGO_SCALE));
        pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    }
    pango_layout_set_text(l, text, -1);
    return l;
}

static double
text_width(pdf_t *p, const char *text, double size, int bold)
{
    PangoLayout *l = layout(p, text, size, bold, 0);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
    return (double) w / PANGO_SCALE;
}

/* Draws text at (x, y), its top left; returns its height.  align: 0
 * left, 1 right (x is then the right edge). */
static double
draw_text(pdf_t *p, const char *text, double x, double y, double size, int bold, double width,
          int align, double grey)
{
    PangoLayout *l = layout(p, text, size, bold, width);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    cairo_set_source_rgb(p->cr, grey, grey, grey);
    cairo_move_to(p->cr, align ? x - (double) w / PANGO_SCALE : x, y);
    pango_cairo_show_layout(p->cr, l);
    g_object_unref(l);
    return (double) h / PANGO_SCALE;
}

static const char *
title_of(const char *kind)
{
    return strcmp(kind, "weekly") == 0 ? "Weekly operational review"
         : strcmp(kind, "monthly") == 0 ? "Monthly business review"
         : strcmp(kind, "quarterly") == 0 ? "Quarterly strategic review"
                                           : "Portfolio review";
}

/* The running header and footer of a new page. */
static void
page_frame(pdf_t *p)
{
    const json_t *pack = p->pack;
    double x = MARGIN;
    if (p->logo != NULL) {
        double h = cairo_image_surface_get_height(p->logo);
        double w = cairo_image_surface_get_width(p->logo);
        double scale = h > 0 ? 24.0 / h : 1;
        cairo_save(p->cr);
        cairo_translate(p->cr, MARGIN, MARGIN);
        cairo_scale(p->cr, scale, scale);
        cairo_set_source_surface(p->cr, p->logo, 0, 0);
        cairo_paint(p->cr);
        cairo_restore(p->cr);
        x += w * scale + 8;
    }
    draw_text(p, str(pack, "provider"), x, MARGIN, 9, 1, 0, 0, 0.25);
    char line[512];
    snprintf(line, sizeof(line), "%s - %s", str(json_object_get(pack, "tenant"), "name"),
             str(json_object_get(pack, "period"), "name"));
    draw_text(p, line, PAGE_W - MARGIN, MARGIN, 9, 1, 0, 1, 0.25);
    snprintf(line, sizeof(line), "pack %s", str(pack, "id"));
    draw_text(p, line, PAGE_W - MARGIN, MARGIN + 12, 7, 0, 0, 1, 0.45);
    cairo_set_source_rgb(p->cr, 0.17, 0.42, 0.69);
    cairo_set_line_width(p->cr, 1.5);
    cairo_move_to(p->cr, MARGIN, MARGIN + 28);
    cairo_line_to(p->cr, PAGE_W - MARGIN, MARGIN + 28);
    cairo_stroke(p->cr);
    snprintf(line, sizeof(line), "Page %d", p->page);
    draw_text(p, line, PAGE_W - MARGIN, PAGE_H - MARGIN - 10, 7, 0, 0, 1, 0.45);
    snprintf(line, sizeof(line), "%s, as of %s", title_of(str(pack, "kind")), str(pack, "as_of"));
    draw_text(p, line, MARGIN, PAGE_H - MARGIN - 10, 7, 0, 0, 0, 0.45);
    p->y = BODY_TOP;
}

static void
new_page(pdf_t *p)
{
    if (p->page > 0) {
        cairo_show_page(p->cr);
    }
    p->page++;
    page_frame(p);
}

/* Makes room for h points, on a new page if need be. */
static void
room(pdf_t *p, double h)
{
    if (p->y + h > BODY_END) {
        new_page(p);
    }
}

static void
chart(pdf_t *p, const json_t *section)
{
    msp_pack_chart_t c;
    double w = BODY_W, h = 150;
    if (msp_pack_chart_layout(section, w, h, &c) != 0) {
        return;
    }
    room(p, h + 16);
    cairo_save(p->cr);
    cairo_translate(p->cr, MARGIN, p->y);
    for (int i = 0; i <= 4; i++) {
        char tick[32];
        double y = c.y0 + c.h * (1 - i / 4.0);
        msp_pack_chart_tick(c.top, i, tick, sizeof(tick));
        cairo_set_source_rgb(p->cr, 0.89, 0.91, 0.94);
        cairo_set_line_width(p->cr, 0.5);
        cairo_move_to(p->cr, c.x0, y);
        cairo_line_to(p->cr, c.x0 + c.w, y);
        cairo_stroke(p->cr);
        draw_text(p, tick, c.x0 - 4, y - 4, 6, 0, 0, 1, 0.3);
    }
    for (size_t s = 0; s < c.nseries; s++) {
        unsigned rgb = (unsigned) strtoul(msp_pack_chart_color(s) + 1, NULL, 16);
        cairo_set_source_rgb(p->cr, (rgb >> 16) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                             (rgb & 0xff) / 255.0);
        for (size_t i = 0; i < c.npoints; i++) {
            msp_chart_box_t *b = &c.bar[s][i];
            if (c.lines) {
                if (i == 0) {
                    cairo_move_to(p->cr, b->x, b->y);
                } else {
                    cairo_line_to(p->cr, b->x, b->y);
                }
            } else {
                cairo_rectangle(p->cr, b->x, b->y, b->w, b->h);
                cairo_fill(p->cr);
            }
        }
        if (c.lines) {
            cairo_set_line_width(p->cr, 1.5);
            cairo_stroke(p->cr);
        }
        cairo_rectangle(p->cr, c.x0 + 110 * (double) s, h - 10, 7, 7);
        cairo_fill(p->cr);
        draw_text(p, c.names[s] ? c.names[s] : "", c.x0 + 110 * (double) s + 10, h - 12, 7, 0,
                  0, 0, 0.2);
    }
    for (size_t i = 0; i < c.npoints; i++) {
        double tw = text_width(p, c.labels[i], 6, 0);
        draw_text(p, c.labels[i], c.label_x[i] - tw / 2, c.y0 + c.h + 3, 6, 0, 0, 0, 0.3);
    }
    cairo_restore(p->cr);
    p->y += h + 8;
}

#define TABLE_MAX_COLS 16

/* A table's header row at the current position: titles wrapped to their
 * columns, on a band as tall as the tallest. */
static void
table_header(pdf_t *p, const json_t *tb, const size_t *cols, size_t n, const double *x,
             const double *w, double size)
{
    double h = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *col = json_array_get(json_object_get(tb, "columns"), cols[i]);
        PangoLayout *l = layout(p, str(col, "title"), size, 1, w[i] - 4);
        int lw, lh;
        pango_layout_get_size(l, &lw, &lh);
        g_object_unref(l);
        h = (double) lh / PANGO_SCALE > h ? (double) lh / PANGO_SCALE : h;
    }
    h += 6;
    cairo_set_source_rgb(p->cr, 0.93, 0.95, 0.97);
    cairo_rectangle(p->cr, MARGIN, p->y, x[n - 1] + w[n - 1] - MARGIN, h);
    cairo_fill(p->cr);
    for (size_t i = 0; i < n; i++) {
        const json_t *col = json_array_get(json_object_get(tb, "columns"), cols[i]);
        PangoLayout *l = layout(p, str(col, "title"), size, 1, w[i] - 4);
        pango_layout_set_alignment(l, msp_pack_column_numeric(tb, cols[i]) ? PANGO_ALIGN_RIGHT
                                                                           : PANGO_ALIGN_LEFT);
        cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
        cairo_move_to(p->cr, x[i] + 2, p->y + 3);
        pango_cairo_show_layout(p->cr, l);
        g_object_unref(l);
    }
    p->y += h;
}

static void
table(pdf_t *p, const json_t *tb)
{
    const json_t *columns = json_object_get(tb, "columns");
    const json_t *rows = json_object_get(tb, "rows");
    size_t nrows = json_array_size(rows);
    size_t cols[TABLE_MAX_COLS], n = 0;
    for (size_t c = 0; c < json_array_size(columns) && n < TABLE_MAX_COLS; c++) {
        if (msp_pack_column_shown(tb, c)) {
            cols[n++] = c;
        }
    }
    if (n == 0) {
        return;
    }
    /* columns as wide as their widest cell at 8 points (titles may wrap
     * at a space); the text shrinks (not below 5 points) until the table
     * fits the page's width */
    double w[TABLE_MAX_COLS], x[TABLE_MAX_COLS], text = 0, size = 8;
    const double pad = 8;
    for (size_t i = 0; i < n; i++) {
        const char *title = str(json_array_get(columns, cols[i]), "title");
        /* a title's longest word */
        double tw = 0;
        char word[96];
        for (const char *t = title; *t;) {
            size_t len = strcspn(t, " ");
            snprintf(word, sizeof(word), "%.*s", (int) (len < 95 ? len : 95), t);
            double ww = text_width(p, word, size, 1);
            tw = ww > tw ? ww : tw;
            t += len + (t[len] == ' ');
        }
        w[i] = tw;
        for (size_t r = 0; r < nrows; r++) {
            char cell[128];
            msp_pack_cell_text(tb, r, cols[i], cell, sizeof(cell));
            double cw = text_width(p, cell, size, 0);
            w[i] = cw > w[i] ? cw : w[i];
        }
        w[i] = w[i] > 160 ? 160 : w[i];
        text += w[i];
    }
    double room_for_text = BODY_W - pad * (double) n;
    double scale = text > room_for_text ? room_for_text / text : 1;
    size = size * scale < 5 ? 5 : size * scale;
    for (size_t i = 0; i < n; i++) {
        w[i] = w[i] * scale + pad + 0.5;
        x[i] = i ? x[i - 1] + w[i - 1] : MARGIN;
    }
    double width = x[n - 1] + w[n - 1] - MARGIN;

    room(p, 16 + 3 * (size + 8));
    p->y += draw_text(p, str(tb, "title"), MARGIN, p->y, 9, 1, BODY_W, 0, 0.1) + 3;
    if (nrows > 0) {
        table_header(p, tb, cols, n, x, w, size);
    }
    for (size_t r = 0; r < nrows; r++) {
        /* the row's height: its tallest (wrapped) cell */
        double h = size + 6;
        char cell[TABLE_MAX_COLS][128];
        for (size_t i = 0; i < n; i++) {
            msp_pack_cell_text(tb, r, cols[i], cell[i], sizeof(cell[i]));
            PangoLayout *l = layout(p, cell[i], size, 0, w[i] - 4);
            int lw, lh;
            pango_layout_get_size(l, &lw, &lh);
            g_object_unref(l);
            double ch = (double) lh / PANGO_SCALE + 6;
            h = ch > h ? ch : h;
        }
        if (p->y + h > BODY_END) {
            new_page(p);
            table_header(p, tb, cols, n, x, w, size);
        }
        for (size_t i = 0; i < n; i++) {
            if (msp_pack_column_numeric(tb, cols[i])) {
                draw_text(p, cell[i], x[i] + w[i] - 2, p->y + 3, size, 0, 0, 1, 0);
            } else {
                draw_text(p, cell[i], x[i] + 2, p->y + 3, size, 0, w[i] - 4, 0, 0);
            }
        }
        cairo_set_source_rgb(p->cr, 0.89, 0.91, 0.94);
        cairo_set_line_width(p->cr, 0.5);
        cairo_move_to(p->cr, MARGIN, p->y + h);
        cairo_line_to(p->cr, MARGIN + width, p->y + h);
        cairo_stroke(p->cr);
        p->y += h;
    }
    const char *note = json_string_value(json_object_get(tb, "note"));
    if (json_is_true(json_object_get(tb, "more"))) {
        note = "The first rows are shown; the drill-down lists all of them.";
    } else if (note == NULL && nrows == 0) {
        note = "None in the period.";
    }
    if (note != NULL) {
        room(p, 14);
        p->y += draw_text(p, note, MARGIN, p->y + 2, 8.5, 0, BODY_W, 0, 0.45) + 4;
    }
    p->y += 10;
}

static void
section(pdf_t *p, const json_t *s)
{
    /* a portfolio's tenant starts a page; a heading stays with what
     * follows it: the chart, or a table's start */
    if (json_is_true(json_object_get(s, "page_break")) && p->y > BODY_TOP) {
        new_page(p);
    }
    room(p, json_object_get(s, "chart") != NULL ? 200 : 80);
    p->y += draw_text(p, str(s, "title"), MARGIN, p->y, 13, 1, BODY_W, 0, 0.1) + 6;
    const char *note = json_string_value(json_object_get(s, "note"));
    if (note != NULL) {
        room(p, 16);
        p->y += draw_text(p, note, MARGIN, p->y, 8.5, 0, BODY_W, 0, 0.45) + 6;
    }
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(s, "sentences"), i, x) {
        char line[600];
        snprintf(line, sizeof(line), "\xe2\x80\xa2 %s", str(x, "text"));
        PangoLayout *l = layout(p, line, 9, 0, BODY_W);
        int lw, lh;
        pango_layout_get_size(l, &lw, &lh);
        g_object_unref(l);
        room(p, (double) lh / PANGO_SCALE);
        p->y += draw_text(p, line, MARGIN, p->y, 9, 0, BODY_W, 0, 0) + 3;
    }
    if (json_array_size(json_object_get(s, "sentences")) > 0) {
        p->y += 6;
    }
    chart(p, s);
    json_array_foreach(json_object_get(s, "tables"), i, x) {
        table(p, x);
    }
    p->y += 8;
}

/* "2026-12-01T05:00:00Z" as the PDF metadata's date. */
static void
pdf_date(const char *rfc3339, char *out, size_t size)
{
    snprintf(out, size, "%.19s", rfc3339);
}

int
msp_pack_render_pdf(const json_t *doc, const char *logo, msp_pack_files_t *out)
{
    msp_buf_t b = { 0 };
    pdf_t p = { .pack = json_object_get(doc, "pack") };
    p.fonts = pinned_fonts();
    if (p.fonts == NULL) {
        return -1;
    }
    p.surface = cairo_pdf_surface_create_for_stream(write_out, &b, PAGE_W, PAGE_H);
    char date[32], title[512];
    pdf_date(str(p.pack, "as_of"), date, sizeof(date));
    cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
    cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_MOD_DATE, date);
    snprintf(title, sizeof(title), "%s: %s, %s", title_of(str(p.pack, "kind")),
             str(json_object_get(p.pack, "tenant"), "name"),
             str(json_object_get(p.pack, "period"), "name"));
    cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_AUTHOR, str(p.pack, "provider"));
    cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_CREATOR, "msp gateway");
    p.cr = cairo_create(p.surface);
    p.pango = pango_font_map_create_context(p.fonts);
    pango_cairo_update_context(p.cr, p.pango);
    if (logo != NULL) {
        p.logo = cairo_image_surface_create_from_png(logo);
        if (cairo_surface_status(p.logo) != CAIRO_STATUS_SUCCESS) {
            cairo_surface_destroy(p.logo);
            p.logo = NULL;
        }
    }

    new_page(&p);
    /* the cover: the pack's title and what it is of */
    p.y += draw_text(&p, title_of(str(p.pack, "kind")), MARGIN, p.y + 8, 20, 1, BODY_W, 0, 0.1)
         + 12;
    const json_t *period = json_object_get(p.pack, "period");
    char line[512];
    snprintf(line, sizeof(line), "%s, %s (%s)", str(json_object_get(p.pack, "tenant"), "name"),
             str(period, "name"), str(period, "bounds"));
    p.y += draw_text(&p, line, MARGIN, p.y, 10, 0, BODY_W, 0, 0.3) + 4;
    snprintf(line, sizeof(line), "As of %s. Metrics definitions version %s.%s%s",
             str(p.pack, "as_of"), str(p.pack, "definitions"),
             json_is_string(json_object_get(p.pack, "supersedes")) ? " Supersedes " : "",
             json_is_string(json_object_get(p.pack, "supersedes")) ? str(p.pack, "supersedes")
                                                                   : "");
    p.y += draw_text(&p, line, MARGIN, p.y, 8, 0, BODY_W, 0, 0.45) + 16;

    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "sections"), i, s) {
        section(&p, s);
    }
    cairo_show_page(p.cr);

    if (p.logo != NULL) {
        cairo_surface_destroy(p.logo);
    }
    g_object_unref(p.pango);
    cairo_destroy(p.cr);
    cairo_surface_finish(p.surface);
    cairo_status_t status = cairo_surface_status(p.surface);
    cairo_surface_destroy(p.surface);
    size_t len;
    char *data = msp_buf_take(&b, &len);
    if (status != CAIRO_STATUS_SUCCESS || data == NULL) {
        free(data);
        return -1;
    }
    return msp_pack_files_add(out, "pack.pdf", "application/pdf", (unsigned char *) data, len);
}
