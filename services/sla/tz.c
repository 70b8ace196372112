/*
 * tz.c - IANA time zones from TZif files (RFC 8536).
 *
 * A loaded zone is two things: a table of the instants at which the UTC
 * offset changes, from the file's transitions, and the POSIX TZ rule of
 * the file's footer (e.g. "EST5EDT,M3.2.0,M11.1.0"), which RFC 8536 says
 * governs every instant from the last transition on.  Transitions that
 * keep the offset (a renamed abbreviation, a flipped DST flag) are dropped
 * while loading: callers care only about the offset, and a table in which
 * every entry is a real change lets msp_tz_next_change() be a lookup.
 *
 * The footer rule is evaluated per year, as POSIX and the C library do:
 * the year of an instant is its year in local standard time; that year's
 * DST start and end are computed, and DST is in effect between them (or,
 * when the end comes first, as in the southern hemisphere, outside them).
 */
#include "sla/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_ZONEINFO_DIR  "/usr/share/zoneinfo"
#define ZONE_NAME_MAX         255

/* The largest zone file shipped is under 10 KiB; this only bounds malice. */
#define TZIF_MAX_BYTES        (1 << 20)
#define TZIF_HEADER_BYTES     44

/*
 * RFC 8536 asks readers to accept offsets in [-89999, 93599] (about +-25
 * hours); anything else is not a zone, and refusing it keeps every sum of
 * an instant and an offset far from overflow.
 */
#define UTOFF_MIN             (-89999)
#define UTOFF_MAX             93599

#define SECONDS_PER_DAY       86400

/*
 * Rule arithmetic works on civil years, which must fit the int64_t sums
 * below comfortably; instants further out than about two million years
 * are answered as at this bound.
 */
#define RULE_T_LIMIT          ((int64_t) 1 << 46)


/* ---- civil dates -------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int
is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * The Gregorian calendar repeats every 400 years (146097 days).  Counting
 * years from March makes the leap day the last day of its year, so a date's
 * day within the year is a simple function of its month.
 */
int64_t
msp_days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2) {
        y--;
    }

    int64_t era = floor_div(y, 400);
    int64_t year_of_era = y - era * 400;                       /* 0-399 */
    int64_t month_from_march = m > 2 ? m - 3 : m + 9;          /* 0-11 */
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4
                         - year_of_era / 100 + day_of_year;

    /* 719468 days lie between 0000-03-01 and 1970-01-01. */
    return era * 146097 + day_of_era - 719468;
}

void
msp_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t day_of_era = z - era * 146097;                     /* 0-146096 */
    int64_t year_of_era = (day_of_era - day_of_era / 1460
                           + day_of_era / 36524
                           - day_of_era / 146096) / 365;       /* 0-399 */
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4
                                        - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    int month = (int) (month_from_march < 10 ? month_from_march + 3
                                             : month_from_march - 9);

    *d = (int) (day_of_year - (153 * month_from_march + 2) / 5 + 1);
    *m = month;
    *y = year_of_era + era * 400 + (month <= 2);
}

int
msp_weekday_from_days(int64_t days)
{
    /* Day 0 was a Thursday, ISO weekday 3 counting Monday as 0. */
    return (int) (days + 3 - floor_div(days + 3, 7) * 7);
}

int
msp_civil_digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
msp_civil_date(const char *s, size_t len, int64_t *day)
{
    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return MSP_DATE_MALFORMED;
    }
    int y = msp_civil_digits(s, 4), m = msp_civil_digits(s + 5, 2), d = msp_civil_digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0) {
        return MSP_DATE_MALFORMED;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > msp_days_in_month(y, m)) {
        return MSP_DATE_NOT_A_DAY;
    }
    *day = msp_days_from_civil(y, m, d);
    return 0;
}

int
msp_days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m < 1 || m > 12) {
        return 0;
    }
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

static int64_t
year_of_instant(int64_t t)
{
    int64_t y;
    int m, d;

    msp_civil_from_days(floor_div(t, SECONDS_PER_DAY), &y, &m, &d);
    return y;
}

static int64_t
clamp_instant(int64_t t)
{
    return t < -RULE_T_LIMIT ? -RULE_T_LIMIT : t > RULE_T_LIMIT ? RULE_T_LIMIT : t;
}


