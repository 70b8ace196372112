/*
 * tenant_normalize.c - msp_tenant_normalize(): a valid tenant document with
 * its defaults filled in and its set-like lists sorted, so that two files
 * that mean the same thing normalize to the same JSON.
 */
#include "tenants/tenant_file.h"
#include "tenants/tenant_check.h"

#include "escalations/escalation_policy.h"

#include <stdlib.h>
#include <string.h>

/* Sets obj[key] to value (a new reference, taken) unless key is present. */
static int
set_default(json_t *obj, const char *key, json_t *value)
{
    if (json_object_get(obj, key) != NULL) {
        json_decref(value);
        return 0;
    }
    return json_object_set_new(obj, key, value);
}

/* obj[key] as an object, created empty when absent; NULL on OOM. */
static json_t *
object_member(json_t *obj, const char *key)
{
    if (set_default(obj, key, json_object()) != 0) {
        return NULL;
    }
    return json_object_get(obj, key);
}

static const char *
string_member(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? s : "";
}

static int
compare_by_start(const void *a, const void *b)
{
    return strcmp(string_member(*(json_t *const *) a, "start"),
                  string_member(*(json_t *const *) b, "start"));
}

static int
compare_by_date(const void *a, const void *b)
{
    return strcmp(string_member(*(json_t *const *) a, "date"),
                  string_member(*(json_t *const *) b, "date"));
}

static int
compare_strings(const void *a, const void *b)
{
    const char *x = json_string_value(*(json_t *const *) a);
    const char *y = json_string_value(*(json_t *const *) b);

    return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

/*
 * Replaces the array obj[key] by a sorted copy.  "HH:MM" and "YYYY-MM-DD"
 * sort as strings in time order, and validation has made the keys within
 * one array distinct, so the result does not depend on the input order.
 */
static int
sort_member(json_t *obj, const char *key, int (*compare)(const void *, const void *))
{
    json_t *array = json_object_get(obj, key);
    size_t count = json_array_size(array);

    if (count < 2) {
        return 0;
    }

    json_t **items = malloc(count * sizeof(*items));
    json_t *sorted = json_array();
    int rc = 0;

    if (items == NULL || sorted == NULL) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        items[i] = json_array_get(array, i);
    }
    qsort(items, count, sizeof(*items), compare);
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = json_array_append(sorted, items[i]);
    }
    if (rc == 0) {
        rc = json_object_set(obj, key, sorted);
    }

done:
    json_decref(sorted);
    free(items);
    return rc;
}

/* Whole amounts are stored as integers, so 1500 and 1500.0 normalize alike. */
static int
canonicalize_amount(json_t *obj, const char *key)
{
    const double exact_limit = 9007199254740992.0;     /* 2^53 */
    json_t *value = json_object_get(obj, key);

    if (!json_is_real(value)) {
        return 0;
    }

    double amount = json_real_value(value);

    if (amount < -exact_limit || amount > exact_limit
        || (double) (json_int_t) amount != amount)
    {
        return 0;
    }
    return json_object_set_new(obj, key, json_integer((json_int_t) amount));
}

static void
default_ticket_prefix(const char *slug, char out[TICKET_PREFIX_MAX + 1])
{
    size_t n = 0;

    for (const char *p = slug; *p != '\0' && n < TICKET_PREFIX_MAX; p++) {
        if (*p != '-') {
            out[n++] = is_lower(*p) ? (char) (*p - 'a' + 'A') : *p;
        }
    }
    out[n] = '\0';
}

static int
normalize_ticket_prefix(json_t *doc)
{
    char prefix[TICKET_PREFIX_MAX + 1];

    default_ticket_prefix(string_member(doc, "slug"), prefix);
    return set_default(doc, "ticket_prefix", json_string(prefix));
}

/* A missing day and an empty day both mean no working hours: write []. */
static int
normalize_calendar(json_t *doc)
{
    json_t *calendar = object_member(doc, "calendar");

    if (calendar == NULL) {
        return -1;
    }
    for (int d = 0; msp_tf_week_days[d] != NULL; d++) {
        if (set_default(calendar, msp_tf_week_days[d], json_array()) != 0
            || sort_member(calendar, msp_tf_week_days[d],
                           compare_by_start) != 0)
        {
            return -1;
        }
    }
    return 0;
}

/* Absent hours and empty hours both mean closed all day: drop them. */
static int
normalize_holiday(json_t *holiday)
{
    json_t *hours = json_object_get(holiday, "hours");

    if (hours != NULL && json_array_size(hours) == 0) {
        return json_object_del(holiday, "hours");
    }
    return sort_member(holiday, "hours", compare_by_start);
}

