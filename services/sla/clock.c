/*
 * clock.c - replaying a ticket's history into its SLA clocks.
 */
#include "sla/clock.h"

#include "sla/business.h"
#include "sla/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const msp_side_names[MSP_SIDE_COUNT] = {
    "provider", "internal_it", "vendor", "customer"
};

const char *const msp_tier_names[MSP_TIER_COUNT] = { "none", "L1", "L2", "L3" };

/* How many working windows an explanation lists before it says "and more". */
#define EXPLAIN_MAX_WINDOWS 2000

/* A stretch in which a clock counted: from `from`, business seconds
 * elapsed went from `before` to `after`. */
typedef struct {
    int64_t from;
    int64_t before;
    int64_t after;
} run_t;

typedef struct {
    const msp_sla_config_t *cfg;
    /* the ticket as of the event being replayed */
    const char *status;
    int         side;
    int         tier;           /* MSP_TIER_* */
    int         priority;
    /* the clocks */
    int64_t     elapsed[MSP_CLOCK_COUNT];
    int64_t     stopped_at[MSP_CLOCK_COUNT];
    run_t      *runs[MSP_CLOCK_COUNT];
    size_t      nruns[MSP_CLOCK_COUNT];
    unsigned char announced[MSP_CLOCK_COUNT][101];
    int64_t     held[MSP_SIDE_COUNT];
    int64_t     held_tier[MSP_TIER_COUNT];
    /* the explanation, when asked for */
    json_t     *segments;
    size_t      windows_listed;
} replay_t;

static int
side_index(const char *name)
{
    for (int i = 0; name != NULL && i < MSP_SIDE_COUNT; i++) {
        if (strcmp(name, msp_side_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int
is_open(const char *status)
{
    return strcmp(status, "resolved") != 0 && strcmp(status, "closed") != 0;
}

static int
is_paused(const msp_sla_policy_t *policy, const char *status)
{
    return (policy->pause_pending_customer && strcmp(status, "pending_customer") == 0)
           || (policy->pause_pending_vendor && strcmp(status, "pending_vendor") == 0);
}

static int
holder_of(const char *status, int side)
{
    if (!is_open(status)) {
        return -1;
    }
    if (strcmp(status, "pending_customer") == 0) {
        return MSP_SIDE_CUSTOMER;
    }
    if (strcmp(status, "pending_vendor") == 0) {
        return MSP_SIDE_VENDOR;
    }
    return side;
}

static void
format_utc(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t) t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, len, "invalid");
    }
}

static json_t *
utc_or_null(int64_t t)
{
    char buf[32];
    if (t == MSP_NO_TIME) {
        return json_null();
    }
    format_utc(t, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
local_time(const msp_sla_config_t *cfg, int64_t t)
{
    char buf[40];
    msp_tz_format_local(msp_calendar_tz(cfg->calendar), t, buf, sizeof(buf));
    return json_string(buf);
}

/* ---- the explanation ------------------------------------------------ */

typedef struct {
    replay_t *rp;
    json_t   *windows;
    int       truncated;
} windows_arg_t;

static int
add_window(void *arg, int64_t start, int64_t end)
{
    windows_arg_t *wa = arg;
    if (wa->rp->windows_listed >= EXPLAIN_MAX_WINDOWS) {
        wa->truncated = 1;
        return 1;
    }
    wa->rp->windows_listed++;
    json_array_append_new(wa->windows, json_pack("{s:o, s:o, s:I}",
        "start", local_time(wa->rp->cfg, start), "end", local_time(wa->rp->cfg, end),
        "seconds", (json_int_t) (end - start)));
    return 0;
}

static void
explain(replay_t *rp, int64_t from, int64_t to, int counted, int64_t seconds,
        const int running[MSP_CLOCK_COUNT], int holder)
{
    static const char *const priorities[4] = { "P1", "P2", "P3", "P4" };
    json_t *clocks = json_object();
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        const char *state = rp->stopped_at[c] != MSP_NO_TIME ? "stopped"
                          : running[c] ? "running" : "paused";
        json_object_set_new(clocks, msp_clock_names[c], json_string(state));
    }
    windows_arg_t wa = { rp, json_array(), 0 };
    if (counted && seconds > 0) {
        msp_business_intervals(rp->cfg->calendar, from, to, add_window, &wa);
    }
    json_t *seg = json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:s, s:o, s:I, s:o}",
        "from", utc_or_null(from), "to", utc_or_null(to),
        "from_local", local_time(rp->cfg, from), "to_local", local_time(rp->cfg, to),
        "status", rp->status,
        "holder", holder >= 0 ? json_string(msp_side_names[holder]) : json_null(),
        "priority", priorities[rp->priority],
        "clocks", clocks,
        "business_seconds", (json_int_t) seconds,
        "working_windows", wa.windows);
    if (wa.truncated) {
        json_object_set_new(seg, "working_windows_truncated", json_true());
    }
    json_array_append_new(rp->segments, seg);
}

