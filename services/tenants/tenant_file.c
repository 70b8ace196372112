/*
 * tenant_file.c - the tenant file as a whole: msp_tenant_validate() with
 * the top-level fields and the contract, and msp_timezone_exists().
 *
 * The calendar and holidays, the SLA policy and the escalation policy are
 * checked in tenant_calendar.c, tenant_sla_policy.c and
 * tenant_escalation_policy.c, all with the rule tables and walker of
 * tenant_check.h (which says how validation works); tenant_normalize.c
 * holds msp_tenant_normalize().
 */
#include "common/currency.h"
#include "tenants/tenant_file.h"
#include "tenants/tenant_check.h"
#include "common/slug.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TERM_MONTHS_MAX       120
#define DEFAULT_ZONEINFO_DIR  "/usr/share/zoneinfo"
#define ZONE_NAME_MAX         255


static const char *const co_management_models[] = {
    "fully_managed", "co_managed", "staff_augmentation", "project",
    "on_demand", NULL
};


/* ---- top-level scalars ------------------------------------------------ */

static void
check_slug(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);
    const char *problem = msp_slug_problem(s, json_string_length(value));
    if (problem != NULL) {
        msp_errors_add(errs, path, "%s", problem);
        return;
    }
    /* Tokens name the provider's staff with msp_org "provider". */
    if (strcmp(s, "provider") == 0) {
        msp_errors_add(errs, path, "\"provider\" is the provider's own organisation, not a "
                       "tenant");
    }
}

static void
check_ticket_prefix(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    int ok = len >= 2 && len <= TICKET_PREFIX_MAX && is_upper(s[0]);

    for (size_t i = 1; ok && i < len; i++) {
        ok = is_upper(s[i]) || is_digit(s[i]);
    }
    if (!ok) {
        msp_errors_add(errs, path,
                       "must be 2 to 10 characters: an upper-case letter, "
                       "then upper-case letters or digits");
    }
}

static void
check_timezone(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (!msp_tf_require_kind(value, KIND_STRING, path, errs)) {
        return;
    }

    const char *name = json_string_value(value);
    int embedded_nul = strlen(name) != json_string_length(value);

    if (embedded_nul || !msp_timezone_exists(name)) {
        msp_errors_add(errs, path, "unknown timezone '%.64s'", name);
    }
}

static void
check_co_management_model(const json_t *value, const char *path,
                          msp_errors_t *errs)
{
    msp_tf_check_one_of(value, path, co_management_models, errs);
}


/* ---- contract --------------------------------------------------------- */

static void
check_term_months(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, TERM_MONTHS_MAX, errs);
}

static void
check_amount(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (msp_tf_require_kind(value, KIND_NUMBER, path, errs)
        && json_number_value(value) < 0)
    {
        msp_errors_add(errs, path, "must not be negative");
    }
}

static void
check_currency(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (msp_tf_require_kind(value, KIND_STRING, path, errs)
        && msp_currency_digits(json_string_value(value)) < 0)
    {
        msp_errors_add(errs, path,
                       "must be an ISO 4217 currency in circulation, in capitals, "
                       "e.g. USD");
    }
}

/* Hours a month a contract's fee covers, and people it supports: large
 * bounds that only catch a slip of the keyboard. */
#define INCLUDED_HOURS_MAX  100000
#define SUPPORTED_USERS_MAX 10000000

static void
check_included_hours(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (msp_tf_require_kind(value, KIND_NUMBER, path, errs)
        && (json_number_value(value) < 0 || json_number_value(value) > INCLUDED_HOURS_MAX))
    {
        msp_errors_add(errs, path, "must be from 0 to 100000 hours a month");
    }
}

static void
check_supported_users(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 0, SUPPORTED_USERS_MAX, errs);
}

/* The service levels the contract commits to, which the quarterly review
 * pack measures the quarter against: shares from 0 to 1 (at least, or at
 * most for the rates of reopened and recurring tickets), a mean rating
 * from 1 to 5. */
static void
check_share(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (msp_tf_require_kind(value, KIND_NUMBER, path, errs)
        && (json_number_value(value) < 0 || json_number_value(value) > 1))
    {
        msp_errors_add(errs, path, "must be a share from 0 to 1 (0.95 for 95%%)");
    }
}

static void
check_score(const json_t *value, const char *path, msp_errors_t *errs)
{
    if (msp_tf_require_kind(value, KIND_NUMBER, path, errs)
        && (json_number_value(value) < 1 || json_number_value(value) > 5))
    {
        msp_errors_add(errs, path, "must be a mean rating from 1 to 5");
    }
}

static const field_rule_t target_rules[] = {
    { "response_attainment",           0, check_share },
    { "resolution_attainment",         0, check_share },
    { "first_contact_resolution_rate", 0, check_share },
    { "reopen_rate",                   0, check_share },
    { "recurrence_rate",               0, check_share },
    { "satisfaction",                  0, check_score },
    { NULL,                            0, NULL }
};

static void
check_targets(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_object(value, path, target_rules, errs);
}

static const field_rule_t contract_rules[] = {
    { "monthly_fee",     1, check_amount },
    { "hourly_rate",     1, check_amount },
    { "currency",        1, check_currency },
    { "included_hours",  0, check_included_hours },
    { "supported_users", 0, check_supported_users },
    { "start_date",      0, msp_tf_check_date },
    { "term_months",     0, check_term_months },
    { "targets",         0, check_targets },
    { NULL,              0, NULL }
};

