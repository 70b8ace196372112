/*
 * config.c - SLA configurations, compiled once per tenant document.
 */
#include "sla/config.h"

#include "escalations/escalation_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const msp_clock_names[MSP_CLOCK_COUNT] = { "response", "resolution" };

/* The cached configurations, oldest first; a held one may be kept past
 * the capacity until its holders release it. */
static msp_sla_config_t **cache;
static size_t             cache_used;
static size_t             cache_alloc;
static size_t             cache_capacity = MSP_SLA_CONFIG_CACHE;

int
msp_sla_priority_index(const char *priority)
{
    if (priority != NULL && priority[0] == 'P' && priority[1] >= '1' && priority[1] <= '4'
        && priority[2] == '\0')
    {
        return priority[1] - '1';
    }
    return -1;
}

int
msp_sla_policy_parse(const json_t *sla_policy, msp_sla_policy_t *out)
{
    static const char *const keys[MSP_CLOCK_COUNT] = {
        "first_response_minutes", "resolution_minutes"
    };
    static const char *const priorities[4] = { "P1", "P2", "P3", "P4" };

    memset(out, 0, sizeof(*out));
    const json_t *by_priority = json_object_get(sla_policy, "priorities");
    for (int p = 0; p < 4; p++) {
        const json_t *targets = json_object_get(by_priority, priorities[p]);
        for (int c = 0; c < MSP_CLOCK_COUNT; c++) {
            const json_t *minutes = json_object_get(targets, keys[c]);
            if (!json_is_integer(minutes) || json_integer_value(minutes) <= 0) {
                return -1;
            }
            out->target[c][p] = (int64_t) json_integer_value(minutes) * 60;
        }
    }

    /* Warnings in increasing order (the format insists), then the breach. */
    const json_t *warnings = json_object_get(sla_policy, "warning_thresholds");
    size_t i;
    const json_t *w;
    json_array_foreach(warnings, i, w) {
        json_int_t v = json_integer_value(w);
        if (!json_is_integer(w) || v < 1 || v > 99
            || (out->nthresholds > 0 && v <= out->thresholds[out->nthresholds - 1])
            || out->nthresholds >= MSP_SLA_MAX_THRESHOLDS - 1)
        {
            return -1;
        }
        out->thresholds[out->nthresholds++] = (int) v;
    }
    out->thresholds[out->nthresholds++] = 100;

    const json_t *pauses = json_object_get(sla_policy, "pause_statuses");
    json_array_foreach(pauses, i, w) {
        const char *s = json_string_value(w);
        if (s != NULL && strcmp(s, "pending_customer") == 0) {
            out->pause_pending_customer = 1;
        } else if (s != NULL && strcmp(s, "pending_vendor") == 0) {
            out->pause_pending_vendor = 1;
        } else {
            return -1;
        }
    }
    return 0;
}

const msp_sla_config_t *
msp_sla_config_find(const char *sha)
{
    if (sha == NULL || strlen(sha) != MSP_SLA_SHA_LEN) {
        return NULL;
    }
    for (size_t i = 0; i < cache_used; i++) {
        if (strcmp(cache[i]->sha, sha) == 0) {
            return cache[i];
        }
    }
    return NULL;
}

static void
config_free(msp_sla_config_t *cfg)
{
    msp_calendar_free(cfg->calendar);
    json_decref(cfg->escalation);
    free(cfg);
}

void
msp_sla_config_hold(const msp_sla_config_t *cfg)
{
    ((msp_sla_config_t *) cfg)->refs++;
}

void
msp_sla_config_release(const msp_sla_config_t *cfg)
{
    msp_sla_config_t *c = (msp_sla_config_t *) cfg;
    if (--c->refs == 0) {
        config_free(c);
    }
}

void
msp_sla_config_cache_size(size_t n)
{
    cache_capacity = n > 0 ? n : 1;
}

/* Makes room for one more: drops the oldest configurations nobody else
 * holds while the cache is at capacity.  -1 when out of memory. */