/* ---- the POSIX TZ rule of the footer ------------------------------------ */

typedef enum {
    DATE_JULIAN_NO_LEAP,    /* Jn: 1-365, February 29 is never counted */
    DATE_ZERO_BASED,        /* n: 0-365, February 29 counts in leap years */
    DATE_MONTH_WEEK_DAY     /* Mm.w.d: weekday d of week w (5 = last) of month m */
} rule_date_kind_t;

typedef struct {
    rule_date_kind_t kind;
    int              day;       /* Jn, n: the day; Mm.w.d: the weekday, 0 = Sunday */
    int              week;
    int              month;
    int32_t          time;      /* local time of the change, seconds; may be
                                   negative or beyond 24 hours (RFC 8536) */
} rule_date_t;

typedef struct {
    int32_t     std_utoff;
    int32_t     dst_utoff;
    int         has_dst;
    rule_date_t start;          /* given in standard time */
    rule_date_t end;            /* given in daylight saving time */
} posix_rule_t;

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A number of at most max_digits digits, at most max. */
static int
parse_number(const char **p, int max_digits, int max, int *out)
{
    int value = 0, digits = 0;

    while (is_digit(**p) && digits < max_digits) {
        value = value * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || value > max) {
        return -1;
    }
    *out = value;
    return 0;
}

/* An abbreviation: "EST", or quoted as "<+0530>". */
static int
parse_name(const char **p)
{
    const char *s = *p;

    if (*s == '<') {
        s++;
        const char *begin = s;

        while (is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-') {
            s++;
        }
        if (*s != '>' || s == begin) {
            return -1;
        }
        *p = s + 1;
        return 0;
    }

    const char *begin = s;

    while (is_alpha(*s)) {
        s++;
    }
    if (s - begin < 3) {
        return -1;
    }
    *p = s;
    return 0;
}

/* [+|-]hh[:mm[:ss]], hours at most max_hours; the signed seconds. */
static int
parse_time(const char **p, int max_hours, int32_t *out)
{
    int sign = 1, hours, minutes = 0, seconds = 0;

    if (**p == '+' || **p == '-') {
        sign = **p == '-' ? -1 : 1;
        (*p)++;
    }
    if (parse_number(p, 3, max_hours, &hours) < 0) {
        return -1;
    }
    if (**p == ':') {
        (*p)++;
        if (parse_number(p, 2, 59, &minutes) < 0) {
            return -1;
        }
        if (**p == ':') {
            (*p)++;
            if (parse_number(p, 2, 59, &seconds) < 0) {
                return -1;
            }
        }
    }
    *out = sign * (hours * 3600 + minutes * 60 + seconds);
    return 0;
}

/*
 * A POSIX offset is positive west of Greenwich ("EST5"); a UTC offset, as
 * everywhere else here, is positive east.
 */
static int
parse_utoff(const char **p, int32_t *utoff)
{
    int32_t west;

    if (parse_time(p, 24, &west) < 0) {
        return -1;
    }
    *utoff = -west;
    return 0;
}

static int
parse_rule_date(const char **p, rule_date_t *date)
{
    if (**p == 'J') {
        (*p)++;
        date->kind = DATE_JULIAN_NO_LEAP;
        if (parse_number(p, 3, 365, &date->day) < 0 || date->day < 1) {
            return -1;
        }
    } else if (**p == 'M') {
        (*p)++;
        date->kind = DATE_MONTH_WEEK_DAY;
        if (parse_number(p, 2, 12, &date->month) < 0 || date->month < 1
            || *(*p)++ != '.'
            || parse_number(p, 1, 5, &date->week) < 0 || date->week < 1
            || *(*p)++ != '.'
            || parse_number(p, 1, 6, &date->day) < 0)
        {
            return -1;
        }
    } else {
        date->kind = DATE_ZERO_BASED;
        if (parse_number(p, 3, 365, &date->day) < 0) {
            return -1;
        }
    }

    date->time = 2 * 3600;
    if (**p == '/') {
        (*p)++;
        /* RFC 8536 extends the hour to -167..167. */
        if (parse_time(p, 167, &date->time) < 0) {
            return -1;
        }
    }
    return 0;
}

