/*
 * query.h - a value written into a URL's query string: report links name
 * asset models, departments and sites ("ThinkPad T14 Gen 3"), mspctl the
 * values it is given.
 */
#ifndef MSP_QUERY_H
#define MSP_QUERY_H

#include <stddef.h>

/* value percent-encoded into out (NUL-terminated, cut short rather than
 * overflow): letters, digits and "-._~:" kept, every other byte %XX. */
void msp_query_value(char *out, size_t size, const char *value);

#endif