static int
cache_make_room(void)
{
    for (size_t i = 0; i < cache_used && cache_used >= cache_capacity; ) {
        if (cache[i]->refs > 1) {
            i++;
            continue;
        }
        msp_sla_config_release(cache[i]);
        memmove(&cache[i], &cache[i + 1], (cache_used - i - 1) * sizeof(cache[0]));
        cache_used--;
    }
    if (cache_used == cache_alloc) {
        size_t n = cache_alloc ? cache_alloc * 2 : 16;
        msp_sla_config_t **grown = realloc(cache, n * sizeof(cache[0]));
        if (grown == NULL) {
            return -1;
        }
        cache = grown;
        cache_alloc = n;
    }
    return 0;
}

/* The automatic steps and acknowledgement target of a normalized
 * escalation_policy (absent members: none). */
static void
steps_parse(const json_t *escalation_policy, msp_sla_steps_t *out)
{
    const json_t *automatic = json_object_get(escalation_policy, "automatic");
    json_int_t notify = json_integer_value(json_object_get(automatic, "notify_lead_at_percent"));
    json_int_t tier = json_integer_value(json_object_get(automatic, "escalate_tier_at_percent"));
    json_int_t ack = json_integer_value(json_object_get(escalation_policy,
                                                        "acknowledgement_minutes"));
    out->notify_lead_percent = notify >= 1 && notify <= 100 ? (int) notify : 0;
    out->escalate_tier_percent = tier >= 1 && tier <= 100 ? (int) tier : 0;
    out->ack_seconds = ack > 0 ? (int64_t) ack * 60 : 0;
}

const msp_sla_config_t *
msp_sla_config_load(const msp_tenant_columns_t *doc, char *err, size_t errlen)
{
    const char *sha = doc->sha;
    const msp_sla_config_t *found = msp_sla_config_find(sha);
    if (found != NULL) {
        return found;
    }
    if (sha == NULL || strlen(sha) != MSP_SLA_SHA_LEN) {
        snprintf(err, errlen, "not a document SHA-256");
        return NULL;
    }

    json_t *cal_doc = json_loads(doc->calendar ? doc->calendar : "", 0, NULL);
    json_t *hol_doc = json_loads(doc->holidays ? doc->holidays : "", 0, NULL);
    json_t *pol_doc = json_loads(doc->sla_policy ? doc->sla_policy : "", 0, NULL);
    json_t *esc_doc = doc->escalation_policy
                      ? json_loads(doc->escalation_policy, 0, NULL) : NULL;
    json_t *escalation = NULL;
    msp_sla_policy_t policy;
    msp_sla_steps_t steps = { 0 };
    msp_calendar_t *cal = NULL;

    if (pol_doc == NULL || msp_sla_policy_parse(pol_doc, &policy) != 0) {
        snprintf(err, errlen, "the SLA policy is not a normalized sla_policy");
    } else if (doc->model != NULL
               && (escalation = msp_esc_effective(doc->model, esc_doc)) == NULL)
    {
        snprintf(err, errlen, "the escalation policy is not a normalized escalation_policy");
    } else {
        steps_parse(esc_doc, &steps);
        cal = msp_calendar_new(doc->timezone, cal_doc, hol_doc, err, errlen);
    }
    json_decref(cal_doc);
    json_decref(hol_doc);
    json_decref(pol_doc);
    json_decref(esc_doc);
    if (cal == NULL) {
        json_decref(escalation);
        return NULL;
    }

    msp_sla_config_t *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL || cache_make_room() != 0) {
        snprintf(err, errlen, "out of memory");
        free(cfg);
        msp_calendar_free(cal);
        json_decref(escalation);
        return NULL;
    }
    cfg->refs = 1;
    memcpy(cfg->sha, sha, MSP_SLA_SHA_LEN + 1);
    cfg->calendar = cal;
    cfg->policy = policy;
    cfg->steps = steps;
    cfg->escalation = escalation;
    cache[cache_used++] = cfg;
    return cfg;
}
