/*
 * ctl.h - mspctl, the operator's command-line tool.
 *
 * mspctl talks to PostgreSQL as the schema owner (MSP_DATABASE_URL) with
 * plain blocking libpq: it is a short-lived command, not the gateway.  It
 * acts as a provider admin principal, so row-level security (FORCEd even
 * for the owner) applies to it as to everyone else.
 */
#ifndef MSP_CTL_H
#define MSP_CTL_H

#include "auth/principal.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/* Commands: each returns the process exit status. */
int ctl_migrate(int argc, char **argv);
int ctl_tenant(int argc, char **argv);
int ctl_tenant_apply(int nfiles, char **paths);
int ctl_tenant_offboard(const char *slug, const char *export_dir);
int ctl_assign(int argc, char **argv);
int ctl_unassign(int argc, char **argv);
int ctl_token(int argc, char **argv);
int ctl_call(int argc, char **argv);
int ctl_report(int argc, char **argv);
int ctl_sla(int argc, char **argv);
int ctl_time(int argc, char **argv);
int ctl_assets(int argc, char **argv);

/* Replays and stores the SLA clocks of a tenant's open tickets (and of
 * those without clocks) in the caller's transaction; *count says how
 * many.  0 or -1. */
int ctl_sla_recompute_tenant(PGconn *conn, const char *slug, long *count);

/* Connects as the gateway (MSP_GATEWAY_DATABASE_URL, so that row-level
 * security applies exactly as in nginx), or else as ctl_connect(). */
PGconn *ctl_connect_gateway(void);

/* GET target through the services as principal, with the blocking
 * driver: the 200 reply's JSON (a new reference), or NULL with why. */
json_t *ctl_get_json(PGconn *conn, const msp_principal_t *principal, const char *target,
                     char *why, size_t size);

int ctl_pack(int argc, char **argv);

/* Prints "mspctl: <message>" to stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connects with MSP_DATABASE_URL; prints why and returns NULL on failure. */
PGconn *ctl_connect(void);

/* Runs one statement with text parameters.  Returns the result when the
 * statement succeeded; otherwise prints the server's message and returns
 * NULL.  The caller PQclear()s a non-NULL result. */
PGresult *ctl_query(PGconn *conn, const char *sql, int nparams,
                    const char *const *params);

/* ctl_query() for statements whose rows are not needed: 0 or -1. */
int ctl_run(PGconn *conn, const char *sql, int nparams, const char *const *params);

/* BEGIN (with the given isolation clause, or "" for the default) and set
 * the provider admin principal for the transaction. */
int ctl_begin(PGconn *conn, const char *isolation);

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
char *ctl_read_file(const char *path, size_t *len);

#endif
