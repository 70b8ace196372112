/*
 * sla_bench.c - how fast the SLA arithmetic is, against floors measured in
 * the same run (tests/bench/run.sh runs it; the rules it exercises are in
 * services/sla/).  A benchmark, not a test: it measures and prints.
 *
 *   sla_bench [--seconds S] TENANT.json...      (S: per measurement, 1.5)
 *
 * Each tenant file is validated, normalized and compiled as `mspctl tenant
 * apply` and the SLA clocks do (msp_tenant_normalize, msp_calendar_new).
 * For each calendar it measures, from 4,096 start instants spread over
 * 2026-2027 (pseudo-random, fixed seed, any second of the day):
 *
 *   floor: tz offset        msp_tz_offset(tz, t): the cheapest question the
 *                           arithmetic asks, once per offset change crossed;
 *   floor: add 1 day        msp_business_add(cal, t, D), D the calendar's
 *                           working seconds of an average day (a week's / 7):
 *                           what an SLA target of a day or less costs;
 *   add 1 year              msp_business_add(cal, t, Y), Y the working
 *                           seconds of the year from 2026-01-01 00:00 local
 *                           (365 days): crosses every holiday and both DST
 *                           changes of the year;
 *   between 1 year          msp_business_between(cal, t, t + 365 days).
 *
 * Each runs for S seconds of CLOCK_MONOTONIC in batches of 4,096 calls.
 * "/tz" and "/day" are the row's calls/s divided by the floor's: the share
 * of the floor's rate the row achieves (0.01 = 100 times the floor's cost).
 * Before timing, every year's add is checked against between (between(t,
 * add(t, Y)) == Y); a mismatch is printed, and the exit status is 1.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "sla/business.h"
#include "sla/calendar.h"
#include "sla/tz.h"
#include "tenants/tenant_file.h"

#define STARTS      4096
#define DAY         INT64_C(86400)
#define YEAR_DAYS   365

static volatile int64_t sink;       /* keeps the results alive */

typedef struct {
    const char           *name;
    const msp_calendar_t *cal;
    const msp_tz_t       *tz;
    const int64_t        *starts;
    int64_t               amount;
} bench_t;

typedef int64_t (*op_fn)(const bench_t *b, int64_t t);

static int64_t
op_tz_offset(const bench_t *b, int64_t t)
{
    return msp_tz_offset(b->tz, t);
}

static int64_t
op_add(const bench_t *b, int64_t t)
{
    return msp_business_add(b->cal, t, b->amount);
}

static int64_t
op_between_year(const bench_t *b, int64_t t)
{
    return msp_business_between(b->cal, t, t + YEAR_DAYS * DAY);
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Calls per second of op over the start instants, for about `seconds`. */
static double
measure(const bench_t *b, op_fn op, double seconds, long *calls_out)
{
    int64_t acc = 0;
    long calls = 0;

    /* an unmeasured pass: caches, branch predictors, the zone cache */
    for (int i = 0; i < STARTS; i++) {
        acc += op(b, b->starts[i]);
    }

    double start = now_seconds(), elapsed;
    do {
        for (int i = 0; i < STARTS; i++) {
            acc += op(b, b->starts[i]);
        }
        calls += STARTS;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);
    sink += acc;
    *calls_out = calls;
    return (double) calls / elapsed;
}

static json_t *
load_tenant(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);

    if (doc == NULL) {
        fprintf(stderr, "sla_bench: %s:%d: %s\n", path, jerr.line, jerr.text);
        return NULL;
    }

    msp_errors_t errs;
    memset(&errs, 0, sizeof(errs));
    const char *slug = json_string_value(json_object_get(doc, "slug"));
    if (msp_tenant_validate(doc, slug, &errs) != 0) {
        fprintf(stderr, "sla_bench: %s: not a valid tenant file: %s: %s\n", path,
                errs.n ? errs.items[0].field : "", errs.n ? errs.items[0].message : "");
        json_decref(doc);
        return NULL;
    }
    json_t *norm = msp_tenant_normalize(doc);
    json_decref(doc);
    return norm;
}

/* The UTC instant of local midnight starting y-m-d in tz. */
static int64_t
local_midnight(const msp_tz_t *tz, int64_t y, int m, int d)
{
    int64_t local = msp_days_from_civil(y, m, d) * DAY;
    int64_t t = local - msp_tz_offset(tz, local);

    return local - msp_tz_offset(tz, t);
}

