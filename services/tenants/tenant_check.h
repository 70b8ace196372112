/*
 * tenant_check.h - internal to services/tenants/: the machinery the
 * tenant file validator is built from, shared by the files that check its
 * sections (tenant_calendar.c, tenant_sla_policy.c,
 * tenant_escalation_policy.c, tenant_file.c) and by tenant_normalize.c.
 * Nothing outside tenants/ includes it; tenant_file.h is the API.
 *
 * The format is declared as tables of field rules (one table per JSON
 * object: which keys exist, which are required, which function checks each
 * value), walked by msp_tf_check_object().  Rules that relate two fields,
 * such as "end must be after start" or "no two holidays on one date", run
 * after the walk, and only on values that passed their own checks, so a
 * single mistake is reported once and not again by every rule that
 * touches it.
 *
 * Every check reports under the JSON path of the value it looked at and
 * carries on: a user fixing a file wants to see all its mistakes at once.
 *
 * All of libmsp.a is one namespace, so the functions and tables here
 * begin with msp_tf_ (tenant file); types and macros, which the linker
 * never sees, keep short names.
 */
#ifndef MSP_TENANT_CHECK_H
#define MSP_TENANT_CHECK_H

#include <jansson.h>
#include <stddef.h>

#include "common/errors.h"

/* Paths longer than what an error can hold would be cut there anyway. */
#define FIELD_PATH_SIZE       sizeof(((msp_field_error_t *) 0)->field)

#define SLA_MINUTES_MAX       5256000      /* ten years */
#define TICKET_PREFIX_MAX     10

static inline int
is_lower(char c) { return c >= 'a' && c <= 'z'; }

static inline int
is_upper(char c) { return c >= 'A' && c <= 'Z'; }

static inline int
is_digit(char c) { return c >= '0' && c <= '9'; }


/* ---- JSON paths (tenant_check.c) -------------------------------------- */

/* out (FIELD_PATH_SIZE bytes) = "parent.key", or "key" when parent is "". */
void msp_tf_path_member(char *out, const char *parent, const char *key);
/* out (FIELD_PATH_SIZE bytes) = "parent[index]". */
void msp_tf_path_index(char *out, const char *parent, size_t index);


/* ---- JSON values (tenant_check.c) ------------------------------------- */

typedef enum {
    KIND_OBJECT,
    KIND_ARRAY,
    KIND_STRING,
    KIND_INTEGER,
    KIND_NUMBER,
    KIND_BOOLEAN
} value_kind_t;

/* Returns 1 when value has the kind; otherwise reports it and returns 0. */
int msp_tf_require_kind(const json_t *value, value_kind_t kind,
                        const char *path, msp_errors_t *errs);

/* Whether value is a string equal to literal. */
int msp_tf_string_equals(const json_t *value, const char *literal);
/* Whether two JSON strings are equal, byte for byte. */
int msp_tf_strings_equal(const json_t *a, const json_t *b);

/* Index of value in a NULL-terminated list of strings, or -1. */
int msp_tf_index_in(const json_t *value, const char *const options[]);

/* Returns value's index in options when it is one of them; else reports. */
int msp_tf_check_one_of(const json_t *value, const char *path,
                        const char *const options[], msp_errors_t *errs);

/*
 * An array of distinct values from options (a NULL-terminated list of at
 * most 32), empty only when may_be_empty.  Each item is reported under its
 * own index.
 */
void msp_tf_check_option_set(const json_t *value, const char *path,
                             const char *const options[], int may_be_empty,
                             msp_errors_t *errs);


/* ---- objects: the rule tables and their walker (tenant_check.c) ------- */

typedef void (*check_fn)(const json_t *value, const char *path,
                         msp_errors_t *errs);

typedef struct {
    const char *key;
    int         required;
    check_fn    check;
} field_rule_t;

/*
 * Checks that value is an object holding only the keys in rules (a table
 * ended by a NULL key), that the required ones are present, and runs each
 * present member's check.  Returns 1 when value is an object at all, so a
 * caller knows whether its own cross-field rules can look inside.
 */
int msp_tf_check_object(const json_t *value, const char *path,
                        const field_rule_t *rules, msp_errors_t *errs);


/* ---- scalars (tenant_check.c) ----------------------------------------- */

/* Returns 1 when value is an integer in [min, max]; otherwise reports. */
int msp_tf_check_integer_range(const json_t *value, const char *path,
                               json_int_t min, json_int_t max,
                               msp_errors_t *errs);

/* A target in minutes (sla_policy, escalation_policy): 1 to SLA_MINUTES_MAX. */
void msp_tf_check_minutes(const json_t *value, const char *path,
                          msp_errors_t *errs);

/* A name shown to people: the tenant's, a holiday's. */
void msp_tf_check_display_text(const json_t *value, const char *path,
                               msp_errors_t *errs);


/* ---- the sections ----------------------------------------------------- */

/* tenant_calendar.c */
extern const char *const msp_tf_week_days[];    /* monday ... sunday */
/* "YYYY-MM-DD", a day that exists in the Gregorian calendar. */
void msp_tf_check_date(const json_t *value, const char *path,
                       msp_errors_t *errs);
void msp_tf_check_calendar(const json_t *value, const char *path,
                           msp_errors_t *errs);
void msp_tf_check_holidays(const json_t *value, const char *path,
                           msp_errors_t *errs);

/* tenant_sla_policy.c */
extern const char *const msp_tf_pause_statuses[];
void msp_tf_check_sla_policy(const json_t *value, const char *path,
                             msp_errors_t *errs);

/* tenant_escalation_policy.c */
/* tenant_assets.c */
void msp_tf_check_assets(const json_t *value, const char *path, msp_errors_t *errs);

void msp_tf_check_escalation_policy(const json_t *value, const char *path,
                                    msp_errors_t *errs);

#endif
