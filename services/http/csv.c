/*
 * csv.c - a JSON reply as CSV.
 */
#include "http/csv.h"

#include "http/replies.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
msp_csv_wanted(const msp_call_t *call, const char *format)
{
    if (format != NULL) {
        return strcmp(format, "csv") == 0;
    }
    return call->accept != NULL && strstr(call->accept, "text/csv") != NULL;
}

/* A growing text in the call's arena. */
typedef struct {
    msp_call_t *call;
    char       *data;
    size_t      len, cap;
    int         failed;
} text_t;

static void
put(text_t *t, const char *s, size_t n)
{
    if (t->failed) {
        return;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 1024) + n;
        char *grown = msp_alloc(t->call, cap);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        memcpy(grown, t->data ? t->data : "", t->len);
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

/* One field, quoted when it must be. */
static void
field(text_t *t, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        put(t, s, strlen(s));
        return;
    }
    put(t, "\"", 1);
    for (const char *c = s; *c; c++) {
        put(t, c, 1);
        if (*c == '"') {
            put(t, "\"", 1);
        }
    }
    put(t, "\"", 1);
}

/* A JSON value as a field: strings as they are, null empty, the rest as
 * JSON text. */
static void
value_field(text_t *t, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        return;
    }
    if (json_is_string(v)) {
        field(t, json_string_value(v));
        return;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | MSP_JSON_REALS);
    if (text == NULL) {
        t->failed = 1;
        return;
    }
    field(t, text);
    free(text);
}

static void
list_rows(text_t *t, const json_t *items)
{
    json_t *columns = json_array();
    size_t i, c;
    const json_t *item, *col;
    const char *key;
    const json_t *unused;
    json_array_foreach(items, i, item) {
        json_object_foreach((json_t *) item, key, unused) {
            int seen = 0;
            json_array_foreach(columns, c, col) {
                seen |= strcmp(json_string_value(col), key) == 0;
            }
            if (!seen) {
                json_array_append_new(columns, json_string(key));
            }
        }
    }
    json_array_foreach(columns, c, col) {
        if (c > 0) {
            put(t, ",", 1);
        }
        field(t, json_string_value(col));
    }
    put(t, "\r\n", 2);
    json_array_foreach(items, i, item) {
        json_array_foreach(columns, c, col) {
            if (c > 0) {
                put(t, ",", 1);
            }
            value_field(t, json_object_get(item, json_string_value(col)));
        }
        put(t, "\r\n", 2);
    }
    json_decref(columns);
}

/* figure,value rows of a document, depth first, in its members' order. */
static void
figure_rows(text_t *t, const char *path, const json_t *v)
{
    char sub[512];
    if (json_is_object(v) && json_object_size(v) > 0) {
        const char *key;
        const json_t *member;
        json_object_foreach((json_t *) v, key, member) {
            snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
            figure_rows(t, sub, member);
        }
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        const json_t *member;
        json_array_foreach(v, i, member) {
            snprintf(sub, sizeof(sub), "%s%s%zu", path, *path ? "." : "", i);
            figure_rows(t, sub, member);
        }
    } else {
        field(t, path);
        put(t, ",", 1);
        value_field(t, v);
        put(t, "\r\n", 2);
    }
}

msp_outcome_t
msp_csv_reply(msp_call_t *call, msp_reply_t *reply, msp_outcome_t outcome)
{
    if (outcome != MSP_REPLY || reply->status < 200 || reply->status > 299) {
        return outcome;
    }
    json_t *doc = json_loadb(reply->body, reply->body_len, JSON_DECODE_ANY, NULL);
    text_t t = { .call = call };
    const json_t *items = json_object_get(doc, "items");
    if (json_is_array(items)) {
        list_rows(&t, items);
    } else if (doc != NULL) {
        put(&t, "figure,value\r\n", 14);
        figure_rows(&t, "", doc);
    }
    json_decref(doc);
    if (doc == NULL || t.failed) {
        return msp_reply_out_of_memory(reply);
    }
    reply->body = t.data;
    reply->body_len = t.len;
    reply->content_type = "text/csv; charset=utf-8";
    return MSP_REPLY;
}
