#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
msp_errors_add(msp_errors_t *errs, const char *field, const char *fmt, ...)
{
    if (errs->n == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 8;
        msp_field_error_t *items = realloc(errs->items, cap * sizeof(*items));
        if (items == NULL) {
            /* Keep the last slot as a generic error so the caller still
             * sees that validation failed. */
            if (errs->n > 0) {
                snprintf(errs->items[errs->n - 1].message,
                         sizeof(errs->items[0].message), "too many errors");
            }
            return;
        }
        errs->items = items;
        errs->cap = cap;
    }

    msp_field_error_t *e = &errs->items[errs->n++];
    snprintf(e->field, sizeof(e->field), "%s", field);

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

void
msp_errors_free(msp_errors_t *errs)
{
    free(errs->items);
    errs->items = NULL;
    errs->n = errs->cap = 0;
}
