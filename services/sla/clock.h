/*
 * clock.h - a ticket's SLA clocks, replayed from its history.
 *
 * The clocks are a pure function of three things: the ticket's events
 * (app.ticket_sla_history() in migrations/0007_sla.sql), its tenant's
 * calendar and its SLA policy (config.h).  Replaying them gives a
 * *snapshot* as of an instant: for each clock its business seconds
 * elapsed, whether it runs, its due instant; and per side the business
 * seconds that side held the ticket.  Snapshots are stored on the ticket
 * (for queries and the breach sweep) and extended to the present when
 * shown, so a change of history, calendar or policy is a replay away and
 * never loses elapsed time.
 *
 * The rules, which the README states for users:
 *  - Both clocks start when the ticket is created and count business time
 *    only (the calendar's working windows, holidays excepted).
 *  - They pause while the status is one of the policy's pause statuses.
 *  - The response clock stops at the first public comment written by
 *    staff (any role but requester and machine clients), or when the
 *    ticket is resolved or closed, whichever comes first.
 *  - The resolution clock stops when the ticket is resolved or closed; a
 *    reopen (resolved -> an open status) resumes it where it stopped.
 *  - The target is the current priority's; a priority change keeps the
 *    elapsed time and measures it against the new target.
 *  - A clock is breached once its elapsed time reaches the target; due is
 *    the instant that happens (or happened, or would have, for a clock
 *    stopped in time).  A paused clock that is not breached has no due.
 *  - The ticket is held by its side (provider, internal_it, vendor,
 *    customer), except that pending_customer is held by the customer and
 *    pending_vendor by the vendor; held time counts business time while
 *    the ticket is open, paused or not.  The provider's held time is also
 *    kept by the tier that held it (none before a tier is set).
 */
#ifndef MSP_SLA_CLOCK_H
#define MSP_SLA_CLOCK_H

#include <jansson.h>
#include <stdint.h>

#include "sla/config.h"

#define MSP_NO_TIME INT64_MIN

enum { MSP_SIDE_PROVIDER, MSP_SIDE_INTERNAL_IT, MSP_SIDE_VENDOR, MSP_SIDE_CUSTOMER,
       MSP_SIDE_COUNT };
extern const char *const msp_side_names[MSP_SIDE_COUNT];

/* The provider's tiers, as held time is kept by them: "none" is the time
 * the provider held a ticket no tier had been given. */
enum { MSP_TIER_NONE, MSP_TIER_L1, MSP_TIER_L2, MSP_TIER_L3, MSP_TIER_COUNT };
extern const char *const msp_tier_names[MSP_TIER_COUNT];

typedef struct {
    int64_t  target;        /* business seconds */
    int64_t  elapsed;       /* business seconds, as of the snapshot */
    int64_t  due;           /* MSP_NO_TIME: paused before the target */
    int64_t  stopped_at;    /* MSP_NO_TIME: not stopped */
    unsigned running:1;     /* counting at the snapshot's instant */
    unsigned paused:1;      /* open, but in a pause status */
} msp_sla_clock_t;

/* A warning or breach to announce: when a clock reaches a threshold. */
typedef struct {
    int     clock;          /* MSP_CLOCK_* */
    int     threshold;      /* percent; 100 is the breach */
    int64_t at;
    int64_t ack_due;        /* for the escalation policy's tier step: when the
                               escalation it raises must be accepted, else
                               MSP_NO_TIME */
} msp_sla_alert_t;

typedef struct {
    char             config[MSP_SLA_SHA_LEN + 1];
    int64_t          as_of;
    msp_sla_clock_t  clock[MSP_CLOCK_COUNT];
    int64_t          held[MSP_SIDE_COUNT];
    int64_t          held_tier[MSP_TIER_COUNT];    /* the provider's, by tier */
    int              holder;        /* MSP_SIDE_*, -1 once resolved or closed */
    /* not yet announced, by instant */
    msp_sla_alert_t  pending[MSP_CLOCK_COUNT * MSP_SLA_MAX_THRESHOLDS];
    int              npending;
} msp_sla_snapshot_t;

/*
 * Replays a history (the JSON array of app.ticket_sla_history) up to now.
 * When segments is not NULL, appends to it one object per stretch of the
 * history between two events, for a person to check the arithmetic: its
 * bounds, the status, holder and priority in force, each clock's state,
 * the business seconds counted and the working windows they came from.
 * Returns -1 when the history is not one (no created event first).
 */
int msp_sla_replay(const msp_sla_config_t *cfg, const json_t *history, int64_t now,
                   msp_sla_snapshot_t *out, json_t *segments);

/* The snapshot as stored in tickets.sla (new reference; NULL on OOM). */
json_t *msp_sla_snapshot_json(const msp_sla_snapshot_t *s);
/* The pending alerts as stored in tickets.sla_pending. */
json_t *msp_sla_pending_json(const msp_sla_snapshot_t *s);
/* The earliest due instant of a clock that is not stopped, or MSP_NO_TIME. */
int64_t msp_sla_breach_at(const msp_sla_snapshot_t *s);

/*
 * The "sla" member users see, from a stored snapshot extended to now: per
 * clock its state (running, paused, met, breached), target, elapsed and
 * remaining seconds, percent used, due and stopped instants; per side the
 * seconds held.  cfg may be NULL when nothing runs (msp_sla_needs_config).
 * New reference, or NULL when stored is not a snapshot.
 */
json_t *msp_sla_view(const json_t *stored, const msp_sla_config_t *cfg, int64_t now);

/* The tenant document a stored snapshot needs to be extended to the
 * present, or NULL when nothing in it runs any more. */
const char *msp_sla_needs_config(const json_t *stored);

#endif
