/*
 * pack_chart.h - where a section's chart (pack.h) puts its bars, points,
 * labels and scale in a box, for the HTML's SVG and the PDF's cairo
 * alike.  Bars: one group per row of the table, a bar per series.  Lines:
 * a point per row and series, joined.
 */
#ifndef MSP_PACK_CHART_H
#define MSP_PACK_CHART_H

#include <jansson.h>
#include <stddef.h>

#define MSP_CHART_MAX_SERIES 3
#define MSP_CHART_MAX_POINTS 16

typedef struct {
    double x, y, w, h;      /* a bar; a point is (x, y) */
} msp_chart_box_t;

typedef struct {
    const json_t   *table;
    int             lines;
    size_t          label, nseries, npoints;
    size_t          series[MSP_CHART_MAX_SERIES];     /* their columns */
    const char     *names[MSP_CHART_MAX_SERIES];
    const char     *labels[MSP_CHART_MAX_POINTS];
    double          value[MSP_CHART_MAX_SERIES][MSP_CHART_MAX_POINTS];
    double          top;                              /* the scale's top value */
    double          x0, y0, w, h;                     /* the plot area */
    double          label_x[MSP_CHART_MAX_POINTS];
    msp_chart_box_t bar[MSP_CHART_MAX_SERIES][MSP_CHART_MAX_POINTS];
} msp_pack_chart_t;

/* The layout of section's chart in a width x height box; -1 when it has
 * none (or nothing to draw). */
int msp_pack_chart_layout(const json_t *section, double width, double height,
                          msp_pack_chart_t *out);

/* A series' colour, as "#rrggbb". */
const char *msp_pack_chart_color(size_t series);

/* The scale's ith of 4 ticks (0..4) as text. */
void msp_pack_chart_tick(double top, int i, char *buf, size_t size);

#endif
