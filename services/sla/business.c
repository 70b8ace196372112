/*
 * business.c - working-time arithmetic: the walk along the timeline.
 *
 * Everything here is one walk forward in UTC.  The walk moves in pieces:
 * a piece ends at the next local midnight or the next change of the UTC
 * offset, whichever comes first, so within a piece local time is UTC plus
 * a constant and lies within one local date.  Each of that date's windows
 * then maps to one UTC interval, and the piece's working time is those
 * intervals cut to the piece.  The skipped hour of a spring-forward day is
 * never inside any piece's local time, and the repeated hour of a
 * fall-back day is inside two pieces, which is exactly the contract in
 * business.h.
 *
 * Counting does not need to visit ordinary weeks one day at a time: from
 * a local midnight, seven days without a holiday or an offset change hold
 * exactly the week's working seconds, so such weeks are skipped in bulk.
 */
#include "sla/business.h"

#define SECONDS_PER_DAY   INT64_C(86400)
#define SECONDS_PER_WEEK  (7 * SECONDS_PER_DAY)

/* msp_business_add() gives up after this long without working time. */
#define GIVE_UP_SECONDS   (50 * INT64_C(31556952))     /* 50 mean Gregorian years */

typedef struct {
    const msp_calendar_t *cal;
    const msp_tz_t       *tz;
    int64_t               t;        /* all before t has been visited */
    int64_t               utoff;    /* the UTC offset at t */
    int64_t               change;   /* the next offset change after t */
    size_t                hint;     /* for msp_calendar_hours() */
} walk_t;

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t
clamp_to_domain(int64_t t)
{
    return t < MSP_BUSINESS_MIN ? MSP_BUSINESS_MIN
         : t > MSP_BUSINESS_MAX ? MSP_BUSINESS_MAX : t;
}

static void
walk_begin(walk_t *w, const msp_calendar_t *cal, int64_t t)
{
    w->cal = cal;
    w->tz = msp_calendar_tz(cal);
    w->t = t;
    w->utoff = msp_tz_offset(w->tz, t);
    w->change = msp_tz_next_change(w->tz, t);
    w->hint = 0;
}

static void
walk_to(walk_t *w, int64_t t)
{
    w->t = t;
    if (t >= w->change) {
        w->utoff = msp_tz_offset(w->tz, t);
        w->change = msp_tz_next_change(w->tz, t);
    }
}

/*
 * Looks at the piece that starts at w->t and ends at limit, the next
 * offset change or the next local midnight.  Returns 1 with its first
 * working interval at or after w->t in [*start, *end), and moves w to
 * *end; returns 0, having moved w to the end of the piece, when the rest
 * of the piece has no working time.
 */
static int
walk_step(walk_t *w, int64_t limit, int64_t *start, int64_t *end)
{
    int64_t day = floor_div(w->t + w->utoff, SECONDS_PER_DAY);
    int64_t midnight = day * SECONDS_PER_DAY - w->utoff;   /* in this offset */
    int64_t piece_end = min64(min64(limit, w->change), midnight + SECONDS_PER_DAY);
    const msp_day_hours_t *hours = msp_calendar_hours(w->cal, day, &w->hint);

    for (unsigned i = 0; i < hours->count; i++) {
        int64_t open = midnight + 60 * (int64_t) hours->windows[i].start;
        int64_t close = midnight + 60 * (int64_t) hours->windows[i].end;

        if (close <= w->t) {
            continue;
        }
        if (open >= piece_end) {
            break;
        }
        *start = open > w->t ? open : w->t;
        *end = min64(close, piece_end);
        walk_to(w, *end);
        return 1;
    }
    walk_to(w, piece_end);
    return 0;
}

/*
 * How many whole ordinary weeks, at most max, begin at w->t and end by
 * limit.  Only from a local midnight; a week is ordinary when it has no
 * holiday and no offset change, and then holds the week's working
 * seconds exactly, whatever weekday it starts on.
 */