/* ---- the replay ----------------------------------------------------- */

/* Counts [from, to) under the ticket's current state; `current` is the
 * stretch up to now, explained even when it is still empty. */
static int
account(replay_t *rp, int64_t from, int64_t to, int current)
{
    if (to < from) {
        to = from;
    }
    int open = is_open(rp->status);
    int paused = open && is_paused(&rp->cfg->policy, rp->status);
    int holder = holder_of(rp->status, rp->side);
    int64_t seconds = open && to > from ? msp_business_between(rp->cfg->calendar, from, to) : 0;
    int running[MSP_CLOCK_COUNT];

    if (holder >= 0) {
        rp->held[holder] += seconds;
    }
    if (holder == MSP_SIDE_PROVIDER) {
        rp->held_tier[rp->tier] += seconds;
    }
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        running[c] = open && !paused && rp->stopped_at[c] == MSP_NO_TIME;
        if (!running[c] || seconds == 0) {
            continue;
        }
        run_t *r = realloc(rp->runs[c], (rp->nruns[c] + 1) * sizeof(run_t));
        if (r == NULL) {
            return -1;
        }
        rp->runs[c] = r;
        r[rp->nruns[c]++] = (run_t) { from, rp->elapsed[c], rp->elapsed[c] + seconds };
        rp->elapsed[c] += seconds;
    }
    if (rp->segments != NULL && (to > from || current)) {
        explain(rp, from, to, open, seconds, running, holder);
    }
    return 0;
}

static void
apply(replay_t *rp, const json_t *ev, int64_t at)
{
    const char *status = json_string_value(json_array_get(ev, 2));
    const char *side = json_string_value(json_array_get(ev, 3));
    int priority = msp_sla_priority_index(json_string_value(json_array_get(ev, 4)));

    if (status != NULL) {
        if (!is_open(status)) {
            for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
                if (rp->stopped_at[c] == MSP_NO_TIME) {
                    rp->stopped_at[c] = at;
                }
            }
        } else if (!is_open(rp->status)) {
            rp->stopped_at[MSP_CLOCK_RESOLUTION] = MSP_NO_TIME;    /* reopened */
        }
        rp->status = status;
    }
    if (side_index(side) >= 0) {
        rp->side = side_index(side);
    }
    if (priority >= 0) {
        rp->priority = priority;
    }
    /* the tier it moved to: a name, or "" for none; null when unchanged */
    const char *tier = json_string_value(json_array_get(ev, 8));
    for (int t = 0; tier != NULL && t < MSP_TIER_COUNT; t++) {
        if (strcmp(tier, msp_tier_names[t]) == 0 || (*tier == '\0' && t == MSP_TIER_NONE)) {
            rp->tier = t;
        }
    }
    if (json_is_true(json_array_get(ev, 5))
        && rp->stopped_at[MSP_CLOCK_RESPONSE] == MSP_NO_TIME)
    {
        rp->stopped_at[MSP_CLOCK_RESPONSE] = at;
    }
    const char *clock = json_string_value(json_array_get(ev, 6));
    json_int_t threshold = json_integer_value(json_array_get(ev, 7));
    for (int c = 0; clock != NULL && c < MSP_CLOCK_COUNT; c++) {
        if (strcmp(clock, msp_clock_names[c]) == 0 && threshold >= 1 && threshold <= 100) {
            rp->announced[c][threshold] = 1;
        }
    }
}

