/*
 * sla_recompute.c - `mspctl sla recompute [SLUG...]`, and the recompute
 * that `tenant apply` runs when a tenant's document changes.
 *
 * Replays every open ticket's clocks (and those of tickets that have none
 * yet, such as tickets loaded with SQL) from its history with the tenant's
 * current calendar and policy, and stores them, in the caller's
 * transaction: a policy, calendar or time zone change never loses elapsed
 * time, and is seen by every ticket at once or by none.  Also what to run
 * after the system's time zone database is updated.
 *
 * A ticket never measured before (loaded with SQL, or older than the
 * reports) also gets its measurements of the past, replayed from its
 * history instant by instant, which the reports read the clocks of a past
 * period from.
 */
#include "ctl.h"

#include "tickets/ticket_sla.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECOMPUTE_BATCH "1000"

/* $1 slug, $2 the last number done: the next batch of tickets to replay,
 * and whether each has been measured before. */
static const char *const sql_tickets =
    "SELECT k.number, app.ticket_sla_history(k.tenant_id, k.number)::text, m.measured"
    " FROM tenants t JOIN tickets k ON k.tenant_id = t.tenant_id,"
    "  LATERAL (SELECT EXISTS (SELECT FROM ticket_sla_facts f WHERE f.tenant_id = k.tenant_id"
    "                          AND f.ticket_number = k.number) AS measured) m"
    " WHERE t.slug = $1 AND k.number > $2::integer"
    "   AND (k.status NOT IN ('resolved', 'closed') OR k.sla IS NULL OR NOT m.measured)"
    " ORDER BY k.number LIMIT " RECOMPUTE_BATCH;

/* Runs a statement the services built. */
static PGresult *
query_stmt(PGconn *conn, const msp_stmt_t *s)
{
    return ctl_query(conn, s->sql->sql, s->sql->nparams, s->params);
}

/* Records the past measurements of the batch's tickets never measured;
 * -1 on failure (reported). */
