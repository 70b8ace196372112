/*
 * body_fields.h - reading a body by a table of its fields: each field's
 * name, type and rule in one row, so that a resource whose fields are
 * plain values (a governance record, an asset) is described rather than
 * coded.  The fields given go to the database as one JSON object, which
 * its functions write (app.create_record, app.create_asset, ...).
 */
#ifndef MSP_BODY_FIELDS_H
#define MSP_BODY_FIELDS_H

#include "call/call.h"
#include "http/json_body.h"

typedef enum {
    MSP_FIELD_TEXT,     /* min..max bytes */
    MSP_FIELD_CHOICE,   /* one of choices */
    MSP_FIELD_DATE,     /* YYYY-MM-DD */
    MSP_FIELD_TIME,     /* RFC 3339 */
    MSP_FIELD_INTEGER,  /* min..max */
    MSP_FIELD_AMOUNT,   /* a sum of money */
    MSP_FIELD_BOOL,
    MSP_FIELD_IDS,      /* at most max positive integers */
    MSP_FIELD_OBJECT,   /* at most max members, each a string, number, boolean or null;
                         * the database checks them (an asset's custom fields) */
    MSP_FIELD_OWN       /* read by the row's own function */
} msp_field_type_t;

typedef struct msp_field msp_field_t;

/* One field: its rule, whether a create must give it, whether it may be
 * set to null. */
struct msp_field {
    const char         *name;
    msp_field_type_t    type;
    unsigned            required:1;
    unsigned            nullable:1;
    long long           min, max;
    const char *const  *choices;
    /* MSP_FIELD_OWN: the value, or NULL (the error in b's list) */
    json_t           *(*read)(msp_body_t *b, const msp_field_t *f);
};

/* The value of field f in the body as the database takes it (a new
 * reference); NULL when absent or invalid (the error is in the body's
 * list). */
json_t *msp_field_read(msp_body_t *b, const msp_field_t *f, int required);

/*
 * The body's fields by the table fields (ended by a NULL name) as JSON
 * text in the call's arena, or NULL with the reply in *out: 400 for a
 * body that is not JSON, 422 titled `title` naming every field wrong, and
 * every field unknown.  A create must give the required fields; a change
 * at least one.
 */
const char *msp_fields_read_body(msp_call_t *call, msp_reply_t *reply,
                                 const msp_field_t *fields, int creating, const char *title,
                                 msp_outcome_t *out);

#endif
