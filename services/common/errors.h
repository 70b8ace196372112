/*
 * errors.h - a list of field errors.
 *
 * Validation never stops at the first problem: a user fixing a tenant file
 * or a request body wants to see every mistake at once.  Each error names
 * the field with a JSON path ("calendar.monday[1].end") and says what is
 * wrong in words a user understands.
 *
 * The list has a fixed capacity so that adding an error can never fail;
 * errors past it are counted in `dropped` and reported as a number.
 */
#ifndef MSP_ERRORS_H
#define MSP_ERRORS_H

#include <stddef.h>

#define MSP_ERRORS_MAX 32

typedef struct {
    char field[160];
    char message[256];
} msp_field_error_t;

typedef struct {
    msp_field_error_t items[MSP_ERRORS_MAX];
    size_t            n;
    size_t            dropped;
} msp_errors_t;

/* Appends an error; the message is printf-formatted. */
void msp_errors_add(msp_errors_t *errs, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A NULL-terminated list joined for a message: "a, b, c". */
void msp_join(const char *const *list, char *out, size_t size);

/* Nonzero when value is one of a NULL-terminated list. */
int msp_in_list(const char *value, const char *const *list);

/* Nonzero when at least one error was added. */
static inline int
msp_errors_any(const msp_errors_t *errs)
{
    return errs->n > 0 || errs->dropped > 0;
}

#endif
