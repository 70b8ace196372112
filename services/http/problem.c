/*
 * problem.c - RFC 9457 problem details, the API's one error body.
 */
#include "http/problem.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9110 reason phrases for the statuses the API sends. */
static const char *
reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return NULL;
    }
}

/* Length of the well-formed UTF-8 sequence at s, or 0 if there is none. */
static size_t
utf8_sequence_length(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t        n;
    uint32_t      cp, min;

    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2; cp = c & 0x1f; min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3; cp = c & 0x0f; min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }

    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {      /* also stops at the NUL */
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }

    /* overlong forms, UTF-16 surrogates and values past Unicode */
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* A copy of s with each byte that is not valid UTF-8 replaced by U+FFFD. */
static char *
utf8_scrub(const char *s)
{
    size_t len = strlen(s);
    char  *out = malloc(len * 3 + 1);      /* each byte may become 3 */
    char  *o = out;

    if (out == NULL) {
        return NULL;
    }

    const unsigned char *p = (const unsigned char *) s;
    while (*p != '\0') {
        size_t n = utf8_sequence_length(p);
        if (n == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        } else {
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    *o = '\0';
    return out;
}

/* A JSON string for text that may carry bytes from a request. */
static json_t *
text(const char *s)
{
    json_t *j = json_string(s);    /* NULL for invalid UTF-8 (or no memory) */

    if (j == NULL) {
        char *clean = utf8_scrub(s);
        if (clean != NULL) {
            j = json_string(clean);
            free(clean);
        }
    }
    return j;
}

static json_t *
problem_type(const char *slug)
{
    if (slug == NULL) {
        return json_string("about:blank");
    }
    return json_sprintf("%s%s", MSP_PROBLEM_TYPE_BASE, slug);
}

static json_t *
field_errors(const msp_errors_t *errs)
{
    json_t *list = json_array();

    if (list == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < errs->n; i++) {
        json_t *item = json_object();
        int     failed = item == NULL
            || json_object_set_new(item, "field",
                                   text(errs->items[i].field)) != 0
            || json_object_set_new(item, "message",
                                   text(errs->items[i].message)) != 0
            || json_array_append_new(list, item) != 0;
        if (failed) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/*
 * The document as a malloc'd string.  json_dumps() would use jansson's
 * allocator, which a program may replace; measuring first keeps the
 * promise that the caller frees with free().
 */
static char *
serialize(const json_t *doc)
{
    size_t size = json_dumpb(doc, NULL, 0, JSON_COMPACT);

    if (size == 0) {
        return NULL;
    }

    char *out = malloc(size + 1);
    if (out == NULL) {
        return NULL;
    }
    if (json_dumpb(doc, out, size, JSON_COMPACT) != size) {
        free(out);
        return NULL;
    }
    out[size] = '\0';
    return out;
}

char *
msp_problem_json(int status, const char *type_slug, const char *title,
                 const char *detail, const msp_errors_t *errs, const json_t *extra)
{
    json_t *doc = json_object();

    if (doc == NULL) {
        return NULL;
    }

    if (title == NULL) {
        title = reason_phrase(status);
    }

    /* json_object_set_new() takes a NULL value as a failure, and frees. */
    int failed = json_object_set_new(doc, "type", problem_type(type_slug))
                 != 0;

    if (!failed && title != NULL) {
        failed = json_object_set_new(doc, "title", text(title)) != 0;
    }
    if (!failed) {
        failed = json_object_set_new(doc, "status", json_integer(status))
                 != 0;
    }
    if (!failed && detail != NULL) {
        failed = json_object_set_new(doc, "detail", text(detail)) != 0;
    }
    if (!failed && errs != NULL && msp_errors_any(errs)) {
        failed = json_object_set_new(doc, "errors", field_errors(errs)) != 0;
        if (!failed && errs->dropped > 0) {
            failed = json_object_set_new(doc, "more_errors",
                         json_integer((json_int_t) errs->dropped)) != 0;
        }
    }

    if (!failed && extra != NULL) {
        failed = json_object_update_missing(doc, (json_t *) extra) != 0;
    }

    char *out = failed ? NULL : serialize(doc);
    json_decref(doc);
    return out;
}
