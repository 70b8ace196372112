/*
 * call.c - the call's arena, replies, and the statements every driver
 * runs around a service's.
 */
#include "call/call.h"
#include "http/problem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const msp_sql_t msp_sql_begin = { "msp_begin", "BEGIN", 0 };
const msp_sql_t msp_sql_begin_read_only = { "msp_begin_ro", "BEGIN READ ONLY", 0 };
const msp_sql_t msp_sql_principal = {
    "msp_principal",
    "SELECT app.set_principal($1, $2, $3), set_config('statement_timeout', $4, true)",
    4
};
const msp_sql_t msp_sql_commit = { "msp_commit", "COMMIT", 0 };
const msp_sql_t msp_sql_rollback = { "msp_rollback", "ROLLBACK", 0 };

struct msp_arena_chunk {
    msp_arena_chunk_t *next;
    max_align_t        data[];
};

struct msp_cleanup {
    msp_cleanup_t *next;
    void         (*fn)(void *arg);
    void          *arg;
};

void *
msp_alloc(msp_call_t *call, size_t size)
{
    if (size > SIZE_MAX - sizeof(msp_arena_chunk_t)) {
        return NULL;
    }
    msp_arena_chunk_t *chunk = malloc(sizeof(*chunk) + size);
    if (chunk == NULL) {
        return NULL;
    }
    chunk->next = call->arena.chunks;
    call->arena.chunks = chunk;
    return chunk->data;
}

