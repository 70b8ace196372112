/*
 * buf.h - a growing byte buffer on the heap, for documents built piece by
 * piece outside a call (a pack's CSV and HTML).  A failed allocation
 * marks the buffer failed; later writes do nothing, and the writer checks
 * once at the end.
 */
#ifndef MSP_BUF_H
#define MSP_BUF_H

#include <stddef.h>

typedef struct {
    char   *data;     /* NUL-terminated while not failed */
    size_t  len, cap;
    int     failed;
} msp_buf_t;

void msp_buf_put(msp_buf_t *b, const char *s, size_t n);
void msp_buf_puts(msp_buf_t *b, const char *s);
void msp_buf_printf(msp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with &, <, >, " and ' as HTML's character references. */
void msp_buf_put_html(msp_buf_t *b, const char *s);
/* s as a CSV field (RFC 4180): quoted when it holds a comma, a quote or
 * a line break, its quotes doubled. */
void msp_buf_put_csv(msp_buf_t *b, const char *s);
/* Hands the data over (the caller frees it), or NULL when the buffer
 * failed (and frees it). */
char *msp_buf_take(msp_buf_t *b, size_t *len);
void  msp_buf_free(msp_buf_t *b);

#endif
