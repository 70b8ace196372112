/*
 * if_match.c - the If-Match precondition of the requests that change a
 * versioned resource (a ticket, a time entry).
 */
#include "http/if_match.h"
#include "http/replies.h"

#include <ctype.h>
#include <string.h>

/*
 * RFC 9110 If-Match: "*" or a list of entity-tags, compared strongly with
 * the resource's ETag, "<version>".  A weak tag, or one this API never sent
 * (such as "stale"), matches nothing: 412.  Returns 1 when the header
 * matches version (NULL: nothing to match), 0 when it does not, -1 when
 * it is not an If-Match value at all (400).
 */
int
msp_if_match(const char *header, const char *version)
{
    const char *p = header;
    int matched = 0, tags = 0;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '*') {
        for (p++; *p == ' ' || *p == '\t'; p++) {
        }
        return *p == '\0' ? version != NULL : -1;
    }
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        if (*p == '\0') {
            return tags > 0 ? matched : -1;
        }
        int weak = strncmp(p, "W/", 2) == 0;
        if (weak) {
            p += 2;
        }
        if (*p != '"') {
            return -1;
        }
        const char *opaque = ++p;
        /* etagc: %x21 / %x23-7E / obs-text */
        while (*p == 0x21 || ((unsigned char) *p >= 0x23 && (unsigned char) *p != 0x7f)) {
            p++;
        }
        if (*p != '"') {
            return -1;
        }
        size_t len = (size_t) (p - opaque);
        p++;
        tags++;
        if (!weak && version != NULL && strlen(version) == len
            && memcmp(opaque, version, len) == 0)
        {
            matched = 1;
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p != ',' && *p != '\0') {
            return -1;
        }
    }
}

msp_outcome_t
msp_reply_if_match_required(msp_call_t *call, msp_reply_t *reply, const char *what)
{
    const char *detail = msp_printf(call, "Send If-Match with the ETag of %s as you read it.",
                                    what);
    return detail ? msp_reply_problem(call, reply, 428, "if-match-required",
                                      "Precondition Required", detail, NULL)
                  : msp_reply_out_of_memory(reply);
}

msp_outcome_t
msp_reply_bad_if_match(msp_call_t *call, msp_reply_t *reply)
{
    return msp_reply_problem(call, reply, 400, "validation", "Invalid If-Match",
                             "If-Match must be \"*\" or entity tags such as the ETag "
                             "\"3\" this API sent.", NULL);
}

msp_outcome_t
msp_reply_stale(msp_call_t *call, msp_reply_t *reply, const char *what)
{
    char *detail = msp_printf(call, "%s changed since it was read; read it again and "
                                    "reapply the change.", what);
    if (detail == NULL) {
        return msp_reply_out_of_memory(reply);
    }
    detail[0] = (char) toupper((unsigned char) detail[0]);
    return msp_reply_problem(call, reply, 412, "stale", "Precondition Failed", detail, NULL);
}
