/*
 * json_body.h - reading a request's JSON body into typed fields.
 *
 * A body is parsed strictly (invalid JSON, invalid UTF-8, duplicate keys
 * and anything but an object are refused); then each field is read with
 * its rule, every problem going to one error list that names the field,
 * so a client sees all its mistakes in one 422.  Fields nobody read are
 * reported as unknown by msp_body_finish().
 */
#ifndef MSP_JSON_BODY_H
#define MSP_JSON_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "common/errors.h"

typedef struct {
    json_t       *doc;           /* the parsed object */
    const char   *seen[32];      /* keys read so far */
    size_t        nseen;
    msp_errors_t *errs;
    const char   *prefix;        /* of field names in errors: "note." in a nested object */
} msp_body_t;

/* Parses; 0, or -1 with a message for a 400 in *why. */
int msp_body_parse(msp_body_t *b, const char *text, size_t len, msp_errors_t *errs,
                   const char **why);
void msp_body_free(msp_body_t *b);

/* Whether the field is present (null counts as present).  Asking makes it
 * a known field: msp_body_finish() does not call it unknown. */
int msp_body_has(msp_body_t *b, const char *key);

/*
 * A string field: 1 and *out set when present and valid, 0 when absent
 * (an error if required), -1 when invalid (error added).  Strings are
 * trimmed of nothing; min/max are in bytes; control characters other
 * than newline and tab are refused.  *out points into the body.
 */
int msp_body_string(msp_body_t *b, const char *key, int required, size_t min, size_t max,
                    const char **out);

/* A string from a fixed set (a NULL-terminated list).  Same returns. */
int msp_body_enum(msp_body_t *b, const char *key, int required, const char *const *allowed,
                  const char **out);

/* A string or null: *out is NULL for null.  Same returns. */
int msp_body_nullable_string(msp_body_t *b, const char *key, size_t min, size_t max,
                             const char **out);

/* An array of positive integers, at most max items, no duplicates. */
int msp_body_id_array(msp_body_t *b, const char *key, size_t max, long long *out,
                      size_t *count);

/* An integer from min to max (JSON's 5.0 is not one).  Same returns. */
int msp_body_integer(msp_body_t *b, const char *key, int required, long long min,
                     long long max, long long *out);

/* true or false.  Same returns. */
int msp_body_bool(msp_body_t *b, const char *key, int required, int *out);

/* A date "YYYY-MM-DD" that exists: *out points into the body, *day is its
 * day number (sla/tz.h).  Same returns. */
int msp_body_date(msp_body_t *b, const char *key, int required, const char **out,
                  long long *day);

/*
 * A nested object: 1 with *sub ready to read its fields (errors name them
 * prefix + key; free it with msp_body_free and finish it like a body), 0
 * when absent (an error if required), -1 when not an object.
 */
int msp_body_object(msp_body_t *b, const char *key, int required, const char *prefix,
                    msp_body_t *sub);

/* A sum of money: a number from 0 to 999,999,999,999.99 with at most two
 * decimals.  Same returns. */
int msp_body_amount(msp_body_t *b, const char *key, int required, double *out);

/* An array of at most max items: 1 with *n its size, 0 when absent (an
 * error if required), -1 when not such an array. */
int msp_body_array(msp_body_t *b, const char *key, int required, size_t max, size_t *n);

/* Item i of the array at key (read with msp_body_array) as a nested
 * object, like msp_body_object: errors name its fields "key[i].field",
 * prefix (at least 64 bytes) holding that name for as long as sub lives. */
int msp_body_item(msp_body_t *b, const char *key, size_t i, char *prefix, size_t prefix_len,
                  msp_body_t *sub);

/* Reports every field not read as "unknown field"; then returns whether
 * any error was found. */
int msp_body_finish(msp_body_t *b);

#endif