/* "start,end" with nothing after it. */
static int
parse_rule_dates(const char *s, posix_rule_t *rule)
{
    if (parse_rule_date(&s, &rule->start) < 0 || *s++ != ','
        || parse_rule_date(&s, &rule->end) < 0)
    {
        return -1;
    }
    return *s == '\0' ? 0 : -1;
}

static int
parse_posix_rule(const char *s, posix_rule_t *rule)
{
    memset(rule, 0, sizeof(*rule));

    if (parse_name(&s) < 0 || parse_utoff(&s, &rule->std_utoff) < 0) {
        return -1;
    }
    if (*s == '\0') {
        return 0;
    }
    if (parse_name(&s) < 0) {
        return -1;
    }
    rule->has_dst = 1;
    rule->dst_utoff = rule->std_utoff + 3600;
    if (*s != ',' && *s != '\0' && parse_utoff(&s, &rule->dst_utoff) < 0) {
        return -1;
    }
    if (*s == '\0') {
        /* No dates: POSIX leaves them to the implementation; glibc and
           tzcode both use the United States rule, and so do we. */
        return parse_rule_dates("M3.2.0,M11.1.0", rule);
    }
    if (*s++ != ',') {
        return -1;
    }
    return parse_rule_dates(s, rule);
}

/* The instant at which date falls in year y, its time read in utoff. */
static int64_t
rule_date_instant(const rule_date_t *date, int64_t y, int32_t utoff)
{
    int64_t day;

    switch (date->kind) {
    case DATE_JULIAN_NO_LEAP:
        day = msp_days_from_civil(y, 1, 1) + date->day - 1
              + (is_leap_year(y) && date->day >= 60);
        break;
    case DATE_ZERO_BASED:
        day = msp_days_from_civil(y, 1, 1) + date->day;
        break;
    default: {
        int64_t first = msp_days_from_civil(y, date->month, 1);
        int first_weekday = (msp_weekday_from_days(first) + 1) % 7;   /* 0 = Sunday */
        int64_t last = first + msp_days_in_month(y, date->month) - 1;

        day = first + (date->day - first_weekday + 7) % 7 + 7 * (date->week - 1);
        while (day > last) {                /* week 5 means the last one */
            day -= 7;
        }
        break;
    }
    }
    return day * SECONDS_PER_DAY + date->time - utoff;
}

static int
rule_is_dst(const posix_rule_t *rule, int64_t t)
{
    int64_t y = year_of_instant(t + rule->std_utoff);
    int64_t start = rule_date_instant(&rule->start, y, rule->std_utoff);
    int64_t end = rule_date_instant(&rule->end, y, rule->dst_utoff);

    if (start < end) {
        return t >= start && t < end;
    }
    if (start > end) {                      /* DST spans the new year */
        return t < end || t >= start;
    }
    return 0;
}

static int32_t
rule_utoff(const posix_rule_t *rule, int64_t t)
{
    if (!rule->has_dst) {
        return rule->std_utoff;
    }
    return rule_is_dst(rule, clamp_instant(t)) ? rule->dst_utoff : rule->std_utoff;
}