static int64_t
ordinary_weeks(walk_t *w, int64_t limit, int64_t max)
{
    int64_t local = w->t + w->utoff;

    if (max <= 0 || local % SECONDS_PER_DAY != 0) {
        return 0;
    }

    int64_t day = floor_div(local, SECONDS_PER_DAY);
    int64_t holiday = msp_calendar_next_holiday(w->cal, day, &w->hint);
    int64_t weeks = min64(max, (limit - w->t) / SECONDS_PER_WEEK);

    if (w->change != INT64_MAX) {
        weeks = min64(weeks, (w->change - w->t) / SECONDS_PER_WEEK);
    }
    if (holiday != INT64_MAX) {
        weeks = min64(weeks, (holiday - day) / 7);
    }
    return weeks;
}

int64_t
msp_business_between(const msp_calendar_t *cal, int64_t from, int64_t to)
{
    from = clamp_to_domain(from);
    to = clamp_to_domain(to);
    if (cal == NULL || to <= from) {
        return 0;
    }

    int64_t week_seconds = msp_calendar_week_seconds(cal);
    int64_t total = 0, start, end;
    walk_t w;

    walk_begin(&w, cal, from);
    while (w.t < to) {
        int64_t weeks = ordinary_weeks(&w, to, INT64_MAX);

        if (weeks > 0) {
            total += weeks * week_seconds;
            walk_to(&w, w.t + weeks * SECONDS_PER_WEEK);
        } else if (walk_step(&w, to, &start, &end)) {
            total += end - start;
        }
    }
    return total;
}

int64_t
msp_business_add(const msp_calendar_t *cal, int64_t from, int64_t seconds)
{
    if (seconds <= 0) {
        return from;
    }
    if (cal == NULL || from >= MSP_BUSINESS_MAX) {
        return INT64_MAX;
    }
    from = clamp_to_domain(from);

    int64_t week_seconds = msp_calendar_week_seconds(cal);
    int64_t left = seconds, start, end;
    int64_t limit = min64(MSP_BUSINESS_MAX, from + GIVE_UP_SECONDS);
    walk_t w;

    walk_begin(&w, cal, from);
    while (w.t < limit) {
        /* Skip only weeks that leave some time to count after them: the
           result must be found inside its window, not after the week. */
        int64_t most = week_seconds > 0 ? (left - 1) / week_seconds : INT64_MAX;
        int64_t weeks = ordinary_weeks(&w, limit, most);

        if (weeks > 0) {
            left -= weeks * week_seconds;
            walk_to(&w, w.t + weeks * SECONDS_PER_WEEK);
            if (week_seconds > 0) {
                limit = min64(MSP_BUSINESS_MAX, w.t + GIVE_UP_SECONDS);
            }
        } else if (walk_step(&w, limit, &start, &end)) {
            if (end - start >= left) {
                return start + left;
            }
            left -= end - start;
            limit = min64(MSP_BUSINESS_MAX, end + GIVE_UP_SECONDS);
        }
    }
    return INT64_MAX;
}

int
msp_business_intervals(const msp_calendar_t *cal, int64_t from, int64_t to,
                       msp_business_fn fn, void *arg)
{
    from = clamp_to_domain(from);
    to = clamp_to_domain(to);
    if (cal == NULL || fn == NULL || to <= from) {
        return 0;
    }

    /* Pieces end at midnights and offset changes, which are not ends of
       working time; an interval is held back until the next one shows
       whether it continues. */
    int64_t held_start = 0, held_end = 0, start, end;
    int held = 0, rc;
    walk_t w;

    walk_begin(&w, cal, from);
    while (w.t < to) {
        if (!walk_step(&w, to, &start, &end)) {
            continue;
        }
        if (held && start == held_end) {
            held_end = end;
            continue;
        }
        if (held && (rc = fn(arg, held_start, held_end)) != 0) {
            return rc;
        }
        held_start = start;
        held_end = end;
        held = 1;
    }
    return held ? fn(arg, held_start, held_end) : 0;
}