/* The instant clock c's elapsed time reached x (0 < x <= elapsed). */
static int64_t
reached_at(const replay_t *rp, int c, int64_t x)
{
    for (size_t i = 0; i < rp->nruns[c]; i++) {
        const run_t *r = &rp->runs[c][i];
        if (r->before < x && x <= r->after) {
            return msp_business_add(rp->cfg->calendar, r->from, x - r->before);
        }
    }
    return MSP_NO_TIME;
}

static int
alert_cmp(const void *a, const void *b)
{
    const msp_sla_alert_t *x = a, *y = b;
    if (x->at != y->at) {
        return x->at < y->at ? -1 : 1;
    }
    if (x->clock != y->clock) {
        return x->clock - y->clock;
    }
    return x->threshold - y->threshold;
}

/* Whether clock c announces reaching p percent of its target: the SLA
 * policy's warnings and breach on both clocks, and the escalation policy's
 * automatic steps on the resolution clock. */
static int
announces(const msp_sla_config_t *cfg, int c, int p)
{
    for (int i = 0; i < cfg->policy.nthresholds; i++) {
        if (cfg->policy.thresholds[i] == p) {
            return 1;
        }
    }
    return c == MSP_CLOCK_RESOLUTION
           && (p == cfg->steps.notify_lead_percent || p == cfg->steps.escalate_tier_percent);
}

static void
finish(replay_t *rp, int64_t now, msp_sla_snapshot_t *out)
{
    const msp_sla_policy_t *policy = &rp->cfg->policy;
    int open = is_open(rp->status);
    int paused = open && is_paused(policy, rp->status);

    out->as_of = now;
    out->holder = holder_of(rp->status, rp->side);
    memcpy(out->held, rp->held, sizeof(out->held));
    memcpy(out->held_tier, rp->held_tier, sizeof(out->held_tier));
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        msp_sla_clock_t *k = &out->clock[c];
        k->target = policy->target[c][rp->priority];
        k->elapsed = rp->elapsed[c];
        k->stopped_at = rp->stopped_at[c];
        k->running = open && !paused && k->stopped_at == MSP_NO_TIME;
        k->paused = paused && k->stopped_at == MSP_NO_TIME;
        int64_t rest = k->target - k->elapsed;
        if (rest <= 0) {
            k->due = reached_at(rp, c, k->target);
        } else if (k->stopped_at != MSP_NO_TIME) {
            k->due = msp_business_add(rp->cfg->calendar, k->stopped_at, rest);
        } else if (k->running) {
            k->due = msp_business_add(rp->cfg->calendar, now, rest);
        } else {
            k->due = MSP_NO_TIME;
        }
        if (k->due == INT64_MAX) {
            k->due = MSP_NO_TIME;    /* no working time for decades: never due */
        }

        for (int p = 1; p <= 100; p++) {
            int64_t x = k->target * p / 100;
            int64_t at = MSP_NO_TIME;
            if (!announces(rp->cfg, c, p) || rp->announced[c][p] || x <= 0) {
                continue;
            }
            if (k->stopped_at != MSP_NO_TIME) {
                /* A breach is news even when found late; a warning no longer is. */
                if (p == 100 && k->elapsed >= x) {
                    at = reached_at(rp, c, x);
                }
            } else if (k->elapsed >= x) {
                at = reached_at(rp, c, x);
            } else if (k->running) {
                at = msp_business_add(rp->cfg->calendar, now, x - k->elapsed);
            }
            if (at != MSP_NO_TIME && at != INT64_MAX) {
                /* A tier escalation waits for acceptance from when it is
                 * raised: when the step falls due, or now for one found
                 * late (a recompute of a ticket already past it). */
                int64_t ack = c == MSP_CLOCK_RESOLUTION
                              && p == rp->cfg->steps.escalate_tier_percent
                              && rp->cfg->steps.ack_seconds > 0
                              ? msp_business_add(rp->cfg->calendar, at > now ? at : now,
                                                 rp->cfg->steps.ack_seconds)
                              : MSP_NO_TIME;
                out->pending[out->npending++] = (msp_sla_alert_t) {
                    c, p, at, ack == INT64_MAX ? MSP_NO_TIME : ack
                };
            }
        }
    }
    qsort(out->pending, (size_t) out->npending, sizeof(out->pending[0]), alert_cmp);
}

