/*
 * call.h - the service interface: what a service is called with, the
 * statements it asks to run, and the reply it gives.
 *
 * A service never sees a connection, a socket or an nginx type.  It
 * validates the request and returns a *step*: statements to run in the
 * request's transaction and the function that receives their results.
 * That function returns either another step (the transaction stays open
 * on the same connection) or the reply.  A driver runs the steps: the
 * non-blocking nginx pool (module/), pipelining each step in one round
 * trip as
 *
 *     BEGIN [READ ONLY]; <principal>; <statements>; [COMMIT]; Sync
 *
 * where BEGIN and the principal come with the first step only and COMMIT
 * with a step marked last.
 */
#ifndef MSP_CALL_H
#define MSP_CALL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "common/errors.h"
#include "auth/principal.h"

/* A named prepared statement.  Each is defined once, as a static const
 * object beside the service that owns it; drivers prepare it on a
 * connection the first time it runs there (and know it by its address). */
typedef struct {
    const char *name;
    const char *sql;
    int         nparams;
} msp_sql_t;

#define MSP_STMT_MAX_PARAMS 24
#define MSP_STEP_MAX_STMTS  6

typedef struct {
    const msp_sql_t *sql;
    const char      *params[MSP_STMT_MAX_PARAMS];  /* text; NULL is SQL NULL */
} msp_stmt_t;

/* Memory that lives as long as the call: parameters, reply bodies; and
 * what else must be let go of when the call ends (msp_call_on_free). */
typedef struct msp_arena_chunk msp_arena_chunk_t;
typedef struct msp_cleanup msp_cleanup_t;
typedef struct {
    msp_arena_chunk_t *chunks;
    msp_cleanup_t     *cleanups;
} msp_arena_t;

typedef struct msp_reply {
    int         status;
    const char *content_type;   /* static string */
    char       *body;           /* in the call's arena */
    size_t      body_len;
    const char *etag;           /* optional headers, in the arena */
    const char *location;
    const char *link;
} msp_reply_t;

/* At most this many placeholders per route pattern; more never match. */
#define MSP_ROUTE_MAX_PARAMS 4

/* A path parameter: one segment of the request's path. */
typedef struct {
    const char *data;            /* points into the matched path */
    size_t      len;             /* never 0 */
} msp_param_t;

typedef struct msp_call {
    const msp_principal_t *principal;  /* NULL on routes without authentication */
    const struct msp_route *route;     /* the row of the route table (http/router.h) */
    unsigned               method;     /* MSP_METHOD_* */
    size_t                 nparams;
    msp_param_t            params[MSP_ROUTE_MAX_PARAMS];
    const char            *args;       /* raw query string, without '?' */
    size_t                 args_len;
    const char            *body;       /* request body, NULL when empty */
    size_t                 body_len;
    const char            *if_match;        /* header values, NULL when absent */
    const char            *idempotency_key;
    const char            *accept;
    const char            *base_url;        /* "http://host:port" for Location/Link */
    const char            *driver_stats;    /* the driver's pool figures, a JSON object */
    msp_arena_t            arena;
    void                  *state;      /* the service's own, in the arena */
    struct msp_kept       *kept;       /* results kept for a later step (msp_keep) */
} msp_call_t;

typedef struct msp_step msp_step_t;

typedef enum {
    MSP_NEXT,    /* *next holds another step */
    MSP_REPLY    /* *reply is complete */
} msp_outcome_t;

/*
 * Receives the results of a step's statements, in order, one each.  A
 * statement that failed has PGRES_FATAL_ERROR (its SQLSTATE tells why);
 * those after it in the same step have PGRES_PIPELINE_ABORTED.
 */
typedef msp_outcome_t (*msp_step_fn)(msp_call_t *call, PGresult *const *res, int nres,
                                     msp_step_t *next, msp_reply_t *reply);

/*
 * A step marked last commits: if its COMMIT fails, the driver replaces a
 * 2xx/3xx reply with 503.  A service that replies after a step not marked
 * last ends the transaction with ROLLBACK, whatever its reply (a read that
 * needed two steps, a 412 after locking a row, a stored response replayed).
 */
struct msp_step {
    msp_stmt_t  stmts[MSP_STEP_MAX_STMTS];
    int         nstmts;
    unsigned    read_only:1;   /* first step: BEGIN READ ONLY */
    unsigned    last:1;        /* COMMIT goes in the same round trip */
    msp_step_fn then;
};