static void
check_contract(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_object(value, path, contract_rules, errs);
}


/* ---- reporting -------------------------------------------------------- */

/* How far back a ticket's category counts as recurring (METRICS.md). */
#define RECURRENCE_DAYS_MAX 365

static void
check_recurrence_days(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, RECURRENCE_DAYS_MAX, errs);
}

/* How long after a resolution a reopening still counts against it; a
 * period's figures are final once it has passed (METRICS.md). */
#define REOPEN_DAYS_MAX 90

static void
check_reopen_days(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, REOPEN_DAYS_MAX, errs);
}

/* How long after its resolution a ticket's requester may rate it. */
#define SATISFACTION_DAYS_MAX 90

static void
check_satisfaction_days(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 1, SATISFACTION_DAYS_MAX, errs);
}

/* How long after a period's end its scheduled review packs wait, so that
 * late records (a ticket closed on the evening of the last day, time
 * logged the next morning) are in them. */
#define PACK_SETTLE_HOURS_MAX 720

static void
check_pack_settle_hours(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_integer_range(value, path, 0, PACK_SETTLE_HOURS_MAX, errs);
}

static const field_rule_t reporting_rules[] = {
    { "recurrence_days", 0, check_recurrence_days },
    { "reopen_days",     0, check_reopen_days },
    { "satisfaction_days", 0, check_satisfaction_days },
    { "pack_settle_hours", 0, check_pack_settle_hours },
    { NULL,              0, NULL }
};

static void
check_reporting(const json_t *value, const char *path, msp_errors_t *errs)
{
    msp_tf_check_object(value, path, reporting_rules, errs);
}


/* ---- the document ----------------------------------------------------- */

static const field_rule_t tenant_rules[] = {
    { "slug",                1, check_slug },
    { "name",                1, msp_tf_check_display_text },
    { "ticket_prefix",       0, check_ticket_prefix },
    { "timezone",            1, check_timezone },
    { "co_management_model", 1, check_co_management_model },
    { "calendar",            1, msp_tf_check_calendar },
    { "holidays",            0, msp_tf_check_holidays },
    { "sla_policy",          1, msp_tf_check_sla_policy },
    { "escalation_policy",   0, msp_tf_check_escalation_policy },
    { "contract",            1, check_contract },
    { "reporting",           0, check_reporting },
    { "assets",              0, msp_tf_check_assets },
    { NULL,                  0, NULL }
};

static void
check_slug_matches_file(const json_t *doc, const char *expected_slug,
                        msp_errors_t *errs)
{
    const json_t *slug = json_object_get(doc, "slug");

    if (json_is_string(slug) && !msp_tf_string_equals(slug, expected_slug)) {
        msp_errors_add(errs, "slug", "must be '%s', as the file is %s.json",
                       expected_slug, expected_slug);
    }
}

int
msp_tenant_validate(const json_t *doc, const char *expected_slug,
                    msp_errors_t *errs)
{
    size_t before = errs->n + errs->dropped;

    if (!json_is_object(doc)) {
        msp_errors_add(errs, "", "must be a JSON object");
        return -1;
    }
    msp_tf_check_object(doc, "", tenant_rules, errs);
    if (expected_slug != NULL) {
        check_slug_matches_file(doc, expected_slug, errs);
    }
    return errs->n + errs->dropped == before ? 0 : -1;
}


/* ---- time zones ------------------------------------------------------- */

/*
 * Only characters that occur in IANA zone names, in components that are
 * not empty.  '.' is not among them, so no component can be "..", and a
 * leading '/' is refused, so the name can never leave the zoneinfo
 * directory.  Refusing "Europe//Berlin" and "Europe/" keeps one spelling
 * per zone for what is stored and handed to PostgreSQL.
 */
static int
is_safe_zone_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > ZONE_NAME_MAX
        || name[0] == '/' || name[len - 1] == '/')
    {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (c == '/' && i > 0 && name[i - 1] == '/') {
            return 0;
        }
        if (!is_lower(c) && !is_upper(c) && !is_digit(c)
            && c != '/' && c != '_' && c != '-' && c != '+')
        {
            return 0;
        }
    }
    return 1;
}

/*
 * Directories, zone.tab and other non-zone files live beside the zones;
 * the magic tells them apart.  O_NONBLOCK keeps a FIFO from hanging us.
 */
static int
is_tzif_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        return 0;
    }

    struct stat st;
    char magic[4];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
             && read(fd, magic, sizeof(magic)) == (ssize_t) sizeof(magic)
             && memcmp(magic, "TZif", sizeof(magic)) == 0;

    close(fd);
    return ok;
}

int
msp_timezone_exists(const char *name)
{
    char path[4096];

    if (name == NULL || !is_safe_zone_name(name)) {
        return 0;
    }

    const char *dir = secure_getenv("MSP_ZONEINFO_DIR");

    if (dir == NULL || dir[0] == '\0') {
        dir = DEFAULT_ZONEINFO_DIR;
    }

    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (n < 0 || (size_t) n >= sizeof(path)) {
        return 0;
    }
    return is_tzif_file(path);
}
