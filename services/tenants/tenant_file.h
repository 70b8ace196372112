/*
 * tenant_file.h - tenants as code: the tenants/<slug>.json format.
 *
 * Each tenant is described by one JSON file kept in version control: its
 * name, IANA timezone, business calendar, holidays, co-management model,
 * SLA policy, escalation policy and contract terms.  tenants/FORMAT.md is
 * the user-facing description of the format; this file is its one
 * implementation, shared by mspctl (`tenant apply`, `tenant check`) and
 * anything else that reads a tenant file.
 *
 * Reading a file is three steps: parse it with jansson, validate it with
 * msp_tenant_validate() (which reports every problem at once, each under a
 * JSON path such as "calendar.monday[1].end"), then normalize it with
 * msp_tenant_normalize() so that the rest of the system never deals with
 * absent optional fields or with the order in which a user happened to
 * write windows and holidays.
 */
#ifndef MSP_TENANT_FILE_H
#define MSP_TENANT_FILE_H

#include <jansson.h>

#include "common/errors.h"

/*
 * Validates a parsed tenant document.  expected_slug (may be NULL) is the
 * file's base name without .json; the slug field must equal it.  Adds one
 * error per problem to errs, each naming the field as a JSON path, e.g.
 * "calendar.monday[1].end", "holidays[2].date",
 * "sla_policy.priorities.P1.resolution_minutes" (the document itself, when
 * it is not an object, is the empty path "").  Collects all errors, does
 * not stop at the first.  Returns 0 when valid, -1 otherwise; errors that
 * were already in errs before the call do not count.
 */
int msp_tenant_validate(const json_t *doc, const char *expected_slug,
                        msp_errors_t *errs);

/*
 * Returns a new reference: the document with defaults filled in
 * (ticket_prefix, holidays, sla_policy.pause_statuses,
 * sla_policy.warning_thresholds, escalation_policy defaults, each
 * escalation rule's assign, contract.included_hours,
 * reporting.recurrence_days and reopen_days, an empty window list for each
 * day without one) and each day's windows, the holidays, and the set-like string
 * lists sorted (an escalation rule's roles, from and to in the order of
 * their enumerations), so that two files that mean the same thing
 * normalize to the same JSON (json_equal).  escalation_policy.intake and
 * .rules are not filled in: the co-management model's defaults for them
 * are applied when the policy is evaluated (msp_esc_effective).  The
 * default ticket_prefix is the slug upper-cased with hyphens removed,
 * truncated to 10 characters ("acme-corp" -> "ACMECORP").  Only call on a
 * valid document.  NULL on out-of-memory.
 */
json_t *msp_tenant_normalize(const json_t *doc);

/*
 * Nonzero when name is an IANA zone present in the zoneinfo directory
 * (default /usr/share/zoneinfo, overridable for tests by env
 * MSP_ZONEINFO_DIR): a safe relative name (letters, digits, '/', '_', '-',
 * '+'; no "..", no leading '/'), naming a regular file that begins with
 * the magic "TZif".
 */
int msp_timezone_exists(const char *name);

#endif