/* The statements every driver runs around a service's.  The principal
 * statement takes sub, org, role and the statement timeout ("5000ms"):
 * app.set_principal() computes, once for the transaction, the tenants the
 * principal may see and its role in each, which every row-level security
 * policy then reads. */
extern const msp_sql_t msp_sql_begin;
extern const msp_sql_t msp_sql_begin_read_only;
extern const msp_sql_t msp_sql_principal;
extern const msp_sql_t msp_sql_commit;
extern const msp_sql_t msp_sql_rollback;

/* Arena: allocations are freed together by msp_call_free().  They return
 * NULL when out of memory. */
void *msp_alloc(msp_call_t *call, size_t size);
char *msp_strndup(msp_call_t *call, const char *s, size_t len);
char *msp_printf(msp_call_t *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* doc as JSON text (json_dumps with flags) in the arena; NULL for a NULL
 * doc.  doc stays the caller's. */
char *msp_json_text(msp_call_t *call, const json_t *doc, size_t flags);
void  msp_call_free(msp_call_t *call);
/* Runs fn(arg) when the call is freed (last registered, first run).
 * -1 when out of memory (fn is not run). */
int   msp_call_on_free(msp_call_t *call, void (*fn)(void *arg), void *arg);

/*
 * A step's results kept past their callback, for a callback that must
 * fetch something first (a tenant's calendar the worker has not compiled
 * yet): it keeps its results with itself as `then`, runs the fetching
 * step, and that step's callback calls msp_resume(), which calls `then`
 * again with the kept results.  A call keeps results once; msp_kept()
 * says whether it has (a resumed callback does not fetch again).
 * msp_keep() returns -1 when out of memory.
 */
int           msp_keep(msp_call_t *call, PGresult *const *res, int nres, msp_step_fn then);
int           msp_kept(const msp_call_t *call);
msp_outcome_t msp_resume(msp_call_t *call, msp_step_t *next, msp_reply_t *reply);

/* Replies.  All return MSP_REPLY so a service can `return msp_reply_...`. */
msp_outcome_t msp_reply_out_of_memory(msp_reply_t *reply);
msp_outcome_t msp_reply_json(msp_call_t *call, msp_reply_t *reply, int status,
                             const char *json, size_t len);
/* Takes ownership of doc (json_decref'd). */
msp_outcome_t msp_reply_doc(msp_call_t *call, msp_reply_t *reply, int status, json_t *doc);

/* How the replies write a JSON real: in 15 significant digits, so that a
 * decimal the database computed (a rate, a sum of money) reads as it was
 * written (1790.32, not the double's 1790.3199999999999). */
#define MSP_JSON_REALS JSON_REAL_PRECISION(15)
/* The answer when a step's transaction could not be carried out for a
 * reason of the database's (timeout, connection lost, commit failed):
 * 503 or 504 problem+json. */
msp_outcome_t msp_api_database_failure(msp_call_t *call, msp_reply_t *reply, int timed_out);

/* The rule both drivers apply when a step marked last did not commit (a
 * statement or the COMMIT failed): whatever the service made of its
 * results, a 2xx or 3xx reply becomes 503, since nothing was saved.
 * Returns 1 when it replaced the reply. */
int msp_call_not_committed(msp_call_t *call, msp_reply_t *reply);

/* The reply for a statement that failed, by its SQLSTATE: a constraint
 * the input broke is the client's (409, 422), anything else is ours (500,
 * without the database's words). */
msp_outcome_t msp_reply_sql_error(msp_call_t *call, msp_reply_t *reply, const PGresult *res);
/* The first result that is not PGRES_COMMAND_OK or PGRES_TUPLES_OK, or NULL. */
const PGresult *msp_first_error(PGresult *const *res, int nres);
msp_outcome_t msp_reply_problem(msp_call_t *call, msp_reply_t *reply, int status,
                                const char *type_slug, const char *title, const char *detail,
                                const msp_errors_t *errs);
/* The same with extension members (http/problem.h), NULL for none. */
msp_outcome_t msp_reply_problem_with(msp_call_t *call, msp_reply_t *reply, int status,
                                     const char *type_slug, const char *title,
                                     const char *detail, const msp_errors_t *errs,
                                     const json_t *extra);

#endif
