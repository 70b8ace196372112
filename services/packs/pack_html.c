/*
 * pack_html.c - a pack as one self-contained HTML file: inline CSS, SVG
 * charts, no script and nothing fetched.  Readable on a phone (tables
 * scroll sideways inside their section), printable (sections do not split
 * their headings from their tables).  Every number links to its
 * drill-down under the API's base address, and carries its exact value
 * (data-value) as the JSON has it.
 */
#include "packs/pack.h"

#include "common/buf.h"
#include "packs/pack_chart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char style[] =
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;color:#1a202c;margin:0 auto;"
    "max-width:60rem;padding:1rem;line-height:1.4}"
    "header{border-bottom:3px solid #2b6cb0;margin-bottom:1rem}"
    "header .provider{color:#4a5568;font-size:.9rem}"
    "h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.5rem 0 .5rem;"
    "border-bottom:1px solid #cbd5e0;break-after:avoid}"
    "h3{font-size:1rem;margin:1rem 0 .3rem;break-after:avoid}"
    ".meta{color:#4a5568;font-size:.85rem}.note{color:#744210;background:#fefcbf;"
    "padding:.4rem .6rem;border-radius:4px}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;"
    "margin-bottom:.5rem}th,td{padding:.25rem .5rem;border-bottom:1px solid #e2e8f0;"
    "text-align:left;white-space:nowrap}td.num,th.num{text-align:right}"
    "th{background:#edf2f7}a{color:#2b6cb0;text-decoration:none}"
    "svg{max-width:100%;height:auto}.legend span{margin-right:1rem;font-size:.8rem}"
    "footer{margin-top:2rem;color:#718096;font-size:.8rem;border-top:1px solid #cbd5e0}"
    "@media print{body{max-width:none}a{color:inherit}.scroll{overflow:visible}"
    "th,td{white-space:normal}tr{break-inside:avoid}footer{break-before:avoid}}";

static const char *
title_of(const char *kind)
{
    return strcmp(kind, "weekly") == 0 ? "Weekly operational review"
         : strcmp(kind, "monthly") == 0 ? "Monthly business review"
         : strcmp(kind, "quarterly") == 0 ? "Quarterly strategic review"
                                           : "Portfolio review";
}

static const char *
str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static void
link_open(msp_buf_t *b, const char *base, const json_t *link)
{
    msp_buf_puts(b, "<a href=\"");
    msp_buf_put_html(b, base);
    msp_buf_put_html(b, json_string_value(link));
    msp_buf_puts(b, "\">");
}

static void
chart_svg(msp_buf_t *b, const json_t *section)
{
    msp_pack_chart_t c;
    if (msp_pack_chart_layout(section, 640, 220, &c) != 0) {
        return;
    }
    msp_buf_puts(b, "<svg viewBox=\"0 0 640 220\" width=\"640\" role=\"img\" font-size=\"13\">");
    for (int i = 0; i <= 4; i++) {
        char tick[32];
        double y = c.y0 + c.h * (1 - i / 4.0);
        msp_pack_chart_tick(c.top, i, tick, sizeof(tick));
        msp_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#e2e8f0\"/><text x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"end\">%s</text>",
                       c.x0, y, c.x0 + c.w, y, c.x0 - 4, y + 3, tick);
    }
    for (size_t s = 0; s < c.nseries; s++) {
        if (c.lines) {
            msp_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                           msp_pack_chart_color(s));
            for (size_t p = 0; p < c.npoints; p++) {
                msp_buf_printf(b, "%s%.1f,%.1f", p ? " " : "", c.bar[s][p].x, c.bar[s][p].y);
            }
            msp_buf_puts(b, "\"/>");
        } else {
            for (size_t p = 0; p < c.npoints; p++) {
                msp_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                  "fill=\"%s\"/>",
                               c.bar[s][p].x, c.bar[s][p].y, c.bar[s][p].w, c.bar[s][p].h,
                               msp_pack_chart_color(s));
            }
        }
    }
    for (size_t p = 0; p < c.npoints; p++) {
        /* twelve periods' names fit their slots a size smaller */
        msp_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\"%s>",
                       c.label_x[p], c.y0 + c.h + 14,
                       c.npoints > 6 ? " font-size=\"10\"" : "");
        msp_buf_put_html(b, c.labels[p]);
        msp_buf_puts(b, "</text>");
    }
    msp_buf_puts(b, "</svg><div class=\"legend\">");
    for (size_t s = 0; s < c.nseries; s++) {
        msp_buf_printf(b, "<span style=\"color:%s\">&#9632; ", msp_pack_chart_color(s));
        msp_buf_put_html(b, c.names[s] ? c.names[s] : "");
        msp_buf_puts(b, "</span>");
    }
    msp_buf_puts(b, "</div>");
}