static int
normalize_holidays(json_t *doc)
{
    if (set_default(doc, "holidays", json_array()) != 0
        || sort_member(doc, "holidays", compare_by_date) != 0)
    {
        return -1;
    }

    json_t *holidays = json_object_get(doc, "holidays");

    for (size_t i = 0; i < json_array_size(holidays); i++) {
        if (normalize_holiday(json_array_get(holidays, i)) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
normalize_sla_policy(json_t *doc)
{
    json_t *sla = object_member(doc, "sla_policy");

    if (sla == NULL
        || set_default(sla, "warning_thresholds",
                       json_pack("[iii]", 50, 75, 90)) != 0
        || set_default(sla, "pause_statuses",
                       json_pack("[ss]", msp_tf_pause_statuses[0],
                                 msp_tf_pause_statuses[1])) != 0
        || sort_member(sla, "pause_statuses", compare_strings) != 0)
    {
        return -1;
    }
    return 0;
}

/*
 * Replaces the array obj[key], whose items validation has made distinct
 * values of options, by the same values in the order of options.
 */
static int
order_member(json_t *obj, const char *key, const char *const options[])
{
    json_t *array = json_object_get(obj, key);
    json_t *ordered = json_array();
    int rc = ordered != NULL ? 0 : -1;

    for (int o = 0; rc == 0 && options[o] != NULL; o++) {
        for (size_t i = 0; i < json_array_size(array); i++) {
            if (msp_tf_string_equals(json_array_get(array, i), options[o])) {
                rc = json_array_append(ordered, json_array_get(array, i));
                break;
            }
        }
    }
    if (rc == 0) {
        rc = json_object_set(obj, key, ordered);
    }
    json_decref(ordered);
    return rc;
}

/*
 * Rules keep their order: it means something, as a refused move names the
 * first rule of its kind that names the role (msp_esc_allowed).  Within a
 * rule, roles, sides and targets take the order of their enumerations.
 * Absent rules and intake stay absent: the model's defaults are applied
 * when the policy is evaluated (msp_esc_effective), not written here.
 */
static int
normalize_escalation_rules(json_t *escalation)
{
    json_t *rules = json_object_get(escalation, "rules");

    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *rule = json_array_get(rules, i);

        if (set_default(rule, "assign", json_false()) != 0
            || order_member(rule, "roles", msp_esc_roles) != 0
            || order_member(rule, "from", msp_esc_from_sides) != 0
            || order_member(rule, "to", msp_esc_targets) != 0)
        {
            return -1;
        }
    }
    return 0;
}

static int
normalize_escalation_policy(json_t *doc)
{
    json_t *escalation = object_member(doc, "escalation_policy");

    if (escalation == NULL
        || set_default(escalation, "acknowledgement_minutes",
                       json_integer(30)) != 0
        || set_default(escalation, "internal_categories", json_array()) != 0
        || sort_member(escalation, "internal_categories", compare_strings) != 0)
    {
        return -1;
    }

    json_t *automatic = object_member(escalation, "automatic");

    if (automatic == NULL
        || set_default(automatic, "notify_lead_at_percent", json_integer(75)) != 0
        || set_default(automatic, "escalate_tier_at_percent", json_integer(90)) != 0
        || set_default(automatic, "hierarchical_on_breach", json_true()) != 0)
    {
        return -1;
    }
    return normalize_escalation_rules(escalation);
}

static int
normalize_contract(json_t *doc)
{
    json_t *contract = object_member(doc, "contract");

    if (contract == NULL
        || canonicalize_amount(contract, "monthly_fee") != 0
        || canonicalize_amount(contract, "hourly_rate") != 0
        || set_default(contract, "included_hours", json_integer(0)) != 0
        || canonicalize_amount(contract, "included_hours") != 0)
    {
        return -1;
    }
    return 0;
}

static int
normalize_reporting(json_t *doc)
{
    json_t *reporting = object_member(doc, "reporting");

    if (reporting == NULL
        || set_default(reporting, "recurrence_days", json_integer(30)) != 0
        || set_default(reporting, "reopen_days", json_integer(7)) != 0
        || set_default(reporting, "satisfaction_days", json_integer(14)) != 0
        || set_default(reporting, "pack_settle_hours", json_integer(24)) != 0)
    {
        return -1;
    }
    return 0;
}

static int
normalize_assets(json_t *doc)
{
    json_t *assets = object_member(doc, "assets");

    if (assets == NULL
        || set_default(assets, "patch_window_days", json_integer(30)) != 0
        || set_default(assets, "refresh_age_months", json_integer(48)) != 0
        || set_default(assets, "custom_fields", json_object()) != 0
        || set_default(assets, "services", json_array()) != 0
        || set_default(assets, "service_priority",
                       json_pack("{s:s, s:s}", "critical", "P1", "high", "P2")) != 0)
    {
        return -1;
    }
    return 0;
}

json_t *
msp_tenant_normalize(const json_t *doc)
{
    json_t *copy = json_deep_copy(doc);

    if (copy == NULL) {
        return NULL;
    }
    if (normalize_ticket_prefix(copy) != 0
        || normalize_calendar(copy) != 0
        || normalize_holidays(copy) != 0
        || normalize_sla_policy(copy) != 0
        || normalize_escalation_policy(copy) != 0
        || normalize_contract(copy) != 0
        || normalize_reporting(copy) != 0
        || normalize_assets(copy) != 0)
    {
        json_decref(copy);
        return NULL;
    }
    return copy;
}