int
msp_sla_replay(const msp_sla_config_t *cfg, const json_t *history, int64_t now,
               msp_sla_snapshot_t *out, json_t *segments)
{
    memset(out, 0, sizeof(*out));
    const json_t *first = json_array_get(history, 0);
    const char *kind = json_string_value(json_array_get(first, 1));
    if (cfg == NULL || kind == NULL || strcmp(kind, "created") != 0
        || msp_sla_priority_index(json_string_value(json_array_get(first, 4))) < 0)
    {
        return -1;
    }

    replay_t rp = { .cfg = cfg, .status = "new", .side = MSP_SIDE_PROVIDER,
                    .segments = segments };
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        rp.stopped_at[c] = MSP_NO_TIME;
    }
    int rc = 0;
    int64_t prev = json_integer_value(json_array_get(first, 0));
    size_t i;
    const json_t *ev;
    json_array_foreach(history, i, ev) {
        int64_t at = json_integer_value(json_array_get(ev, 0));
        if (at < prev) {
            at = prev;         /* history is in event order; never go back */
        }
        if (i > 0 && at > prev && account(&rp, prev, at, 0) != 0) {
            rc = -1;
            break;
        }
        apply(&rp, ev, at);
        prev = at;
    }
    if (rc == 0 && account(&rp, prev, now > prev ? now : prev, 1) == 0) {
        memcpy(out->config, cfg->sha, sizeof(out->config));
        finish(&rp, now > prev ? now : prev, out);
    } else {
        rc = -1;
    }
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        free(rp.runs[c]);
    }
    return rc;
}

/* ---- storing and showing -------------------------------------------- */

static json_t *
time_or_null(int64_t t)
{
    return t == MSP_NO_TIME ? json_null() : json_integer((json_int_t) t);
}

json_t *
msp_sla_snapshot_json(const msp_sla_snapshot_t *s)
{
    json_t *held = json_object(), *held_tier = json_object();
    json_t *doc = json_pack("{s:s, s:I, s:o, s:o, s:o}", "config", s->config,
                            "as_of", (json_int_t) s->as_of,
                            "holder", s->holder >= 0 ? json_string(msp_side_names[s->holder])
                                                     : json_null(),
                            "held", held, "held_provider_tier", held_tier);
    for (int i = 0; i < MSP_SIDE_COUNT; i++) {
        json_object_set_new(held, msp_side_names[i], json_integer((json_int_t) s->held[i]));
    }
    for (int i = 0; i < MSP_TIER_COUNT; i++) {
        json_object_set_new(held_tier, msp_tier_names[i],
                            json_integer((json_int_t) s->held_tier[i]));
    }
    for (int c = 0; doc != NULL && c < MSP_CLOCK_COUNT; c++) {
        const msp_sla_clock_t *k = &s->clock[c];
        json_object_set_new(doc, msp_clock_names[c], json_pack("{s:I, s:I, s:o, s:o, s:b, s:b}",
            "target", (json_int_t) k->target, "elapsed", (json_int_t) k->elapsed,
            "due", time_or_null(k->due), "stopped_at", time_or_null(k->stopped_at),
            "running", k->running, "paused", k->paused));
    }
    return doc;
}

