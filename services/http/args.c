/*
 * args.c - decoding a request's query string against the route's known parameters.
 */
#include "http/args.h"

#include "sla/tz.h"

#include <string.h>

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Well-formed UTF-8 (no overlongs, no surrogates): what PostgreSQL
 * accepts as text. */
static int
is_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned int cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
        else return 0;
        if (len - i <= n) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += n + 1;
    }
    return 1;
}

/* Percent-decodes s[0..len) ('+' is a space) into the arena; NULL when
 * the encoding is broken or decodes to a control character. */
static char *
decode(msp_call_t *call, const char *s, size_t len)
{
    char *out = msp_alloc(call, len + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3) {
                return NULL;
            }
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return NULL;
            }
            c = (unsigned char) (hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
            return NULL;
        }
        out[n++] = (char) c;
    }
    out[n] = '\0';
    return is_utf8((const unsigned char *) out, n) ? out : NULL;
}

static const char *
known_name(const char *const *known, const char *name, size_t len)
{
    for (; *known != NULL; known++) {
        if (strlen(*known) == len && memcmp(*known, name, len) == 0) {
            return *known;
        }
    }
    return NULL;
}

int
msp_args_parse(msp_call_t *call, const char *const *known, msp_args_t *args,
               msp_errors_t *errs)
{
    const char *p = call->args, *end = call->args + call->args_len;
    args->n = 0;
    size_t before = errs->n + errs->dropped;

    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t) (end - p));
        const char *pair_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t) (pair_end - p));
        const char *name_end = eq ? eq : pair_end;
        size_t name_len = (size_t) (name_end - p);

        if (name_len > 0) {
            const char *name = known_name(known, p, name_len);
            char shown[48];
            size_t shown_len = name_len < sizeof(shown) - 1 ? name_len : sizeof(shown) - 1;
            memcpy(shown, p, shown_len);
            shown[shown_len] = '\0';

            if (name == NULL) {
                msp_errors_add(errs, shown, "unknown query parameter");
            } else if (msp_args_get(args, name) != NULL) {
                msp_errors_add(errs, name, "is given more than once");
            } else if (args->n == MSP_ARGS_MAX) {
                msp_errors_add(errs, name, "too many query parameters");
            } else {
                const char *v = eq ? eq + 1 : pair_end;
                char *value = decode(call, v, (size_t) (pair_end - v));
                if (value == NULL) {
                    msp_errors_add(errs, name, "is not a valid percent-encoded value");
                } else {
                    args->items[args->n].name = name;
                    args->items[args->n].value = value;
                    args->n++;
                }
            }
        }
        p = amp ? amp + 1 : NULL;
    }
    return errs->n + errs->dropped > before ? -1 : 0;
}

const char *
msp_args_get(const msp_args_t *args, const char *name)
{
    for (size_t i = 0; i < args->n; i++) {
        if (strcmp(args->items[i].name, name) == 0) {
            return args->items[i].value;
        }
    }
    return NULL;
}

/* RFC 3339: 2026-11-23T09:00:00Z, with optional fraction and offset; the
 * date must exist and every field be in range (23:59:60, a leap second,
 * is not accepted: PostgreSQL would not take it either). */
int
msp_arg_is_rfc3339(const char *s)
{
    const char *shape = "dddd-dd-ddTdd:dd:dd";
    size_t i = 0;
    for (; shape[i]; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i]) {
            return 0;
        }
    }
    int year = msp_civil_digits(s, 4), month = msp_civil_digits(s + 5, 2), day = msp_civil_digits(s + 8, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1
        || day > msp_days_in_month(year, month)
        || msp_civil_digits(s + 11, 2) > 23 || msp_civil_digits(s + 14, 2) > 59 || msp_civil_digits(s + 17, 2) > 59)
    {
        return 0;
    }
    if (s[i] == '.') {
        size_t n = 0;
        for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
            n++;
        }
        if (n == 0 || n > 6) {
            return 0;
        }
    }
    if (s[i] == 'Z' && s[i + 1] == '\0') {
        return 1;
    }
    const char *o = s + i;
    return (o[0] == '+' || o[0] == '-') && o[1] >= '0' && o[1] <= '9'
           && o[2] >= '0' && o[2] <= '9' && o[3] == ':'
           && o[4] >= '0' && o[4] <= '9' && o[5] >= '0' && o[5] <= '9'
           && o[6] == '\0' && msp_civil_digits(o + 1, 2) <= 23 && msp_civil_digits(o + 4, 2) <= 59;
}

void
msp_date_range_arg(const msp_args_t *args, int max_days, const char **from, const char **to,
                   msp_errors_t *errs)
{
    const char *bound[2] = { msp_args_get(args, "from"), msp_args_get(args, "to") };
    int64_t day[2] = { 0, 0 };
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        const char *name = i == 0 ? "from" : "to";
        if (bound[i] == NULL) {
            msp_errors_add(errs, name, "is required: a date as YYYY-MM-DD");
            ok = 0;
        } else if (msp_civil_date(bound[i], strlen(bound[i]), &day[i]) != 0) {
            msp_errors_add(errs, name, "must be a date as YYYY-MM-DD");
            ok = 0;
        }
    }
    if (ok && (day[1] <= day[0] || day[1] - day[0] > max_days)) {
        msp_errors_add(errs, "to", "must be 1 to %d days after from", max_days);
    }
    *from = bound[0];
    *to = bound[1];
}
