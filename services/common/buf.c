/*
 * buf.c - a growing byte buffer on the heap.
 */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
msp_buf_put(msp_buf_t *b, const char *s, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
msp_buf_puts(msp_buf_t *b, const char *s)
{
    msp_buf_put(b, s, strlen(s));
}

void
msp_buf_printf(msp_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t) n < sizeof(small)) {
        msp_buf_put(b, small, (size_t) n);
        return;
    }
    char *big = malloc((size_t) n + 1);
    if (big == NULL) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, ap);
    va_end(ap);
    msp_buf_put(b, big, (size_t) n);
    free(big);
}

void
msp_buf_put_html(msp_buf_t *b, const char *s)
{
    for (const char *c = s; *c; c++) {
        switch (*c) {
        case '&': msp_buf_puts(b, "&amp;"); break;
        case '<': msp_buf_puts(b, "&lt;"); break;
        case '>': msp_buf_puts(b, "&gt;"); break;
        case '"': msp_buf_puts(b, "&quot;"); break;
        case '\'': msp_buf_puts(b, "&#39;"); break;
        default: msp_buf_put(b, c, 1);
        }
    }
}

void
msp_buf_put_csv(msp_buf_t *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        msp_buf_puts(b, s);
        return;
    }
    msp_buf_put(b, "\"", 1);
    for (const char *c = s; *c; c++) {
        msp_buf_put(b, c, 1);
        if (*c == '"') {
            msp_buf_put(b, "\"", 1);
        }
    }
    msp_buf_put(b, "\"", 1);
}

char *
msp_buf_take(msp_buf_t *b, size_t *len)
{
    if (b->failed) {
        msp_buf_free(b);
        return NULL;
    }
    if (b->data == NULL) {
        b->data = calloc(1, 1);
        if (b->data == NULL) {
            return NULL;
        }
    }
    char *data = b->data;
    *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

void
msp_buf_free(msp_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