json_t *
msp_sla_pending_json(const msp_sla_snapshot_t *s)
{
    json_t *list = json_array();
    for (int i = 0; list != NULL && i < s->npending; i++) {
        const msp_sla_alert_t *a = &s->pending[i];
        json_t *alert = json_pack("{s:s, s:i, s:o}", "clock", msp_clock_names[a->clock],
                                  "threshold", a->threshold, "at", utc_or_null(a->at));
        if (alert != NULL && a->ack_due != MSP_NO_TIME) {
            json_object_set_new(alert, "ack_due", utc_or_null(a->ack_due));
        }
        json_array_append_new(list, alert);
    }
    return list;
}

int64_t
msp_sla_breach_at(const msp_sla_snapshot_t *s)
{
    int64_t first = MSP_NO_TIME;
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        const msp_sla_clock_t *k = &s->clock[c];
        if (k->stopped_at == MSP_NO_TIME && k->due != MSP_NO_TIME
            && (first == MSP_NO_TIME || k->due < first))
        {
            first = k->due;
        }
    }
    return first;
}

const char *
msp_sla_needs_config(const json_t *stored)
{
    if (json_is_null(json_object_get(stored, "holder"))) {
        return NULL;          /* resolved or closed: every clock has stopped */
    }
    return json_string_value(json_object_get(stored, "config"));
}

static int64_t
stored_time(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t) json_integer_value(v) : MSP_NO_TIME;
}

json_t *
msp_sla_view(const json_t *stored, const msp_sla_config_t *cfg, int64_t now)
{
    if (!json_is_object(stored)) {
        return NULL;
    }
    int64_t as_of = stored_time(stored, "as_of");
    const char *holder = json_string_value(json_object_get(stored, "holder"));
    int64_t since = 0;
    if (holder != NULL && cfg != NULL && now > as_of) {
        since = msp_business_between(cfg->calendar, as_of, now);
    }

    json_t *view = json_object();
    for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
        const json_t *k = json_object_get(stored, msp_clock_names[c]);
        int64_t target = stored_time(k, "target");
        int64_t elapsed = stored_time(k, "elapsed");
        int64_t stopped = stored_time(k, "stopped_at");
        if (target <= 0 || elapsed == MSP_NO_TIME) {
            json_decref(view);
            return NULL;
        }
        if (json_is_true(json_object_get(k, "running"))) {
            elapsed += since;
        }
        const char *state = elapsed >= target ? "breached"
                          : stopped != MSP_NO_TIME ? "met"
                          : json_is_true(json_object_get(k, "paused")) ? "paused" : "running";
        /* Tenths of a percent, rounded down: 99.96% is not yet 100. */
        double percent = (double) (elapsed * 1000 / target) / 10.0;
        json_object_set_new(view, msp_clock_names[c], json_pack("{s:s, s:o, s:I, s:I, s:I, s:f, s:o}",
            "state", state, "due", utc_or_null(stored_time(k, "due")),
            "target_seconds", (json_int_t) target, "elapsed_seconds", (json_int_t) elapsed,
            "remaining_seconds", (json_int_t) (elapsed < target ? target - elapsed : 0),
            "percent_used", percent, "stopped_at", utc_or_null(stopped)));
    }

    const json_t *held = json_object_get(stored, "held");
    json_t *held_view = json_object();
    for (int i = 0; i < MSP_SIDE_COUNT; i++) {
        int64_t s = stored_time(held, msp_side_names[i]);
        s = s == MSP_NO_TIME ? 0 : s;
        if (holder != NULL && strcmp(holder, msp_side_names[i]) == 0) {
            s += since;
        }
        json_object_set_new(held_view, msp_side_names[i], json_integer((json_int_t) s));
    }
    json_object_set_new(view, "holder", holder ? json_string(holder) : json_null());
    json_object_set_new(view, "held_seconds", held_view);
    json_object_set_new(view, "as_of", utc_or_null(now > as_of ? now : as_of));
    return view;
}
