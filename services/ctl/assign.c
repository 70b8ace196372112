/*
 * assign.c - `mspctl assign` and `mspctl unassign`: which provider staff
 * work which tenant.  The gateway reads assignments through row-level
 * security in every request's transaction, so a change here takes effect
 * on the staff member's next request.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

static int
one_of(const char *value, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++) {
        if (strcmp(value, *allowed) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Looks up the tenant's id; prints an error and returns -1 if unknown. */
static int
tenant_id_of(PGconn *conn, const char *slug, char *out, size_t size)
{
    const char *params[] = { slug };
    PGresult *res = ctl_query(conn, "SELECT tenant_id FROM tenants WHERE slug = $1 FOR SHARE",
                              1, params);
    if (res == NULL) {
        return -1;
    }
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
    } else {
        ctl_error("no tenant '%s'", slug);
    }
    PQclear(res);
    return found ? 0 : -1;
}

static int
audit(PGconn *conn, const char *tenant_id, const char *action, const char *subject,
      const char *role, const char *tier)
{
    const char *params[] = { tenant_id, action, subject, role, tier };
    return ctl_run(conn,
                   "INSERT INTO audit_log (tenant_id, action, target, detail)"
                   " VALUES ($1, $2, 'assignment:' || $3,"
                   " jsonb_build_object('subject', $3::text, 'role', $4::text, 'tier', $5::text))",
                   5, params);
}

int
ctl_assign(int argc, char **argv)
{
    static const char *const roles[] = {
        "technician", "lead", "account_manager", "auditor", "integration", NULL
    };
    static const char *const tiers[] = { "L1", "L2", "L3", NULL };

    if (argc != 4 && argc != 5) {
        ctl_error("usage: mspctl assign SUBJECT TENANT ROLE [TIER]");
        return 2;
    }
    const char *subject = argv[1], *slug = argv[2], *role = argv[3];
    const char *tier = argc == 5 ? argv[4] : NULL;

    if (*subject == '\0' || strlen(subject) > 200) {
        ctl_error("SUBJECT must be 1 to 200 characters");
        return 2;
    }
    if (!one_of(role, roles)) {
        ctl_error("ROLE must be one of: technician, lead, account_manager, auditor, "
                  "integration (provider admins see every tenant without an assignment)");
        return 2;
    }
    if (tier != NULL && !one_of(tier, tiers)) {
        ctl_error("TIER must be one of: L1, L2, L3");
        return 2;
    }

    PGconn *conn = ctl_connect();
    if (conn == NULL) {
        return 1;
    }

    int rc = 1;
    char tenant_id[64];
    if (ctl_begin(conn, "") != 0 || tenant_id_of(conn, slug, tenant_id, sizeof(tenant_id)) != 0) {
        goto done;
    }

    /* Inserts, or updates a different role or tier; an identical
     * assignment returns no row and changes nothing. */
    const char *params[] = { tenant_id, subject, role, tier };
    PGresult *res = ctl_query(conn,
        "INSERT INTO assignments AS a (tenant_id, subject, role, tier) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant_id, subject) DO UPDATE SET role = EXCLUDED.role, tier = EXCLUDED.tier"
        " WHERE (a.role, a.tier) IS DISTINCT FROM (EXCLUDED.role, EXCLUDED.tier)"
        " RETURNING (xmax = 0) AS inserted", 4, params);
    if (res == NULL) {
        goto done;
    }
    const char *what = PQntuples(res) == 0 ? NULL
                       : PQgetvalue(res, 0, 0)[0] == 't' ? "assigned" : "changed";
    PQclear(res);

    if (what != NULL
        && audit(conn, tenant_id, what[0] == 'a' ? "assignment.create" : "assignment.update",
                 subject, role, tier) != 0)
    {
        goto done;
    }
    if (ctl_run(conn, "COMMIT", 0, NULL) != 0) {
        goto done;
    }
    printf("%s %s %s as %s%s%s\n", subject, what ? what : "already assigned", slug, role,
           tier ? " " : "", tier ? tier : "");
    rc = 0;

done:
    PQfinish(conn);
    return rc;
}

int
ctl_unassign(int argc, char **argv)
{
    if (argc != 3) {
        ctl_error("usage: mspctl unassign SUBJECT TENANT");
        return 2;
    }
    const char *subject = argv[1], *slug = argv[2];

    PGconn *conn = ctl_connect();
    if (conn == NULL) {
        return 1;
    }

    int rc = 1;
    char tenant_id[64];
    if (ctl_begin(conn, "") != 0 || tenant_id_of(conn, slug, tenant_id, sizeof(tenant_id)) != 0) {
        goto done;
    }

    const char *params[] = { tenant_id, subject };
    PGresult *res = ctl_query(conn, "DELETE FROM assignments WHERE tenant_id = $1"
                                    " AND subject = $2 RETURNING role, tier", 2, params);
    if (res == NULL) {
        goto done;
    }
    int removed = PQntuples(res) == 1;
    if (removed && audit(conn, tenant_id, "assignment.delete", subject, PQgetvalue(res, 0, 0),
                         PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1)) != 0)
    {
        PQclear(res);
        goto done;
    }
    PQclear(res);
    if (ctl_run(conn, "COMMIT", 0, NULL) != 0) {
        goto done;
    }
    printf(removed ? "%s unassigned from %s\n" : "%s was not assigned to %s\n", subject, slug);
    rc = 0;

done:
    PQfinish(conn);
    return rc;
}
