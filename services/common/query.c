/*
 * query.c - a value written into a URL's query string (query.h).
 */
#include "common/query.h"

#include <stdio.h>
#include <string.h>

void
msp_query_value(char *out, size_t size, const char *value)
{
    size_t o = 0;
    for (const unsigned char *v = (const unsigned char *) value; *v && o + 4 < size; v++) {
        if ((*v >= '0' && *v <= '9') || (*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z')
            || strchr("-._~:", *v) != NULL)
        {
            out[o++] = (char) *v;
        } else {
            o += (size_t) snprintf(out + o, size - o, "%%%02X", *v);
        }
    }
    if (size > 0) {
        out[o] = '\0';
    }
}