static void
row(const char *cal, const char *what, double rate, long calls, double tz_rate, double day_rate)
{
    char tz_ratio[16] = "-", day_ratio[16] = "-";

    if (tz_rate > 0) {
        snprintf(tz_ratio, sizeof(tz_ratio), "%.4f", rate / tz_rate);
    }
    if (day_rate > 0) {
        snprintf(day_ratio, sizeof(day_ratio), "%.3f", rate / day_rate);
    }
    printf("%-8s %-40s %12.0f %10.1f %9s %8s %11ld\n", cal, what, rate, 1e9 / rate,
           tz_ratio, day_ratio, calls);
}

static int
bench_tenant(const char *path, double seconds)
{
    json_t *doc = load_tenant(path);
    if (doc == NULL) {
        return -1;
    }

    const char *slug = json_string_value(json_object_get(doc, "slug"));
    const char *zone = json_string_value(json_object_get(doc, "timezone"));
    char err[256] = "";
    msp_calendar_t *cal = msp_calendar_new(zone, json_object_get(doc, "calendar"),
                                           json_object_get(doc, "holidays"), err, sizeof(err));
    if (cal == NULL) {
        fprintf(stderr, "sla_bench: %s: the calendar does not compile: %s\n", path, err);
        json_decref(doc);
        return -1;
    }

    static int64_t starts[STARTS];
    const msp_tz_t *tz = msp_calendar_tz(cal);
    int64_t from = local_midnight(tz, 2026, 1, 1);
    int64_t span = local_midnight(tz, 2028, 1, 1) - from;
    uint64_t x = 0x9e3779b97f4a7c15u;

    for (int i = 0; i < STARTS; i++) {       /* xorshift64* */
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        starts[i] = from + (int64_t) ((x * 0x2545f4914f6cdd1du) % (uint64_t) span);
    }

    int64_t week = msp_calendar_week_seconds(cal);
    int64_t year = msp_business_between(cal, from, from + YEAR_DAYS * DAY);
    bench_t b = { slug, cal, tz, starts, 0 };
    int status = 0;

    /* the year's add, checked against between before it is timed */
    for (int i = 0; i < STARTS; i++) {
        int64_t end = msp_business_add(cal, starts[i], year);
        int64_t got = end == INT64_MAX ? -1 : msp_business_between(cal, starts[i], end);
        if (got != year) {
            printf("%-8s MISMATCH: add(%lld, %lld) = %lld, between(start, that) = %lld\n", slug,
                   (long long) starts[i], (long long) year, (long long) end, (long long) got);
            status = 1;
            break;
        }
    }

    printf("%-8s %s; %lld working s/week; a year from 2026-01-01 00:00 local holds "
           "%lld working s (%.1f h)\n", slug, zone, (long long) week, (long long) year,
           (double) year / 3600);

    long calls;
    double tz_rate = measure(&b, op_tz_offset, seconds, &calls);
    row(slug, "floor: tz offset", tz_rate, calls, 0, 0);

    b.amount = week / 7;
    double day_rate = measure(&b, op_add, seconds, &calls);
    char what[64];
    snprintf(what, sizeof(what), "floor: add 1 day (%lld s)", (long long) b.amount);
    row(slug, what, day_rate, calls, tz_rate, 0);

    b.amount = year;
    double rate = measure(&b, op_add, seconds, &calls);
    snprintf(what, sizeof(what), "add 1 year (%lld s)", (long long) year);
    row(slug, what, rate, calls, tz_rate, day_rate);

    rate = measure(&b, op_between_year, seconds, &calls);
    row(slug, "between over 1 year (365 days)", rate, calls, tz_rate, day_rate);

    msp_calendar_free(cal);
    json_decref(doc);
    return status;
}

int
main(int argc, char **argv)
{
    double seconds = 1.5;
    int i = 1, status = 0;

    if (argc > 2 && strcmp(argv[1], "--seconds") == 0) {
        char *end;
        errno = 0;
        seconds = strtod(argv[2], &end);
        if (errno != 0 || *end != '\0' || seconds <= 0) {
            fprintf(stderr, "sla_bench: --seconds: not a positive number: %s\n", argv[2]);
            return 2;
        }
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: sla_bench [--seconds S] TENANT.json...\n");
        return 2;
    }

    printf("%-8s %-40s %12s %10s %9s %8s %11s\n", "calendar", "", "calls/s", "ns/call", "/tz",
           "/day", "calls");
    printf("%.*s\n", 105, "-------------------------------------------------------------------"
           "--------------------------------------------------------------");
    for (; i < argc; i++) {
        if (bench_tenant(argv[i], seconds) != 0) {
            status = 1;
        }
    }
    printf("\n/tz, /day: the row's calls/s divided by the floor's (tz offset; add 1 day) in "
           "the same run.\nstart instants: %d, pseudo-random over 2026-2027 local time; "
           "%.1f s per row (CLOCK_MONOTONIC).\n", STARTS, seconds);
    return status;
}
