/*
 * business.h - working-time arithmetic on a tenant's calendar.
 *
 * SLA targets are in working time ("4 business hours"), so every clock
 * needs two questions answered: how much working time lies between two
 * instants, and when a given amount of working time, counted from an
 * instant, is used up.  Both are answered here, exactly, to the second.
 *
 * The contract
 * ------------
 * An instant t (UTC seconds) is working time iff its local wall-clock
 * time, t + msp_tz_offset(tz, t), read as a local date and a time of day,
 * falls inside a window of that local date: the holiday's hours when the
 * date is a holiday, else the windows of its weekday.  So:
 *
 *   - On a spring-forward day the skipped local hour contributes nothing:
 *     a window 01:00-03:00 on the US spring-forward day is 1 hour long.
 *   - On a fall-back day a repeated local hour counts twice when it lies
 *     inside a window: 00:00-03:00 on the US fall-back day is 4 hours.
 *   - A window across midnight is two windows on consecutive days
 *     (22:00-24:00 and 00:00-06:00); together they are one stretch.
 *   - In a 24x7 calendar every instant is working time, so the working
 *     time between two instants is simply their difference, DST or not.
 *
 * Instants from year 1 to year 9999 are covered (MSP_BUSINESS_MIN to
 * MSP_BUSINESS_MAX); time outside that range is treated as not working.
 *
 * Cost is proportional to the number of local days and offset changes
 * crossed, less where whole ordinary weeks (no holiday, no offset change)
 * are skipped at once: a year is a few dozen steps.
 */
#ifndef MSP_SLA_BUSINESS_H
#define MSP_SLA_BUSINESS_H

#include <stdint.h>

#include "sla/calendar.h"

#define MSP_BUSINESS_MIN  INT64_C(-62135596800)     /* 0001-01-01T00:00:00Z */
#define MSP_BUSINESS_MAX  INT64_C(253402300800)     /* 10000-01-01T00:00:00Z */

/* Working seconds in [from, to); 0 when to <= from. */
int64_t msp_business_between(const msp_calendar_t *cal, int64_t from, int64_t to);

/*
 * The earliest instant t >= from with msp_business_between(from, t) ==
 * seconds.  seconds <= 0 returns from.  For seconds > 0 the result is
 * therefore inside a working window or exactly at the end of one, never
 * in non-working time: using up a whole window ends at the window's end,
 * not at the next window's start.
 *
 * INT64_MAX when the target is never reached: when 50 years pass without
 * any working time (from from, or from the last working time met), or
 * the result would lie beyond MSP_BUSINESS_MAX.
 */
int64_t msp_business_add(const msp_calendar_t *cal, int64_t from, int64_t seconds);

/*
 * Calls fn for each maximal working interval intersected with [from, to),
 * in order, with its UTC bounds [start, end).  Windows that touch (08:00-
 * 12:00 and 12:00-17:00; 22:00-24:00 and the next day's 00:00-06:00) and
 * stretches that continue across an offset change make one interval.
 * Stops at the first nonzero return of fn and returns it; else 0.  Used
 * to explain a clock to a person.
 */
typedef int (*msp_business_fn)(void *arg, int64_t start, int64_t end);

int msp_business_intervals(const msp_calendar_t *cal, int64_t from, int64_t to,
                           msp_business_fn fn, void *arg);

#endif
