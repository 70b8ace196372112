/*
 * calendar.h - a tenant's working calendar, compiled for arithmetic.
 *
 * The tenant file describes working hours as JSON (tenants/FORMAT.md):
 * windows of local wall-clock time per weekday, and holidays that close a
 * date or replace its windows with shorter ones.  Compiling it once turns
 * each day's windows into sorted minute ranges and the holidays into a
 * sorted array of day numbers, so that business.c can ask "what are the
 * working hours of local date D" in a few instructions.
 *
 * A compiled calendar is immutable and may be shared freely.
 */
#ifndef MSP_SLA_CALENDAR_H
#define MSP_SLA_CALENDAR_H

#include <stdint.h>

#include <jansson.h>

#include "sla/tz.h"

/* The tenant format allows at most 8 windows a day (tenants/FORMAT.md). */
#define MSP_CALENDAR_WINDOWS_MAX 8

#define MSP_MINUTES_PER_DAY      1440

typedef struct msp_calendar msp_calendar_t;

/* Working time of one local day: minutes since local midnight, [start, end). */
typedef struct {
    uint16_t start;
    uint16_t end;               /* at most MSP_MINUTES_PER_DAY */
} msp_window_t;

/*
 * A day's windows, sorted, disjoint and not touching: windows that touch
 * or overlap in the file ("08:00-12:00" and "12:00-17:00") are merged
 * when compiling, since they are one stretch of working time.
 */
typedef struct {
    unsigned     count;
    msp_window_t windows[MSP_CALENDAR_WINDOWS_MAX];
} msp_day_hours_t;

/*
 * Compiles a calendar from the normalized tenant document's parts: the
 * timezone name, the "calendar" object (monday .. sunday, each an array of
 * {"start": "HH:MM", "end": "HH:MM"}, end may be "24:00"; a missing day
 * has no working hours) and the "holidays" array (may be NULL) of
 * {"date": "YYYY-MM-DD", "name": ..., "hours": [windows]}: a holiday
 * without hours (or with none) is closed all day, one with hours works
 * those instead of the weekday's windows.
 *
 * The documents were validated already, but nothing here trusts that:
 * returns NULL on an unknown zone or malformed input, with a short reason
 * in err (when err is not NULL) such as "calendar.monday[0].end: not a
 * time HH:MM".  Also NULL, with "out of memory", when allocation fails.
 */
msp_calendar_t *msp_calendar_new(const char *timezone, const json_t *calendar,
                                 const json_t *holidays, char *err, size_t errlen);

void msp_calendar_free(msp_calendar_t *cal);

const msp_tz_t *msp_calendar_tz(const msp_calendar_t *cal);


/* ---- for the arithmetic (business.c) ------------------------------------ */

/*
 * The working hours of local date day (days since 1970-01-01): the
 * holiday's on a holiday, else the weekday's.  *hint is a position in
 * the holiday list that makes a walk from day to day cost O(1) a step;
 * start it at 0.
 */
const msp_day_hours_t *msp_calendar_hours(const msp_calendar_t *cal, int64_t day,
                                          size_t *hint);

/* The first holiday on or after day; INT64_MAX when there is none. */
int64_t msp_calendar_next_holiday(const msp_calendar_t *cal, int64_t day, size_t *hint);

/* Working seconds of a whole ordinary week: the weekdays' windows added up. */
int64_t msp_calendar_week_seconds(const msp_calendar_t *cal);

#endif
