/*
 * ticket_rules.h - the rules of a ticket's life that do not need the
 * database: ITIL priority from impact and urgency, the status lifecycle,
 * and which roles may do what.
 */
#ifndef MSP_TICKET_RULES_H
#define MSP_TICKET_RULES_H

#include "auth/principal.h"

extern const char *const msp_levels[];     /* high, medium, low */
extern const char *const msp_statuses[];   /* new ... closed */
extern const char *const msp_sides[];      /* provider, internal_it, vendor, customer */
extern const char *const msp_tiers[];      /* L1, L2, L3 */

/* ITIL impact x urgency matrix:
 *              urgency high  medium  low
 *   impact high        P1     P2     P3
 *          medium      P2     P3     P4
 *          low         P3     P4     P4
 * NULL for a value outside high/medium/low. */
const char *msp_priority(const char *impact, const char *urgency);

/* The higher of priority and floor (P1 the highest), as one of the static
 * strings P1..P4: a ticket on a critical business service is raised to
 * its policy's floor.  A floor that is NULL or not P1..P4 raises nothing. */
const char *msp_priority_at_least(const char *priority, const char *floor);

/* Whether a ticket may go from one status to another.  Staying is always
 * allowed.  A resolved ticket may be reopened (to assigned or
 * in_progress) or closed; a closed ticket is final.  On refusal *why says
 * why, for the client. */
int msp_status_transition_ok(const char *from, const char *to, const char **why);

/* Whether a status counts as open (in the queue). */
int msp_status_is_open(const char *status);

/* Permissions by role (the claim's role). */
int msp_can_create_ticket(const msp_principal_t *p);
int msp_can_update_ticket(const msp_principal_t *p);
/* Whether p may post a comment of this visibility (public, staff,
 * provider): one it may read, auditors none. */
int msp_can_comment(const msp_principal_t *p, const char *visibility);
/* A public comment by this principal is a response to the requester (it
 * meets the first-response target): staff, not the requester, not a
 * machine client. */
int msp_comment_responds(const msp_principal_t *p);
/* Requesters see and comment on their own tickets only. */
int msp_sees_own_tickets_only(const msp_principal_t *p);
/* The levels of a ticket's history a principal reads, as the database's
 * app.visible_levels() decides them (its row-level security enforces
 * them; these let a service refuse early and say why).  Staff comments
 * and escalations are for staff on either side, not requesters or
 * machines; provider comments for the provider's staff. */
extern const char *const msp_visibilities[];   /* public, staff, provider */
int msp_sees_staff_level(const msp_principal_t *p);
int msp_sees_provider_level(const msp_principal_t *p);

#endif