static int
record_facts(PGconn *conn, msp_call_t *call, const char *slug, const msp_sla_config_t *cfg,
             PGresult *rows)
{
    int n = PQntuples(rows);
    size_t len = 3, used = 0;
    char **facts = msp_alloc(call, (size_t) n * sizeof(*facts));
    if (facts == NULL) {
        ctl_error("out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        facts[i] = NULL;
        if (strcmp(PQgetvalue(rows, i, 2), "t") == 0) {
            continue;
        }
        facts[i] = msp_ticket_sla_history_facts(call, cfg, PQgetvalue(rows, i, 0),
                                                PQgetvalue(rows, i, 1));
        if (facts[i] == NULL) {
            ctl_error("ticket %s: its history cannot be replayed", PQgetvalue(rows, i, 0));
            return -1;
        }
        len += strlen(facts[i]);
    }
    char *array = msp_alloc(call, len);
    if (array == NULL) {
        ctl_error("out of memory");
        return -1;
    }
    array[used++] = '[';
    for (int i = 0; i < n; i++) {
        size_t inner = facts[i] ? strlen(facts[i]) - 2 : 0;     /* without its brackets */
        if (inner > 0) {
            if (used > 1) {
                array[used++] = ',';
            }
            memcpy(array + used, facts[i] + 1, inner);
            used += inner;
        }
    }
    strcpy(array + used, "]");
    if (used == 1) {
        return 0;
    }
    msp_stmt_t insert = { 0 };
    msp_stmt_ticket_sla_facts(&insert, slug, array);
    PGresult *res = query_stmt(conn, &insert);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

/* Replays one batch of rows and stores their clocks with the services'
 * statement; -1 on failure (reported). */
static int
store_batch(PGconn *conn, const char *slug, const msp_sla_config_t *cfg, PGresult *rows,
            int64_t now)
{
    msp_call_t call;              /* the arena the services' functions write in */
    memset(&call, 0, sizeof(call));
    int n = PQntuples(rows), rc = 0;
    const char **records = msp_alloc(&call, (size_t) n * sizeof(*records));
    size_t len = 3;
    if (record_facts(conn, &call, slug, cfg, rows) != 0) {
        rc = -1;
    } else if (records == NULL) {
        ctl_error("out of memory");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        msp_ticket_sla_t clocks;
        if (msp_ticket_sla_replay(&call, cfg, PQgetvalue(rows, i, 1), NULL, now, &clocks) != 0
            || (records[i] = msp_ticket_sla_record(&call, PQgetvalue(rows, i, 0),
                                                   &clocks)) == NULL)
        {
            ctl_error("ticket %s: its history cannot be replayed", PQgetvalue(rows, i, 0));
            rc = -1;
        } else {
            len += strlen(records[i]) + 1;
        }
    }
    char *array = rc == 0 ? msp_alloc(&call, len) : NULL;
    if (array != NULL) {
        char *p = array;
        *p++ = '[';
        for (int i = 0; i < n; i++) {
            p += sprintf(p, "%s%s", i ? "," : "", records[i]);
        }
        strcpy(p, "]");
        msp_stmt_t store = { 0 };
        msp_stmt_ticket_sla_store(&store, slug, array);
        PGresult *res = query_stmt(conn, &store);
        rc = res != NULL ? 0 : -1;
        PQclear(res);
    } else {
        rc = -1;
    }
    msp_call_free(&call);
    return rc;
}

int
ctl_sla_recompute_tenant(PGconn *conn, const char *slug, long *count)
{
    msp_stmt_t inputs = { 0 };
    msp_stmt_tenant_sla_inputs(&inputs, slug);
    PGresult *res = query_stmt(conn, &inputs);
    msp_sla_inputs_t in;
    if (res == NULL || msp_ticket_sla_inputs(res, &in) != 0) {
        PQclear(res);
        ctl_error("tenant %s not found", slug);
        return -1;
    }
    char why[160];
    const msp_sla_config_t *cfg = msp_ticket_sla_config(res, why, sizeof(why));
    int64_t now = in.now;
    PQclear(res);
    if (cfg == NULL) {
        ctl_error("the calendar or SLA policy of %s cannot be used: %s", slug, why);
        return -1;
    }

    char after[16] = "0";
    long unmeasured = 0;
    *count = 0;
    for (;;) {
        const char *params[] = { slug, after };
        PGresult *rows = ctl_query(conn, sql_tickets, 2, params);
        if (rows == NULL) {
            return -1;
        }
        int n = PQntuples(rows);
        if (n == 0) {
            PQclear(rows);
            break;
        }
        snprintf(after, sizeof(after), "%s", PQgetvalue(rows, n - 1, 0));
        for (int i = 0; i < n; i++) {
            unmeasured += strcmp(PQgetvalue(rows, i, 2), "t") != 0;
        }
        int rc = store_batch(conn, slug, cfg, rows, now);
        PQclear(rows);
        if (rc != 0) {
            return -1;
        }
        *count += n;
        if (n < atoi(RECOMPUTE_BATCH)) {
            break;
        }
    }
    /* Tickets measured for the first time have measurements of the past
     * (the others' clocks change from now on): the tenant's stored report
     * headlines may no longer hold, so they go, and the module's timer
     * counts them again. */
    const char *params[] = { slug };
    return unmeasured == 0 ? 0
         : ctl_run(conn, "DELETE FROM report_headlines h USING tenants t"
                         " WHERE h.tenant_id = t.tenant_id AND t.slug = $1", 1, params);
}

int
ctl_sla(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "recompute") != 0) {
        ctl_error("usage: mspctl sla recompute [SLUG...]");
        return 2;
    }
    PGconn *conn = ctl_connect();
    if (conn == NULL || ctl_begin(conn, "") != 0) {
        PQfinish(conn);
        return 1;
    }
    /* The tenants named, or all of them.  The slugs go in as an array
     * literal that the database compares with its own. */
    char *list = NULL;
    if (argc > 2) {
        size_t len = 3;
        for (int i = 2; i < argc; i++) {
            len += 2 * strlen(argv[i]) + 3;
        }
        char *p = list = malloc(len);
        if (list == NULL) {
            PQfinish(conn);
            return 1;
        }
        *p++ = '{';
        for (int i = 2; i < argc; i++) {
            *p++ = i > 2 ? ',' : '"';
            if (i > 2) {
                *p++ = '"';
            }
            for (const char *c = argv[i]; *c; c++) {
                if (*c == '"' || *c == '\\') {
                    *p++ = '\\';
                }
                *p++ = *c;
            }
            *p++ = '"';
        }
        strcpy(p, "}");
    }
    const char *params[] = { list };
    PGresult *tenants = ctl_query(conn, "SELECT tenant_id, slug FROM tenants"
                                        " WHERE $1::text[] IS NULL OR slug = ANY ($1::text[])"
                                        " ORDER BY slug", 1, params);
    free(list);
    int rc = tenants == NULL ? 1 : 0;
    if (tenants != NULL && argc > 2 && PQntuples(tenants) != argc - 2) {
        ctl_error("%d of the %d tenants named do not exist", argc - 2 - PQntuples(tenants),
                  argc - 2);
        rc = 1;
    }
    for (int i = 0; rc == 0 && tenants != NULL && i < PQntuples(tenants); i++) {
        long count;
        if (ctl_sla_recompute_tenant(conn, PQgetvalue(tenants, i, 1), &count) != 0) {
            rc = 1;
        } else {
            printf("%s: %ld tickets' SLA clocks recomputed\n", PQgetvalue(tenants, i, 1), count);
        }
    }
    PQclear(tenants);
    if (rc == 0 && ctl_run(conn, "COMMIT", 0, NULL) != 0) {
        rc = 1;
    }
    if (rc != 0) {
        ctl_error("nothing was changed");
    }
    PQfinish(conn);
    return rc;
}