static void
table_html(msp_buf_t *b, const json_t *tb, const char *base)
{
    const char *key = str(tb, "key");
    size_t nrows = json_array_size(json_object_get(tb, "rows"));
    msp_buf_puts(b, "<h3>");
    msp_buf_put_html(b, str(tb, "title"));
    msp_buf_puts(b, "</h3>");
    if (nrows > 0) {
        msp_buf_printf(b, "<div class=\"scroll\"><table id=\"t-%s\"><thead><tr>", key);
        size_t c, r;
        const json_t *col, *row;
        json_array_foreach(json_object_get(tb, "columns"), c, col) {
            if (!msp_pack_column_shown(tb, c)) {
                continue;
            }
            msp_buf_puts(b, msp_pack_column_numeric(tb, c) ? "<th class=\"num\">" : "<th>");
            msp_buf_put_html(b, str(col, "title"));
            msp_buf_puts(b, "</th>");
        }
        msp_buf_puts(b, "</tr></thead><tbody>");
        json_array_foreach(json_object_get(tb, "rows"), r, row) {
            const json_t *links = json_array_get(json_object_get(tb, "links"), r);
            msp_buf_puts(b, "<tr>");
            const json_t *v;
            json_array_foreach(row, c, v) {
                if (!msp_pack_column_shown(tb, c)) {
                    continue;
                }
                char text[128];
                msp_pack_cell_text(tb, r, c, text, sizeof(text));
                msp_buf_printf(b, "<td id=\"%s-%zu-%zu\"%s", key, r, c,
                               msp_pack_column_numeric(tb, c) ? " class=\"num\"" : "");
                if (json_is_number(v)) {
                    char *raw = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
                    msp_buf_printf(b, " data-value=\"%s\"", raw ? raw : "");
                    free(raw);
                }
                msp_buf_puts(b, ">");
                const json_t *link = json_array_get(links, c);
                if (json_is_string(link)) {
                    link_open(b, base, link);
                }
                msp_buf_put_html(b, text);
                if (json_is_string(link)) {
                    msp_buf_puts(b, "</a>");
                }
                msp_buf_puts(b, "</td>");
            }
            msp_buf_puts(b, "</tr>");
        }
        msp_buf_puts(b, "</tbody></table></div>");
    }
    const char *note = json_string_value(json_object_get(tb, "note"));
    if (note != NULL || nrows == 0) {
        msp_buf_puts(b, "<p class=\"note\">");
        msp_buf_put_html(b, note ? note : "None in the period.");
        msp_buf_puts(b, "</p>");
    }
    if (json_is_true(json_object_get(tb, "more"))) {
        msp_buf_printf(b, "<p class=\"meta\">The first %zu are shown; the drill-down lists "
                          "all of them.</p>", nrows);
    }
}

int
msp_pack_render_html(const json_t *doc, const char *api_base, msp_pack_files_t *out)
{
    const json_t *pack = json_object_get(doc, "pack");
    const json_t *period = json_object_get(pack, "period");
    const char *tenant = str(json_object_get(pack, "tenant"), "name");
    msp_buf_t b = { 0 };
    msp_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<title>");
    msp_buf_put_html(&b, title_of(str(pack, "kind")));
    msp_buf_puts(&b, " - ");
    msp_buf_put_html(&b, tenant);
    msp_buf_puts(&b, " - ");
    msp_buf_put_html(&b, str(period, "name"));
    msp_buf_printf(&b, "</title><style>%s</style></head><body><header><div class=\"provider\">",
                   style);
    msp_buf_put_html(&b, str(pack, "provider"));
    msp_buf_puts(&b, "</div><h1>");
    msp_buf_put_html(&b, title_of(str(pack, "kind")));
    msp_buf_puts(&b, ": ");
    msp_buf_put_html(&b, tenant);
    msp_buf_puts(&b, "</h1><p class=\"meta\">Period ");
    msp_buf_put_html(&b, str(period, "name"));
    msp_buf_puts(&b, " (");
    msp_buf_put_html(&b, str(period, "bounds"));
    msp_buf_puts(&b, ") &middot; as of ");
    msp_buf_put_html(&b, str(pack, "as_of"));
    msp_buf_puts(&b, " &middot; pack ");
    msp_buf_put_html(&b, str(pack, "id"));
    msp_buf_puts(&b, "</p></header>\n");

    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "sections"), i, s) {
        msp_buf_printf(&b, "<section id=\"s-%s\"%s><h2>", str(s, "key"),
                       json_is_true(json_object_get(s, "page_break"))
                           ? " style=\"break-before:page\"" : "");
        msp_buf_put_html(&b, str(s, "title"));
        msp_buf_puts(&b, "</h2>");
        if (json_is_string(json_object_get(s, "note"))) {
            msp_buf_puts(&b, "<p class=\"note\">");
            msp_buf_put_html(&b, str(s, "note"));
            msp_buf_puts(&b, "</p>");
        }
        size_t k;
        const json_t *x;
        if (json_array_size(json_object_get(s, "sentences")) > 0) {
            msp_buf_puts(&b, "<ul>");
            json_array_foreach(json_object_get(s, "sentences"), k, x) {
                const json_t *cites = json_object_get(x, "cites");
                msp_buf_printf(&b, "<li><a href=\"#%s-%d-%d\">", str(cites, "table"),
                               (int) json_integer_value(json_object_get(cites, "row")),
                               (int) json_integer_value(json_object_get(cites, "column")));
                msp_buf_put_html(&b, str(x, "text"));
                msp_buf_puts(&b, "</a></li>");
            }
            msp_buf_puts(&b, "</ul>");
        }
        chart_svg(&b, s);
        json_array_foreach(json_object_get(s, "tables"), k, x) {
            table_html(&b, x, api_base ? api_base : "");
        }
        msp_buf_puts(&b, "</section>\n");
    }
    msp_buf_puts(&b, "<footer><p>Figures as defined by the metrics reference, version ");
    msp_buf_put_html(&b, str(pack, "definitions"));
    msp_buf_puts(&b, ". Each number links to the tickets or records behind it.");
    if (json_is_string(json_object_get(pack, "supersedes"))) {
        msp_buf_puts(&b, " This pack supersedes ");
        msp_buf_put_html(&b, str(pack, "supersedes"));
        msp_buf_puts(&b, ".");
    }
    msp_buf_puts(&b, "</p></footer></body></html>\n");

    size_t len;
    char *data = msp_buf_take(&b, &len);
    if (data == NULL) {
        return -1;
    }
    return msp_pack_files_add(out, "pack.html", "text/html; charset=utf-8",
                              (unsigned char *) data, len);
}
