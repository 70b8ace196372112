/*
 * errors.c - the list of field errors that validation fills (errors.h).
 */
#include "common/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
msp_errors_add(msp_errors_t *errs, const char *field, const char *fmt, ...)
{
    if (errs->n == MSP_ERRORS_MAX) {
        errs->dropped++;
        return;
    }

    msp_field_error_t *e = &errs->items[errs->n++];
    snprintf(e->field, sizeof(e->field), "%s", field);

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

int
msp_in_list(const char *value, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcmp(value, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

void
msp_join(const char *const *list, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (; *list != NULL && used < size; list++) {
        int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", *list);
        if (n < 0) {
            break;
        }
        used += (size_t) n;
    }
}