char *
msp_strndup(msp_call_t *call, const char *s, size_t len)
{
    char *copy = msp_alloc(call, len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

char *
msp_printf(msp_call_t *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        return NULL;
    }

    char *out = msp_alloc(call, (size_t) len + 1);
    if (out != NULL) {
        va_start(ap, fmt);
        vsnprintf(out, (size_t) len + 1, fmt, ap);
        va_end(ap);
    }
    return out;
}

int
msp_call_on_free(msp_call_t *call, void (*fn)(void *arg), void *arg)
{
    msp_cleanup_t *c = malloc(sizeof(*c));
    if (c == NULL) {
        return -1;
    }
    c->fn = fn;
    c->arg = arg;
    c->next = call->arena.cleanups;
    call->arena.cleanups = c;
    return 0;
}

/* A step's results, kept to resume its function (msp_keep). */
struct msp_kept {
    PGresult    *res[MSP_STEP_MAX_STMTS];
    int          nres;
    msp_step_fn  then;
};

static void
clear_result(void *res)
{
    PQclear(res);
}

int
msp_keep(msp_call_t *call, PGresult *const *res, int nres, msp_step_fn then)
{
    struct msp_kept *kept = msp_alloc(call, sizeof(*kept));
    if (kept == NULL || nres > MSP_STEP_MAX_STMTS || call->kept != NULL) {
        return -1;
    }
    memset(kept, 0, sizeof(*kept));
    for (int i = 0; i < nres; i++) {
        kept->res[i] = PQcopyResult(res[i], PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        if (kept->res[i] == NULL || msp_call_on_free(call, clear_result, kept->res[i]) != 0) {
            PQclear(kept->res[i]);
            return -1;
        }
        kept->nres++;
    }
    kept->then = then;
    call->kept = kept;
    return 0;
}

int
msp_kept(const msp_call_t *call)
{
    return call->kept != NULL;
}

msp_outcome_t
msp_resume(msp_call_t *call, msp_step_t *next, msp_reply_t *reply)
{
    const struct msp_kept *kept = call->kept;
    return kept->then(call, kept->res, kept->nres, next, reply);
}

void
msp_call_free(msp_call_t *call)
{
    while (call->arena.cleanups != NULL) {
        msp_cleanup_t *c = call->arena.cleanups;
        call->arena.cleanups = c->next;
        c->fn(c->arg);
        free(c);
    }
    msp_arena_chunk_t *chunk = call->arena.chunks;
    while (chunk != NULL) {
        msp_arena_chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    call->arena.chunks = NULL;
}

/* Out of memory while building a reply: a fixed 503 body needs no memory. */
msp_outcome_t
msp_reply_out_of_memory(msp_reply_t *reply)
{
    static char body[] = "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
                         "\"status\":503,\"detail\":\"The gateway is out of memory.\"}";
    memset(reply, 0, sizeof(*reply));
    reply->status = 503;
    reply->content_type = "application/problem+json";
    reply->body = body;
    reply->body_len = sizeof(body) - 1;
    return MSP_REPLY;
}

msp_outcome_t
msp_reply_json(msp_call_t *call, msp_reply_t *reply, int status, const char *json, size_t len)
{
    char *body = msp_strndup(call, json, len);
    if (body == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    reply->status = status;
    reply->content_type = "application/json";
    reply->body = body;
    reply->body_len = len;
    return MSP_REPLY;
}

char *
msp_json_text(msp_call_t *call, const json_t *doc, size_t flags)
{
    char *text = doc ? json_dumps(doc, flags) : NULL;
    char *copy = text ? msp_strndup(call, text, strlen(text)) : NULL;
    free(text);
    return copy;
}

msp_outcome_t
msp_reply_doc(msp_call_t *call, msp_reply_t *reply, int status, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | MSP_JSON_REALS) : NULL;
    json_decref(doc);
    if (text == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    msp_outcome_t out = msp_reply_json(call, reply, status, text, strlen(text));
    free(text);
    return out;
}

msp_outcome_t
msp_reply_problem(msp_call_t *call, msp_reply_t *reply, int status, const char *type_slug,
                  const char *title, const char *detail, const msp_errors_t *errs)
{
    return msp_reply_problem_with(call, reply, status, type_slug, title, detail, errs, NULL);
}

msp_outcome_t
msp_reply_problem_with(msp_call_t *call, msp_reply_t *reply, int status,
                       const char *type_slug, const char *title, const char *detail,
                       const msp_errors_t *errs, const json_t *extra)
{
    char *text = msp_problem_json(status, type_slug, title, detail, errs, extra);
    if (text == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    msp_outcome_t out = msp_reply_json(call, reply, status, text, strlen(text));
    free(text);
    reply->content_type = "application/problem+json";
    return out;
}

const PGresult *
msp_first_error(PGresult *const *res, int nres)
{
    for (int i = 0; i < nres; i++) {
        ExecStatusType st = PQresultStatus(res[i]);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            return res[i];
        }
    }
    return NULL;
}

msp_outcome_t
msp_reply_sql_error(msp_call_t *call, msp_reply_t *reply, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL) {
        state = "";
    }
    if (strcmp(state, "23505") == 0) {
        return msp_reply_problem(call, reply, 409, "conflict", "Conflict",
                                 "The request conflicts with an existing record.", NULL);
    }
    if (strcmp(state, "23503") == 0) {
        return msp_reply_problem(call, reply, 422, "validation", "Invalid reference",
                                 "The request refers to something that does not exist "
                                 "in this tenant.", NULL);
    }
    const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
    if (strcmp(state, "22023") == 0 && column != NULL) {
        /* a rule the database holds across fields or records (the
         * governance records' app.record_problem): it names the field */
        msp_errors_t errs = { 0 };
        const char *why = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        msp_errors_add(&errs, column, "%s", why ? why : "is not valid here");
        return msp_reply_problem(call, reply, 422, "validation", "Invalid value",
                                 "A value breaks a rule of the record.", &errs);
    }
    if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0) {
        return msp_reply_problem(call, reply, 422, "validation", "Invalid value",
                                 "A value is outside what the field accepts.", NULL);
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0
        || strcmp(state, "55P03") == 0)
    {
        return msp_reply_problem(call, reply, 503, "busy", "Busy",
                                 "The record is busy; retry the request.", NULL);
    }
    if (strcmp(state, "57014") == 0) {
        return msp_api_database_failure(call, reply, 1);
    }
    return msp_reply_problem(call, reply, 500, NULL, NULL,
                             "The gateway could not complete the request.", NULL);
}

int
msp_call_not_committed(msp_call_t *call, msp_reply_t *reply)
{
    if (reply->status < 200 || reply->status >= 400) {
        return 0;
    }
    (void) msp_reply_problem(call, reply, 503, "commit-failed", "Could not commit",
                             "The database could not commit the change; nothing was saved."
                             " Retry shortly.", NULL);
    return 1;
}

msp_outcome_t
msp_api_database_failure(msp_call_t *call, msp_reply_t *reply, int timed_out)
{
    if (timed_out) {
        return msp_reply_problem(call, reply, 504, "database-timeout", "Database timeout",
                                 "The database did not answer in time.", NULL);
    }
    return msp_reply_problem(call, reply, 503, "database-unavailable", "Database unavailable",
                             "The database cannot be reached right now; retry shortly.", NULL);
}
