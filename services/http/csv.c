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

void
msp_csv_value(msp_buf_t *b, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        return;
    }
    if (json_is_string(v)) {
        msp_buf_put_csv(b, json_string_value(v));
        return;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | MSP_JSON_REALS);
    if (text == NULL) {
        b->failed = 1;
        return;
    }
    msp_buf_put_csv(b, text);
    free(text);
}

static void
list_rows(msp_buf_t *t, const json_t *items)
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
            msp_buf_put(t, ",", 1);
        }
        msp_buf_put_csv(t, json_string_value(col));
    }
    msp_buf_put(t, "\r\n", 2);
    json_array_foreach(items, i, item) {
        json_array_foreach(columns, c, col) {
            if (c > 0) {
                msp_buf_put(t, ",", 1);
            }
            msp_csv_value(t, json_object_get(item, json_string_value(col)));
        }
        msp_buf_put(t, "\r\n", 2);
    }
    json_decref(columns);
}

/* figure,value rows of a document, depth first, in its members' order. */
static void
figure_rows(msp_buf_t *t, const char *path, const json_t *v)
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
        msp_buf_put_csv(t, path);
        msp_buf_put(t, ",", 1);
        msp_csv_value(t, v);
        msp_buf_put(t, "\r\n", 2);
    }
}

msp_outcome_t
msp_csv_reply(msp_call_t *call, msp_reply_t *reply, msp_outcome_t outcome)
{
    if (outcome != MSP_REPLY || reply->status < 200 || reply->status > 299) {
        return outcome;
    }
    json_t *doc = json_loadb(reply->body, reply->body_len, JSON_DECODE_ANY, NULL);
    msp_buf_t t = { 0 };
    const json_t *items = json_object_get(doc, "items");
    if (json_is_array(items)) {
        list_rows(&t, items);
    } else if (doc != NULL) {
        msp_buf_put(&t, "figure,value\r\n", 14);
        figure_rows(&t, "", doc);
    }
    json_decref(doc);
    size_t len = 0;
    char *text = doc != NULL ? msp_buf_take(&t, &len) : NULL;
    char *body = text != NULL ? msp_strndup(call, text, len) : NULL;
    free(text);
    msp_buf_free(&t);
    if (body == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    reply->body = body;
    reply->body_len = len;
    reply->content_type = "text/csv; charset=utf-8";
    return MSP_REPLY;
}
