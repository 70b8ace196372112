/*
 * db.c - mspctl's database helpers: connect, run a statement, open a
 * transaction as the provider admin principal.
 */
#include "call/call.h"
#include "ctl.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
ctl_error(const char *fmt, ...)
{
    va_list ap;
    fputs("mspctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* NOTICEs (such as "relation already exists, skipping") are not for the
 * operator. */
static void
ignore_notice(void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

PGconn *
ctl_connect(void)
{
    const char *url = getenv("MSP_DATABASE_URL");
    if (url == NULL || *url == '\0') {
        ctl_error("MSP_DATABASE_URL is not set (a libpq connection string for "
                  "the schema owner, e.g. postgresql://msp_owner@127.0.0.1:5432/msp)");
        return NULL;
    }

    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        ctl_error("cannot connect to the database: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    return conn;
}

PGresult *
ctl_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        return res;
    }

    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (msg == NULL) {
        ctl_error("database: %s", PQerrorMessage(conn));
    } else if (detail != NULL) {
        ctl_error("database: %s (%s)", msg, detail);
    } else {
        ctl_error("database: %s", msg);
    }
    PQclear(res);
    return NULL;
}

int
ctl_run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = ctl_query(conn, sql, nparams, params);
    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    return 0;
}

int
ctl_begin(PGconn *conn, const char *isolation)
{
    char begin[96];
    snprintf(begin, sizeof(begin), "BEGIN %s", isolation);
    if (ctl_run(conn, begin, 0, NULL) != 0) {
        return -1;
    }

    /* The actor recorded in the audit log: mspctl and the OS user. */
    char sub[128];
    struct passwd *pw = getpwuid(geteuid());
    snprintf(sub, sizeof(sub), "mspctl:%s", pw ? pw->pw_name : "unknown");

    /* The gateway's own principal statement, without a statement timeout
     * (operator commands may take long). */
    const char *params[] = { sub, "provider", "admin", "0" };
    return ctl_run(conn, msp_sql_principal.sql, msp_sql_principal.nparams, params);
}

char *
ctl_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        ctl_error("%s: %s", path, strerror(errno));
        return NULL;
    }

    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) {
            break;
        }
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }

    int failed = ferror(f);
    fclose(f);
    if (buf == NULL || failed) {
        ctl_error("%s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}
