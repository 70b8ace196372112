/*
 * errors.h - a list of field errors.
 *
 * Validation never stops at the first problem: a user fixing a tenant file
 * or a request body wants to see every mistake at once.  Each error names
 * the field with a JSON path ("calendar.monday[1].end") and says what is
 * wrong in words a user understands.
 */
#ifndef MSP_ERRORS_H
#define MSP_ERRORS_H

#include <stddef.h>

typedef struct {
    char field[160];
    char message[256];
} msp_field_error_t;

typedef struct {
    msp_field_error_t *items;
    size_t             n;
    size_t             cap;
} msp_errors_t;

/* Appends an error; the message is printf-formatted.  Out of memory drops
 * the error but keeps n > 0 semantics by setting an overflow marker. */
void msp_errors_add(msp_errors_t *errs, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void msp_errors_free(msp_errors_t *errs);

#endif