static void
sort_instants(int64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int64_t x = v[i];
        size_t j = i;

        for (; j > 0 && v[j - 1] > x; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

/*
 * Under the rule, the offset can change only at a year's DST start or end
 * or where one year's computation hands over to the next.  Those points
 * from the year before t's to three years on are enough: a rule that
 * changes nothing in two whole years never will.
 */
static int64_t
rule_next_change(const posix_rule_t *rule, int64_t t)
{
    if (!rule->has_dst || t >= RULE_T_LIMIT) {
        return INT64_MAX;
    }
    t = clamp_instant(t);

    int64_t y = year_of_instant(t + rule->std_utoff);
    int64_t points[11];
    size_t n = 0;

    for (int64_t k = y - 1; k <= y + 2; k++) {
        points[n++] = rule_date_instant(&rule->start, k, rule->std_utoff);
        points[n++] = rule_date_instant(&rule->end, k, rule->dst_utoff);
    }
    for (int64_t k = y + 1; k <= y + 3; k++) {
        points[n++] = msp_days_from_civil(k, 1, 1) * SECONDS_PER_DAY - rule->std_utoff;
    }
    sort_instants(points, n);

    int32_t now = rule_utoff(rule, t);

    for (size_t i = 0; i < n; i++) {
        if (points[i] > t && rule_utoff(rule, points[i]) != now) {
            return points[i];
        }
    }
    return INT64_MAX;
}


/* ---- a zone ------------------------------------------------------------- */

struct msp_tz {
    int64_t     *change_at;     /* ascending; each changes the offset */
    int32_t     *utoff_from;    /* utoff_from[i] is in effect from change_at[i] */
    size_t       changes;
    int32_t      first_utoff;   /* before change_at[0] */

    int          has_rule;
    int64_t      rule_from;     /* the footer governs instants >= rule_from */
    posix_rule_t rule;

    char         name[];
};

/* Index of the last table entry at or before t; -1 when t precedes all. */
static ptrdiff_t
table_index(const msp_tz_t *tz, int64_t t)
{
    size_t lo = 0, hi = tz->changes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (tz->change_at[mid] <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (ptrdiff_t) lo - 1;
}

static int32_t
table_utoff(const msp_tz_t *tz, int64_t t)
{
    ptrdiff_t i = table_index(tz, t);

    return i < 0 ? tz->first_utoff : tz->utoff_from[i];
}

int
msp_tz_offset(const msp_tz_t *tz, int64_t t)
{
    if (tz->has_rule && t >= tz->rule_from) {
        return rule_utoff(&tz->rule, t);
    }
    return table_utoff(tz, t);
}

int64_t
msp_tz_next_change(const msp_tz_t *tz, int64_t t)
{
    if (tz->has_rule && t >= tz->rule_from) {
        return rule_next_change(&tz->rule, t);
    }

    size_t next = (size_t) (table_index(tz, t) + 1);

    if (!tz->has_rule) {
        return next < tz->changes ? tz->change_at[next] : INT64_MAX;
    }
    if (next < tz->changes && tz->change_at[next] < tz->rule_from) {
        return tz->change_at[next];
    }
    /* The table is exhausted before the rule takes over. */
    if (rule_utoff(&tz->rule, tz->rule_from) != table_utoff(tz, t)) {
        return tz->rule_from;
    }
    return rule_next_change(&tz->rule, tz->rule_from);
}

int64_t
msp_tz_day_start(const msp_tz_t *tz, int64_t day)
{
    const int64_t wall = day * 86400;
    /* Local midnight is wall - o for an offset o in force at that instant.
     * Offsets change at most once in a day's neighbourhood, so the
     * offsets a day either side, and at wall itself, are the candidates. */
    const int64_t probe[] = { wall - 86400, wall, wall + 86400 };
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
        int64_t t = wall - msp_tz_offset(tz, probe[i]);
        if (msp_tz_offset(tz, t) == wall - t && t < best) {
            best = t;
        }
    }
    if (best != INT64_MAX) {
        return best;
    }
    /* No instant reads midnight: the clock jumped over it, at or before
     * midnight in the old offset, and the day begins when the new offset
     * takes effect. */
    int64_t old_midnight = wall - msp_tz_offset(tz, wall - 86400);
    return msp_tz_next_change(tz, old_midnight - 86400);
}

const char *
msp_tz_name(const msp_tz_t *tz)
{
    return tz->name;
}

void
msp_tz_format_local(const msp_tz_t *tz, int64_t t, char *buf, size_t len)
{
    if (buf == NULL || len == 0) {
        return;
    }
    t = clamp_instant(t);

    int utoff = msp_tz_offset(tz, t);
    int minutes = utoff >= 0 ? (utoff + 30) / 60 : -((-utoff + 30) / 60);
    int64_t local = t + (int64_t) minutes * 60;
    int64_t days = floor_div(local, SECONDS_PER_DAY);
    int64_t secs = local - days * SECONDS_PER_DAY;
    int64_t y;
    int m, d;

    msp_civil_from_days(days, &y, &m, &d);

    int abs_minutes = minutes < 0 ? -minutes : minutes;

    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
             (long long) y, m, d, (int) (secs / 3600), (int) (secs / 60 % 60),
             (int) (secs % 60), minutes < 0 ? '-' : '+',
             abs_minutes / 60, abs_minutes % 60);
}


/* ---- reading TZif ------------------------------------------------------- */

typedef struct {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_counts_t;

typedef struct {
    const unsigned char *p;
    size_t               left;
} reader_t;

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

static const unsigned char *
take(reader_t *rd, uint64_t n)
{
    if (n > rd->left) {
        return NULL;
    }

    const unsigned char *p = rd->p;

    rd->p += n;
    rd->left -= (size_t) n;
    return p;
}

static int
read_header(reader_t *rd, char *version, tzif_counts_t *c)
{
    const unsigned char *h = take(rd, TZIF_HEADER_BYTES);

    if (h == NULL || memcmp(h, "TZif", 4) != 0) {
        return -1;
    }
    *version = (char) h[4];
    c->isutcnt = be32(h + 20);
    c->isstdcnt = be32(h + 24);
    c->leapcnt = be32(h + 28);
    c->timecnt = be32(h + 32);
    c->typecnt = be32(h + 36);
    c->charcnt = be32(h + 40);

    if (c->typecnt == 0 || c->typecnt > 256
        || (c->isutcnt != 0 && c->isutcnt != c->typecnt)
        || (c->isstdcnt != 0 && c->isstdcnt != c->typecnt))
    {
        return -1;
    }
    return 0;
}

/* The data block that follows a header; times are 4 or 8 bytes wide. */
typedef struct {
    const unsigned char *times;
    const unsigned char *type_of;
    const unsigned char *types;
} tzif_block_t;

static int
read_block(reader_t *rd, const tzif_counts_t *c, unsigned width, tzif_block_t *b)
{
    b->times = take(rd, (uint64_t) c->timecnt * width);
    b->type_of = take(rd, c->timecnt);
    b->types = take(rd, (uint64_t) c->typecnt * 6);

    if (b->times == NULL || b->type_of == NULL || b->types == NULL
        || take(rd, c->charcnt) == NULL
        || take(rd, (uint64_t) c->leapcnt * (width + 4)) == NULL
        || take(rd, (uint64_t) c->isstdcnt + c->isutcnt) == NULL)
    {
        return -1;
    }
    return 0;
}

static void
free_zone(msp_tz_t *tz)
{
    if (tz != NULL) {
        free(tz->change_at);
        free(tz->utoff_from);
        free(tz);
    }
}

/* Builds the zone from a block: only the transitions that change the offset. */
static msp_tz_t *
build_zone(const char *name, const tzif_counts_t *c, unsigned width,
           const tzif_block_t *b)
{
    size_t name_len = strlen(name);
    msp_tz_t *tz = calloc(1, sizeof(*tz) + name_len + 1);

    if (tz == NULL) {
        return NULL;
    }
    memcpy(tz->name, name, name_len + 1);
    tz->rule_from = INT64_MIN;

    for (uint32_t i = 0; i < c->typecnt; i++) {
        int32_t utoff = (int32_t) be32(b->types + 6 * i);

        if (utoff < UTOFF_MIN || utoff > UTOFF_MAX) {
            goto fail;
        }
    }
    tz->first_utoff = (int32_t) be32(b->types);

    if (c->timecnt > 0) {
        tz->change_at = malloc(c->timecnt * sizeof(*tz->change_at));
        tz->utoff_from = malloc(c->timecnt * sizeof(*tz->utoff_from));
        if (tz->change_at == NULL || tz->utoff_from == NULL) {
            goto fail;
        }
    }

    int32_t current = tz->first_utoff;
    int64_t previous = INT64_MIN;

    for (uint32_t i = 0; i < c->timecnt; i++) {
        int64_t at = width == 8 ? be64(b->times + 8 * i)
                                : (int32_t) be32(b->times + 4 * i);
        unsigned type = b->type_of[i];

        if (type >= c->typecnt || (i > 0 && at <= previous)) {
            goto fail;
        }
        previous = at;

        int32_t utoff = (int32_t) be32(b->types + 6 * type);

        if (utoff != current) {
            tz->change_at[tz->changes] = at;
            tz->utoff_from[tz->changes] = utoff;
            tz->changes++;
            current = utoff;
        }
    }
    if (c->timecnt > 0) {
        tz->rule_from = previous;
    }
    return tz;

fail:
    free_zone(tz);
    return NULL;
}

/*
 * Version 1 files have only 32-bit data.  Later versions repeat the data
 * with 64-bit times after the first block, then add the footer, a POSIX TZ
 * string between newlines ("\nEST5EDT,M3.2.0,M11.1.0\n"), possibly empty.
 */
static msp_tz_t *
parse_tzif(const char *name, const unsigned char *data, size_t size)
{
    reader_t rd = { data, size };
    tzif_counts_t c;
    tzif_block_t block;
    char version;

    if (read_header(&rd, &version, &c) < 0 || read_block(&rd, &c, 4, &block) < 0) {
        return NULL;
    }
    if (version == '\0') {
        return build_zone(name, &c, 4, &block);
    }

    if (read_header(&rd, &version, &c) < 0 || read_block(&rd, &c, 8, &block) < 0) {
        return NULL;
    }

    const char *footer = (const char *) rd.p;
    const char *footer_end = rd.left > 0 ? memchr(footer + 1, '\n', rd.left - 1) : NULL;

    if (rd.left == 0 || footer[0] != '\n' || footer_end == NULL) {
        return NULL;
    }

    size_t footer_len = (size_t) (footer_end - footer - 1);
    posix_rule_t rule;
    char text[128];

    if (footer_len > 0) {
        if (footer_len >= sizeof(text)) {
            return NULL;
        }
        memcpy(text, footer + 1, footer_len);
        text[footer_len] = '\0';
        if (parse_posix_rule(text, &rule) < 0) {
            return NULL;
        }
    }

    msp_tz_t *tz = build_zone(name, &c, 8, &block);

    if (tz != NULL && footer_len > 0) {
        tz->has_rule = 1;
        tz->rule = rule;
    }
    return tz;
}

/* The whole file, or NULL; O_NONBLOCK keeps a FIFO from hanging us. */
static unsigned char *
read_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        return NULL;
    }

    struct stat st;
    unsigned char *data = NULL;

    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
        && st.st_size > 0 && st.st_size <= TZIF_MAX_BYTES)
    {
        data = malloc((size_t) st.st_size);
    }

    size_t have = 0;

    while (data != NULL && have < (size_t) st.st_size) {
        ssize_t n = read(fd, data + have, (size_t) st.st_size - have);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            free(data);
            data = NULL;
            break;
        }
        have += (size_t) n;
    }
    close(fd);
    *size = have;
    return data;
}

