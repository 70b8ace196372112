/*
 * period.h - the periods reports are computed over, in the tenant's own
 * time.
 *
 * A period is a run of whole local days of the tenant, half-open:
 * [the first instant of its first day, the first instant of the day after
 * its last).  So a month of a New York tenant starts at 05:00Z in winter
 * and at 04:00Z in summer, never at 00:00Z, and a day on which the clocks
 * change is 23 or 25 hours long.  The instants come from the tenant's
 * time zone (msp_tz_day_start), never from the process's.
 *
 * Written forms, as the API and mspctl take them:
 *   2026-03-08               a day
 *   2026-W10                 an ISO 8601 week (Monday to Sunday)
 *   2026-03                  a month
 *   2026-Q1                  a quarter
 *   2026-03-01..2026-04-01   a custom range of days: from the first date,
 *                            up to but not including the second (at most
 *                            MSP_PERIOD_MAX_DAYS days)
 */
#ifndef MSP_REPORT_PERIOD_H
#define MSP_REPORT_PERIOD_H

#include <stdint.h>

#include "sla/tz.h"

#define MSP_PERIOD_MAX_DAYS 366
#define MSP_PERIOD_NAME_MAX 24     /* "2026-03-01..2026-04-01" and its NUL */

typedef enum {
    MSP_PERIOD_DAY, MSP_PERIOD_WEEK, MSP_PERIOD_MONTH, MSP_PERIOD_QUARTER, MSP_PERIOD_RANGE
} msp_period_kind_t;

typedef struct {
    msp_period_kind_t kind;
    int64_t           first_day;   /* local date, days since 1970-01-01 */
    int64_t           end_day;     /* the day after its last */
    char              name[MSP_PERIOD_NAME_MAX];   /* its written form */
} msp_period_t;

/*
 * Reads a period's written form.  0, or -1 with *why saying what is wrong
 * (a phrase that follows the parameter's name: "must be a day
 * (2026-03-08), an ISO week (2026-W10), ...").
 */
int msp_period_parse(const char *text, msp_period_t *out, const char **why);

/*
 * The period of the same kind just before p: the previous day, week,
 * month or quarter; for a custom range, the range of the same number of
 * days that ends where p starts.  What a trend steps back through.
 */
void msp_period_previous(const msp_period_t *p, msp_period_t *out);

/* The period's instants in zone tz: [*start, *end). */
void msp_period_bounds(const msp_period_t *p, const msp_tz_t *tz, int64_t *start,
                       int64_t *end);

#endif
