/*
 * pack_chart.c - the geometry of a section's chart, shared by the HTML
 * (SVG) and the PDF (cairo) renderers so that both draw the same chart:
 * the series' values per label, the scale, and where each bar or point
 * goes in a box of the given size.
 */
#include "packs/pack_chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The table of the section named by its chart. */
static const json_t *
chart_table(const json_t *section, const json_t *chart)
{
    const char *key = json_string_value(json_object_get(chart, "table"));
    size_t i;
    const json_t *tb;
    json_array_foreach(json_object_get(section, "tables"), i, tb) {
        const char *k = json_string_value(json_object_get(tb, "key"));
        if (key != NULL && k != NULL && strcmp(k, key) == 0) {
            return tb;
        }
    }
    return NULL;
}

/* A round top for the scale: 1, 2 or 5 times a power of ten. */
static double
nice_top(double max)
{
    if (max <= 0) {
        return 1;
    }
    double p = pow(10, floor(log10(max)));
    for (int i = 0; i < 3; i++) {
        double step = p * (i == 0 ? 1 : i == 1 ? 2 : 5);
        if (step >= max) {
            return step;
        }
    }
    return p * 10;
}

int
msp_pack_chart_layout(const json_t *section, double width, double height,
                      msp_pack_chart_t *out)
{
    memset(out, 0, sizeof(*out));
    const json_t *chart = json_object_get(section, "chart");
    const json_t *tb = chart ? chart_table(section, chart) : NULL;
    const json_t *rows = json_object_get(tb, "rows");
    if (tb == NULL || json_array_size(rows) == 0) {
        return -1;
    }
    out->lines = strcmp(json_string_value(json_object_get(chart, "type")) ?: "", "lines") == 0;
    out->table = tb;
    out->label = (size_t) json_integer_value(json_object_get(chart, "label"));
    out->nseries = json_array_size(json_object_get(chart, "series"));
    if (out->nseries > MSP_CHART_MAX_SERIES) {
        out->nseries = MSP_CHART_MAX_SERIES;
    }
    out->npoints = json_array_size(rows);
    if (out->npoints > MSP_CHART_MAX_POINTS) {
        out->npoints = MSP_CHART_MAX_POINTS;
    }
    double max = 0;
    for (size_t s = 0; s < out->nseries; s++) {
        out->series[s] = (size_t) json_integer_value(
            json_array_get(json_object_get(chart, "series"), s));
        out->names[s] = json_string_value(json_object_get(
            json_array_get(json_object_get(tb, "columns"), out->series[s]), "title"));
        for (size_t p = 0; p < out->npoints; p++) {
            const json_t *v = json_array_get(json_array_get(rows, p), out->series[s]);
            out->value[s][p] = json_is_number(v) ? json_number_value(v) : 0;
            if (out->value[s][p] > max) {
                max = out->value[s][p];
            }
        }
    }
    for (size_t p = 0; p < out->npoints; p++) {
        const json_t *l = json_array_get(json_array_get(rows, p), out->label);
        out->labels[p] = json_is_string(l) ? json_string_value(l) : "";
    }
    out->top = nice_top(max);
    /* counts have whole ticks: a scale of at least 4 */
    const char *type = json_string_value(json_object_get(
        json_array_get(json_object_get(tb, "columns"), out->series[0]), "type"));
    if (type != NULL && strcmp(type, "count") == 0 && out->top < 4) {
        out->top = 4;
    }

    /* the plot: a margin for the scale on the left, for labels below */
    out->x0 = 40;
    out->y0 = 8;
    out->w = width - out->x0 - 8;
    out->h = height - out->y0 - 36;
    double slot = out->w / (double) out->npoints;
    for (size_t p = 0; p < out->npoints; p++) {
        out->label_x[p] = out->x0 + slot * ((double) p + 0.5);
        for (size_t s = 0; s < out->nseries; s++) {
            double y = out->y0 + out->h * (1 - out->value[s][p] / out->top);
            if (out->lines) {
                out->bar[s][p] = (msp_chart_box_t) { out->label_x[p], y, 0, 0 };
            } else {
                double bw = slot * 0.7 / (double) out->nseries;
                double x = out->x0 + slot * (double) p + slot * 0.15 + bw * (double) s;
                out->bar[s][p] = (msp_chart_box_t) { x, y, bw, out->y0 + out->h - y };
            }
        }
    }
    return 0;
}

const char *
msp_pack_chart_color(size_t series)
{
    static const char *const colors[MSP_CHART_MAX_SERIES] = { "#2b6cb0", "#dd6b20", "#38a169" };
    return colors[series % MSP_CHART_MAX_SERIES];
}

void
msp_pack_chart_tick(double top, int i, char *buf, size_t size)
{
    double v = top * i / 4;
    if (fabs(v - round(v)) < 1e-9) {
        snprintf(buf, size, "%.0f", v);
    } else {
        snprintf(buf, size, "%.2g", v);
    }
}
