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
 */
#include "ctl.h"

#include "sla/clock.h"
#include "tickets/ticket_sla.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECOMPUTE_BATCH 1000

static const char *const sql_tickets =
    "SELECT k.number, app.ticket_sla_history(k.tenant_id, k.number)::text"
    " FROM tickets k WHERE k.tenant_id = $1 AND k.number > $2::integer"
    "   AND (k.status NOT IN ('resolved', 'closed') OR k.sla IS NULL)"
    " ORDER BY k.number LIMIT " "1000";

static const char *const sql_store =
    "UPDATE tickets k SET sla = r.sla, response_due = to_timestamp(r.response_due),"
    " resolution_due = to_timestamp(r.resolution_due), breach_at = to_timestamp(r.breach_at),"
    " sla_pending = r.pending, sla_next_at = to_timestamp(r.next_at)"
    " FROM jsonb_to_recordset($2::jsonb) AS r(number integer, sla jsonb, response_due bigint,"
    "   resolution_due bigint, breach_at bigint, pending jsonb, next_at bigint)"
    " WHERE k.tenant_id = $1 AND k.number = r.number";

static json_t *
time_or_null(int64_t t)
{
    return t == MSP_NO_TIME ? json_null() : json_integer((json_int_t) t);
}

/* Replays one batch of rows into the array the store statement reads. */
static json_t *
replay_batch(const msp_sla_config_t *cfg, PGresult *rows, int64_t now)
{
    json_t *out = json_array();
    msp_sla_snapshot_t *snap = malloc(sizeof(*snap));
    for (int i = 0; out != NULL && snap != NULL && i < PQntuples(rows); i++) {
        json_t *history = json_loads(PQgetvalue(rows, i, 1), 0, NULL);
        if (history == NULL || msp_sla_replay(cfg, history, now, snap, NULL) != 0) {
            ctl_error("ticket %s: its history cannot be replayed", PQgetvalue(rows, i, 0));
            json_decref(history);
            json_decref(out);
            out = NULL;
            break;
        }
        json_decref(history);
        json_array_append_new(out, json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o}",
            "number", atoi(PQgetvalue(rows, i, 0)),
            "sla", msp_sla_snapshot_json(snap),
            "response_due", time_or_null(snap->clock[MSP_CLOCK_RESPONSE].due),
            "resolution_due", time_or_null(snap->clock[MSP_CLOCK_RESOLUTION].due),
            "breach_at", time_or_null(msp_sla_breach_at(snap)),
            "pending", msp_sla_pending_json(snap),
            "next_at", time_or_null(snap->npending ? snap->pending[0].at : MSP_NO_TIME)));
    }
    free(snap);
    return out;
}

int
ctl_sla_recompute_tenant(PGconn *conn, const char *tenant_id, long *count)
{
    const char *id_param[] = { tenant_id };
    PGresult *res = ctl_query(conn,
        "SELECT " MSP_TENANT_COLUMNS ", floor(extract(epoch FROM now()))::bigint"
        " FROM tenants t WHERE t.tenant_id = $1",
        1, id_param);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        ctl_error("tenant %s not found", tenant_id);
        return -1;
    }
    char err[160];
    msp_tenant_columns_t doc = msp_tenant_columns(res, 0, 0);
    const msp_sla_config_t *cfg = msp_sla_config_load(&doc, err, sizeof(err));
    int64_t now = strtoll(PQgetvalue(res, 0, MSP_TENANT_NCOLUMNS), NULL, 10);
    PQclear(res);
    if (cfg == NULL) {
        ctl_error("the tenant's calendar or SLA policy cannot be used: %s", err);
        return -1;
    }

    char after[16] = "0";
    *count = 0;
    for (;;) {
        const char *params[] = { tenant_id, after };
        PGresult *rows = ctl_query(conn, sql_tickets, 2, params);
        if (rows == NULL) {
            return -1;
        }
        int n = PQntuples(rows);
        if (n == 0) {
            PQclear(rows);
            return 0;
        }
        snprintf(after, sizeof(after), "%s", PQgetvalue(rows, n - 1, 0));
        json_t *batch = replay_batch(cfg, rows, now);
        PQclear(rows);
        char *text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
        json_decref(batch);
        const char *store[] = { tenant_id, text };
        int rc = text != NULL ? ctl_run(conn, sql_store, 2, store) : -1;
        free(text);
        if (rc != 0) {
            return -1;
        }
        *count += n;
        if (n < RECOMPUTE_BATCH) {
            return 0;
        }
    }
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
        if (ctl_sla_recompute_tenant(conn, PQgetvalue(tenants, i, 0), &count) != 0) {
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
