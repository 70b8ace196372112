/*
 * body_fields.c - a body read by a table of its fields (body_fields.h).
 */
#include "http/body_fields.h"
#include "http/args.h"
#include "http/replies.h"

#include <stdlib.h>
#include <string.h>

/* An object of scalar members, at most f->max of them. */
static json_t *
read_object(msp_body_t *b, const msp_field_t *f)
{
    json_t *v = json_object_get(b->doc, f->name);
    msp_body_has(b, f->name);
    if (!json_is_object(v) || json_object_size(v) > (size_t) f->max) {
        msp_errors_add(b->errs, f->name, "must be an object of at most %lld members",
                       f->max);
        return NULL;
    }
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member) {
        if (json_is_object(member) || json_is_array(member)) {
            msp_errors_add(b->errs, f->name, "member '%s' must be a string, number, true, "
                           "false or null", key);
            return NULL;
        }
    }
    return json_deep_copy(v);
}

json_t *
msp_field_read(msp_body_t *b, const msp_field_t *f, int required)
{
    const char *s;
    long long x;
    int flag;
    double amount;
    if (f->nullable && json_is_null(json_object_get(b->doc, f->name))) {
        msp_body_has(b, f->name);
        return json_null();
    }
    switch (f->type) {
    case MSP_FIELD_TEXT:
        return msp_body_string(b, f->name, required, (size_t) f->min, (size_t) f->max, &s) == 1
                   ? json_string(s) : NULL;
    case MSP_FIELD_CHOICE:
        return msp_body_enum(b, f->name, required, f->choices, &s) == 1 ? json_string(s) : NULL;
    case MSP_FIELD_DATE:
        return msp_body_date(b, f->name, required, &s, &x) == 1 ? json_string(s) : NULL;
    case MSP_FIELD_TIME:
        if (msp_body_string(b, f->name, required, 1, 64, &s) != 1) {
            return NULL;
        }
        if (!msp_arg_is_rfc3339(s)) {
            msp_errors_add(b->errs, f->name, "must be an RFC 3339 time, e.g. "
                           "2026-12-01T09:30:00Z");
            return NULL;
        }
        return json_string(s);
    case MSP_FIELD_INTEGER:
        return msp_body_integer(b, f->name, required, f->min, f->max, &x) == 1
                   ? json_integer(x) : NULL;
    case MSP_FIELD_AMOUNT:
        return msp_body_amount(b, f->name, required, &amount) == 1 ? json_real(amount) : NULL;
    case MSP_FIELD_BOOL:
        return msp_body_bool(b, f->name, required, &flag) == 1 ? json_boolean(flag) : NULL;
    case MSP_FIELD_IDS: {
        long long ids[64];
        size_t n;
        if (msp_body_id_array(b, f->name, (size_t) f->max, ids, &n) != 1) {
            return NULL;
        }
        json_t *out = json_array();
        for (size_t i = 0; i < n && out != NULL; i++) {
            json_array_append_new(out, json_integer(ids[i]));
        }
        return out;
    }
    case MSP_FIELD_OBJECT:
        if (!msp_body_has(b, f->name)) {
            if (required) {
                msp_errors_add(b->errs, f->name, "is required");
            }
            return NULL;
        }
        return read_object(b, f);
    case MSP_FIELD_OWN:
        return f->read(b, f);
    }
    return NULL;
}

const char *
msp_fields_read_body(msp_call_t *call, msp_reply_t *reply, const msp_field_t *fields,
                     int creating, const char *title, msp_outcome_t *out)
{
    msp_errors_t errs = { 0 };
    msp_body_t b;
    const char *why;
    if (msp_body_parse(&b, call->body, call->body_len, &errs, &why) != 0) {
        *out = msp_reply_malformed_body(call, reply, why);
        return NULL;
    }
    json_t *given = json_object();
    for (const msp_field_t *f = fields; f->name != NULL && given != NULL; f++) {
        json_t *v = msp_field_read(&b, f, creating && f->required);
        if (v != NULL) {
            json_object_set_new(given, f->name, v);
        }
    }
    int invalid = msp_body_finish(&b);
    msp_body_free(&b);
    if (!invalid && !creating && json_object_size(given) == 0) {
        msp_errors_add(&errs, "", "name at least one field to change");
    }
    const char *text = msp_errors_any(&errs) || given == NULL ? NULL
                       : msp_json_text(call, given, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(given);
    if (msp_errors_any(&errs)) {
        *out = msp_reply_invalid(call, reply, 422, title, &errs);
        return NULL;
    }
    if (text == NULL) {
        *out = msp_reply_out_of_memory(reply);
    }
    return text;
}
