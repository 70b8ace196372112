/*
 * escalation_policy.h - who may move a ticket's work where: a tenant's
 * escalation policy, its defaults per co-management model, and the check
 * of one move against it.
 *
 * A policy is a list of rules {name, kind, roles, from, to, assign}: the
 * roles a rule lets raise escalations of its kind, on tickets held by the
 * sides in `from`, to the targets in `to`; `assign` lets them name who
 * receives the work.  A move is allowed when some rule covers it.  The
 * rules come from the tenant file's escalation_policy.rules, or, when it
 * has none, from the defaults of its co_management_model (README.md,
 * "The escalation policy").  New tickets go to internal IT when their
 * category is one of internal_categories, else to the intake side.
 *
 * Targets are strings: "provider:L1".."provider:L3", "internal_it" and
 * "vendor" (where work goes), "provider:lead", "provider:account_manager"
 * and "internal_it:it_leader" (whose attention a hierarchical escalation
 * asks for).
 */
#ifndef MSP_ESCALATION_POLICY_H
#define MSP_ESCALATION_POLICY_H

#include <jansson.h>

extern const char *const msp_esc_kinds[];      /* functional, handoff, hierarchical */
extern const char *const msp_esc_roles[];      /* the roles a rule may name */
extern const char *const msp_esc_from_sides[]; /* provider, internal_it, vendor, customer */
extern const char *const msp_esc_intakes[];    /* provider, internal_it */
#define MSP_ESC_TARGET_COUNT 8
/* every target, in rule order */
extern const char *const msp_esc_targets[MSP_ESC_TARGET_COUNT + 1];

/* Whether `target` is one of `kind`'s targets: functional goes to
 * provider:L2 or L3, a handoff to provider:L1..L3, internal_it or vendor,
 * a hierarchical escalation to a management role. */
int msp_esc_target_ok(const char *kind, const char *target);

/* A target's parts: the side, the tier ("L2", or NULL) and the role
 * ("lead", or NULL).  -1 when it is not a target. */
int msp_esc_target_split(const char *target, const char **side, const char **tier,
                         const char **role);

/* The default rules of a co-management model (a new array), or NULL for
 * an unknown model. */
json_t *msp_esc_default_rules(const char *model);
/* Where a model's new tickets go: "provider" or "internal_it". */
const char *msp_esc_default_intake(const char *model);

/*
 * The effective policy of a tenant: its model and its escalation_policy
 * as stored (normalized).  Returns a new object {model, intake,
 * internal_categories, acknowledgement_minutes, automatic, rules,
 * rules_from ("model" or "tenant_file"), matrix}, where matrix is {role:
 * {kind: [targets]}}; NULL when out of memory or for an unknown model.
 */
json_t *msp_esc_effective(const char *model, const json_t *escalation_policy);

/* The side a new ticket of this category goes to, by an effective policy. */
const char *msp_esc_intake_side(const json_t *effective, const char *category);

/*
 * Whether an effective policy lets `role` raise a `kind` escalation to
 * `target` on a ticket held by `holder`.  Returns 1 with *rule the rule
 * that allows it; 0 with *rule the first rule of this kind naming the
 * role (it does not cover the holder or the target), or NULL when no rule
 * of this kind names the role.
 */
int msp_esc_allowed(const json_t *effective, const char *role, const char *kind,
                    const char *holder, const char *target, const json_t **rule);

/* The side a principal works on: "provider" for provider staff,
 * "internal_it" for the tenant's it_staff and it_leader; NULL for roles
 * that do not work tickets (requesters, auditors, machine clients). */
const char *msp_esc_side_of(const char *role);

/*
 * Whether `role` (on its side) may accept or reject an escalation of
 * `kind` to `target` that left `from_side`; `tier` is the principal's
 * assignment tier in the tenant (NULL: none, or any).  On refusal *why
 * says who may.
 */
int msp_esc_may_decide(const char *role, const char *tier, const char *kind,
                       const char *target, const char *from_side, const char **why);

#endif
