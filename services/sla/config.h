/*
 * config.h - a tenant's SLA configuration as the clocks use it: its
 * compiled calendar and its SLA policy, cached per process by the SHA-256
 * of the tenant document they come from.
 *
 * The tenant document (tenants/<slug>.json, normalized, stored in the
 * tenants table with its SHA-256) changes only through `mspctl tenant
 * apply`, and a change gives it a new SHA-256; so a cached configuration
 * never goes stale, and every ticket's SLA snapshot names the document it
 * was computed with.  The cache holds msp_sla_config_cache_size()
 * configurations (256 unless set), replacing the oldest one nobody holds;
 * a request that renders many tenants' tickets holds the configurations
 * it needs (msp_sla_config_hold) until it has answered, so that however
 * many tenants there are, what it shows is computed.  Each nginx worker
 * and each mspctl is single-threaded.
 */
#ifndef MSP_SLA_CONFIG_H
#define MSP_SLA_CONFIG_H

#include <jansson.h>
#include <stdint.h>

#include "sla/calendar.h"

#define MSP_SLA_SHA_LEN        64
#define MSP_SLA_MAX_THRESHOLDS 100   /* warnings (1..99) and the breach (100) */
#define MSP_SLA_CONFIG_CACHE   256   /* the default number of configurations cached */

/* The two clocks of a ticket. */
enum { MSP_CLOCK_RESPONSE, MSP_CLOCK_RESOLUTION, MSP_CLOCK_COUNT };
extern const char *const msp_clock_names[MSP_CLOCK_COUNT];   /* response, resolution */

typedef struct {
    /* business seconds, by clock and priority (P1..P4) */
    int64_t target[MSP_CLOCK_COUNT][4];
    /* percentages announced, increasing, the last always 100 (the breach) */
    int     thresholds[MSP_SLA_MAX_THRESHOLDS];
    int     nthresholds;
    /* the statuses that stop the clocks */
    unsigned pause_pending_customer:1;
    unsigned pause_pending_vendor:1;
} msp_sla_policy_t;

/* The escalation policy's automatic steps on the resolution clock, which
 * the breach sweep applies when that clock reaches them (so they are
 * announced like warnings), and its acknowledgement target. */
typedef struct {
    int     notify_lead_percent;      /* 0: none */
    int     escalate_tier_percent;    /* 0: none */
    int64_t ack_seconds;              /* business seconds */
} msp_sla_steps_t;

typedef struct {
    int               refs;           /* the cache's, and each holder's */
    char              sha[MSP_SLA_SHA_LEN + 1];
    msp_calendar_t   *calendar;
    msp_sla_policy_t  policy;
    msp_sla_steps_t   steps;
    json_t           *escalation;     /* msp_esc_effective(), NULL without a model */
} msp_sla_config_t;

/* Reads a normalized sla_policy object; -1 when it is not one. */
int msp_sla_policy_parse(const json_t *sla_policy, msp_sla_policy_t *out);

/* The cached configuration of the tenant document with this SHA-256, or
 * NULL when it is not cached. */
const msp_sla_config_t *msp_sla_config_find(const char *sha);

/* Keeps a cached configuration until msp_sla_config_release(): the cache
 * does not replace it meanwhile. */
void msp_sla_config_hold(const msp_sla_config_t *cfg);
void msp_sla_config_release(const msp_sla_config_t *cfg);

/* How many configurations the cache keeps (at least 1); a worker sets it
 * once, at start (the module's msp_sla_config_cache directive). */
void msp_sla_config_cache_size(size_t n);

/* A tenant document's columns as text: timezone, co_management_model,
 * and calendar, holidays, sla_policy and escalation_policy as JSON. */
typedef struct {
    const char *sha, *timezone, *calendar, *holidays, *sla_policy;
    const char *model, *escalation_policy;    /* NULL: no escalation policy */
} msp_tenant_columns_t;

/*
 * Compiles and caches the configuration of a tenant document.  Returns
 * the cached entry (the one already there, when it is), or NULL when the
 * parts do not compile; a short reason goes to err.
 */
const msp_sla_config_t *msp_sla_config_load(const msp_tenant_columns_t *doc, char *err,
                                             size_t errlen);

/* The priority's index (P1 -> 0 ... P4 -> 3), or -1. */
int msp_sla_priority_index(const char *priority);

#endif
