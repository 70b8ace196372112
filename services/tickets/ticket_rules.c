/*
 * ticket_rules.c - the ticket rules that need no database: priority,
 * status transitions, who may do what.
 */
#include "tickets/ticket_rules.h"

#include <stddef.h>
#include <string.h>

const char *const msp_levels[] = { "high", "medium", "low", NULL };
const char *const msp_statuses[] = {
    "new", "assigned", "in_progress", "pending_customer", "pending_vendor",
    "resolved", "closed", NULL
};
const char *const msp_sides[] = { "provider", "internal_it", "vendor", "customer", NULL };
const char *const msp_tiers[] = { "L1", "L2", "L3", NULL };

static int
index_of(const char *value, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++) {
        if (value != NULL && strcmp(value, list[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
msp_priority(const char *impact, const char *urgency)
{
    static const char *const matrix[3][3] = {
        { "P1", "P2", "P3" },
        { "P2", "P3", "P4" },
        { "P3", "P4", "P4" },
    };
    int i = index_of(impact, msp_levels), u = index_of(urgency, msp_levels);
    return i < 0 || u < 0 ? NULL : matrix[i][u];
}

const char *
msp_priority_at_least(const char *priority, const char *floor)
{
    static const char *const order[] = { "P1", "P2", "P3", "P4", NULL };
    int p = index_of(priority, order), f = index_of(floor, order);
    return f >= 0 && f < p ? order[f] : priority;
}

/* Rows: from; columns: to; in msp_statuses order. */
static const unsigned char transitions[7][7] = {
    /*                 new asg inp pcu pve res clo */
    /* new */          { 1,  1,  1,  1,  1,  1,  0 },
    /* assigned */     { 0,  1,  1,  1,  1,  1,  0 },
    /* in_progress */  { 0,  1,  1,  1,  1,  1,  0 },
    /* pending_cust */ { 0,  1,  1,  1,  0,  1,  0 },
    /* pending_vend */ { 0,  1,  1,  0,  1,  1,  0 },
    /* resolved */     { 0,  1,  1,  0,  0,  1,  1 },
    /* closed */       { 0,  0,  0,  0,  0,  0,  1 },
};

int
msp_status_transition_ok(const char *from, const char *to, const char **why)
{
    int f = index_of(from, msp_statuses), t = index_of(to, msp_statuses);
    if (f < 0 || t < 0) {
        *why = "unknown status";
        return 0;
    }
    if (transitions[f][t]) {
        return 1;
    }
    if (strcmp(from, "closed") == 0) {
        *why = "a closed ticket is final; open a new ticket instead";
    } else if (strcmp(to, "new") == 0) {
        *why = "a ticket cannot go back to new";
    } else if (strcmp(to, "closed") == 0) {
        *why = "only a resolved ticket can be closed";
    } else if (strcmp(from, "resolved") == 0) {
        *why = "a resolved ticket can be closed, or reopened to assigned or in_progress";
    } else {
        *why = "a ticket waits on the customer or on a vendor, not both; move it to "
               "in_progress or assigned first";
    }
    return 0;
}

int
msp_status_is_open(const char *status)
{
    return strcmp(status, "resolved") != 0 && strcmp(status, "closed") != 0;
}

int
msp_can_create_ticket(const msp_principal_t *p)
{
    return strcmp(p->role, "auditor") != 0;
}

int
msp_can_update_ticket(const msp_principal_t *p)
{
    static const char *const roles[] = {
        "technician", "lead", "admin", "it_staff", "it_leader", NULL
    };
    return msp_principal_has_role(p, roles);
}

const char *const msp_visibilities[] = { "public", "staff", "provider", NULL };

int
msp_sees_staff_level(const msp_principal_t *p)
{
    static const char *const roles[] = {
        "technician", "lead", "admin", "account_manager", "it_staff", "it_leader", "auditor",
        NULL
    };
    return msp_principal_has_role(p, roles);
}

int
msp_sees_provider_level(const msp_principal_t *p)
{
    static const char *const roles[] = {
        "technician", "lead", "admin", "account_manager", "auditor", NULL
    };
    return p->is_provider && msp_principal_has_role(p, roles);
}

int
msp_comment_responds(const msp_principal_t *p)
{
    /* The same roles as "responds" in app.ticket_sla_history(). */
    return strcmp(p->role, "requester") != 0 && strcmp(p->role, "integration") != 0;
}

int
msp_can_comment(const msp_principal_t *p, const char *visibility)
{
    if (strcmp(p->role, "auditor") == 0) {
        return 0;
    }
    if (strcmp(visibility, "provider") == 0) {
        return msp_sees_provider_level(p);
    }
    return strcmp(visibility, "public") == 0 || msp_sees_staff_level(p);
}

int
msp_sees_own_tickets_only(const msp_principal_t *p)
{
    return strcmp(p->role, "requester") == 0;
}
