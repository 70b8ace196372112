/*
 * tz.h - IANA time zones, read from TZif files, without the process TZ.
 *
 * SLA clocks run in each tenant's own wall-clock time, and one worker
 * serves many tenants in different zones, so the C library's localtime()
 * (one zone per process, chosen by the TZ variable) will not do.  A zone
 * is loaded here from its TZif file (RFC 8536, versions 1 to 3) in the
 * zoneinfo directory: env MSP_ZONEINFO_DIR when set and non-empty, else
 * /usr/share/zoneinfo.  Instants after the file's last transition follow
 * the POSIX TZ rule in the file's footer, so any year is answered, not
 * only those the file happens to list.
 *
 * Instants are int64_t seconds since the Unix epoch (UTC).  A UTC offset
 * is in seconds east of Greenwich: New York in winter is -18000.  Leap
 * second records ("right/" zones) are ignored: instants are POSIX time.
 *
 * The small civil-date helpers below use the proleptic Gregorian calendar
 * and count days from 1970-01-01 (day 0, a Thursday).
 */
#ifndef MSP_SLA_TZ_H
#define MSP_SLA_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct msp_tz msp_tz_t;

/*
 * The zone named name (e.g. "Europe/Berlin").  A zone is read once per
 * process and then served from a static cache that is never freed, so the
 * pointer stays valid for the life of the process.  The cache takes no
 * lock: the workers are single-threaded.  NULL when the name is unsafe
 * (letters, digits, '/', '_', '-' and '+' only; no leading or trailing
 * '/', no "//"; which also rules out ".."), when no such file exists, or
 * when it is not valid TZif.  Failures are not cached.
 */
const msp_tz_t *msp_tz_get(const char *name);

/* The zone's name as given to msp_tz_get(). */
const char *msp_tz_name(const msp_tz_t *tz);

/* The UTC offset in seconds in effect at instant t. */
int msp_tz_offset(const msp_tz_t *tz, int64_t t);

/*
 * The first instant after t at which the UTC offset differs from the
 * offset at t; INT64_MAX if it never changes again (e.g. UTC).  A
 * transition that only renames the local time or flips its DST flag while
 * keeping the offset does not count.  Between t and the result the offset
 * is constant, which is what lets callers treat local time as UTC plus a
 * constant over that stretch.
 */
int64_t msp_tz_next_change(const msp_tz_t *tz, int64_t t);

/*
 * Writes t as local wall time in RFC 3339 form with its offset, e.g.
 * "2026-03-08T03:00:00-04:00", into buf (32 bytes always suffice; the
 * text is cut to fit len otherwise).  Zero offset is written "+00:00".
 * An offset with seconds (only local mean time before about 1900 has
 * them) is rounded to the minute, and the wall time is shown in that
 * rounded offset, so that the text still denotes exactly t.
 */
void msp_tz_format_local(const msp_tz_t *tz, int64_t t, char *buf, size_t len);

/*
 * The first instant of local date day (days since 1970-01-01): its local
 * midnight, the first of them when a clock turned back through midnight
 * repeats it, or the end of the gap when a clock turned forward through
 * midnight skips it (the day then starts at 01:00).  A day, week, month
 * or quarter of a tenant is [start of its first day, start of the day
 * after its last).
 */
int64_t msp_tz_day_start(const msp_tz_t *tz, int64_t day);


/* ---- civil dates -------------------------------------------------------- */

/* Days from 1970-01-01 to the date y-m-d (month 1-12, day 1-31). */
int64_t msp_days_from_civil(int64_t y, int m, int d);

/* The date of day number days (0 is 1970-01-01). */
void msp_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* The ISO weekday of day number days: 0 is Monday, 6 is Sunday. */
int msp_weekday_from_days(int64_t days);

/* The number of days in month m (1-12) of year y. */
int msp_days_in_month(int64_t y, int m);

/* The value of the n (at most 9) decimal digits at s, as written in a
 * date or a time of day; -1 when one of them is not a digit. */
int msp_civil_digits(const char *s, size_t n);

/* "YYYY-MM-DD" in s[0..len): 0 with *day its day number, or one of these.
 * Years 0001 to 9999. */
#define MSP_DATE_MALFORMED  (-1)    /* not of that shape */
#define MSP_DATE_NOT_A_DAY  (-2)    /* no such day: 2026-02-30 */
int msp_civil_date(const char *s, size_t len, int64_t *day);

#endif
