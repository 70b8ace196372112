/*
 * page.c - keyset pagination: limit, and the opaque after cursor.
 */
#include "http/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
encode(msp_call_t *call, const char *s)
{
    size_t len = strlen(s);
    char *out = msp_alloc(call, (len + 2) / 3 * 4 + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char) s[i] << 16;
        if (i + 1 < len) v |= (unsigned char) s[i + 1] << 8;
        if (i + 2 < len) v |= (unsigned char) s[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < len) out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < len) out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return out;
}

/* NULL when s is not unpadded base64url of printable text. */
static char *
decode(msp_call_t *call, const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len % 4 == 1 || len > 512) {
        return NULL;
    }
    char *out = msp_alloc(call, len);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(b64url, s[i]);
        if (s[i] == '\0' || p == NULL) {
            return NULL;
        }
        v = (v << 6) | (unsigned) (p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char c = (unsigned char) ((v >> bits) & 0xff);
            if (c < 0x20 || c > 0x7e) {
                return NULL;
            }
            out[o++] = (char) c;
        }
    }
    out[o] = '\0';
    return out;
}

int
msp_page_parse(msp_call_t *call, const msp_args_t *args, msp_page_t *page,
               msp_errors_t *errs)
{
    int ok = 1;
    page->limit = MSP_PAGE_DEFAULT;
    page->after = NULL;

    const char *limit = msp_args_get(args, "limit");
    if (limit != NULL) {
        char *end;
        long n = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || n < 1 || n > MSP_PAGE_MAX) {
            msp_errors_add(errs, "limit", "must be an integer from 1 to %d", MSP_PAGE_MAX);
            ok = 0;
        } else {
            page->limit = (int) n;
        }
    }

    const char *after = msp_args_get(args, "after");
    if (after != NULL && (page->after = decode(call, after)) == NULL) {
        msp_errors_add(errs, "after", "is not a cursor this API handed out");
        ok = 0;
    }
    snprintf(page->fetch, sizeof(page->fetch), "%d", page->limit + 1);
    return ok ? 0 : -1;
}

/* The query string again, with after= replaced by the new cursor. */
static char *
next_query(msp_call_t *call, const msp_args_t *args, const char *cursor)
{
    size_t size = strlen(cursor) + 8;
    for (size_t i = 0; i < args->n; i++) {
        size += strlen(args->items[i].name) + 3 * strlen(args->items[i].value) + 2;
    }
    char *out = msp_alloc(call, size);
    if (out == NULL) {
        return NULL;
    }
    char *p = out;
    for (size_t i = 0; i < args->n; i++) {
        if (strcmp(args->items[i].name, "after") == 0) {
            continue;
        }
        p += sprintf(p, "%s=", args->items[i].name);
        for (const unsigned char *v = (const unsigned char *) args->items[i].value; *v; v++) {
            if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z')
                || (*v >= '0' && *v <= '9') || strchr("-_.~", *v))
            {
                *p++ = (char) *v;
            } else {
                p += sprintf(p, "%%%02X", *v);
            }
        }
        *p++ = '&';
    }
    sprintf(p, "after=%s", cursor);
    return out;
}

/* Joins column 0 of the first n rows, each passed through the list's
 * item function when it has one, into a JSON array text. */
static char *
items_json(msp_call_t *call, const msp_list_t *list, const PGresult *rows, int n)
{
    const char **item = msp_alloc(call, (size_t) (n ? n : 1) * sizeof(char *));
    size_t *len = msp_alloc(call, (size_t) (n ? n : 1) * sizeof(size_t));
    size_t size = 3;
    if (item == NULL || len == NULL) {
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        item[i] = PQgetvalue(rows, i, 0);
        len[i] = (size_t) PQgetlength(rows, i, 0);
        if (list->item != NULL) {
            item[i] = list->item(call, item[i], len[i]);
            if (item[i] == NULL) {
                return NULL;
            }
            len[i] = strlen(item[i]);
        }
        size += len[i] + 1;
    }
    char *out = msp_alloc(call, size);
    if (out == NULL) {
        return NULL;
    }
    char *p = out;
    *p++ = '[';
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        memcpy(p, item[i], len[i]);
        p += len[i];
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

msp_list_t *
msp_list_begin(msp_call_t *call, const char *path, const char *const *known,
               msp_errors_t *errs)
{
    msp_list_t *list = msp_alloc(call, sizeof(*list));
    if (list == NULL) {
        return NULL;
    }
    list->path = path;
    list->item = NULL;
    msp_args_parse(call, known, &list->args, errs);
    msp_page_parse(call, &list->args, &list->page, errs);
    return list;
}

msp_outcome_t
msp_list_reply(msp_call_t *call, msp_reply_t *reply, const msp_list_t *list,
               const PGresult *rows)
{
    int n = PQntuples(rows);
    int shown = n > list->page.limit ? list->page.limit : n;
    const char *items = items_json(call, list, rows, shown);
    const char *last_key = n > list->page.limit ? PQgetvalue(rows, shown - 1, 1) : NULL;
    const char *path = list->path;
    const msp_args_t *args = &list->args;
    if (items == NULL || path == NULL) {
        return msp_reply_out_of_memory(reply);
    }

    char *cursor = last_key ? encode(call, last_key) : NULL;
    char *body = cursor
        ? msp_printf(call, "{\"items\":%s,\"next_cursor\":\"%s\"}", items, cursor)
        : msp_printf(call, "{\"items\":%s,\"next_cursor\":null}", items);
    if (body == NULL || (last_key && cursor == NULL)) {
        return msp_reply_out_of_memory(reply);
    }
    if (cursor != NULL) {
        char *query = next_query(call, args, cursor);
        reply->link = query
            ? msp_printf(call, "<%s%s?%s>; rel=\"next\"", call->base_url ? call->base_url : "",
                         path, query)
            : NULL;
        if (reply->link == NULL) {
            return msp_reply_out_of_memory(reply);
        }
    }
    return msp_reply_json(call, reply, 200, body, strlen(body));
}