/* The rule of msp_timezone_exists() in tenant_file.c, which vets names first. */
static int
is_safe_zone_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > ZONE_NAME_MAX || name[0] == '/' || name[len - 1] == '/') {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (c == '/' && i > 0 && name[i - 1] == '/') {
            return 0;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '/' && c != '_' && c != '-' && c != '+') {
            return 0;
        }
    }
    return 1;
}

static msp_tz_t *
load_zone(const char *name)
{
    const char *dir = secure_getenv("MSP_ZONEINFO_DIR");
    char path[4096];

    if (dir == NULL || dir[0] == '\0') {
        dir = DEFAULT_ZONEINFO_DIR;
    }

    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (n < 0 || (size_t) n >= sizeof(path)) {
        return NULL;
    }

    size_t size;
    unsigned char *data = read_file(path, &size);

    if (data == NULL) {
        return NULL;
    }

    msp_tz_t *tz = parse_tzif(name, data, size);

    free(data);
    return tz;
}


/* ---- the cache ---------------------------------------------------------- */

/*
 * Loaded zones live until the process ends; there are a few hundred zones
 * at most, so a linear search is fine.  No lock: each worker process is
 * single-threaded.
 */
static msp_tz_t **zones;
static size_t zone_count, zone_capacity;

const msp_tz_t *
msp_tz_get(const char *name)
{
    if (name == NULL || !is_safe_zone_name(name)) {
        return NULL;
    }
    for (size_t i = 0; i < zone_count; i++) {
        if (strcmp(zones[i]->name, name) == 0) {
            return zones[i];
        }
    }

    if (zone_count == zone_capacity) {
        size_t capacity = zone_capacity ? 2 * zone_capacity : 16;
        msp_tz_t **grown = realloc(zones, capacity * sizeof(*zones));

        if (grown == NULL) {
            return NULL;
        }
        zones = grown;
        zone_capacity = capacity;
    }

    msp_tz_t *tz = load_zone(name);

    if (tz == NULL) {
        return NULL;
    }
    zones[zone_count++] = tz;
    return tz;
}
