/*
 * page.h - keyset pagination, the one way lists are paged.
 *
 * A list takes `limit` (1 to 200, default 50) and `after`, an opaque
 * cursor it handed out as next_cursor.  Services fetch limit + 1 rows: the
 * extra row only says that there is a next page.  The cursor is the
 * base64url of the last row's sort key, so a page never skips or repeats
 * rows when others are inserted meanwhile.
 */
#ifndef MSP_PAGE_H
#define MSP_PAGE_H

#include "http/args.h"
#include "call/call.h"

#define MSP_PAGE_DEFAULT 50
#define MSP_PAGE_MAX     200

typedef struct {
    int         limit;
    const char *after;      /* the decoded sort key, or NULL for the first page */
    char        fetch[16];  /* limit + 1, as text for a statement parameter */
} msp_page_t;

/* Reads limit and after from args; errors name the parameter. */
int msp_page_parse(msp_call_t *call, const msp_args_t *args, msp_page_t *page,
                   msp_errors_t *errs);

/* A list request: its query and its page. */
typedef struct {
    msp_args_t  args;
    msp_page_t  page;
    const char *path;       /* for the Link header, e.g. "/v1/queue" */
    /* optional: turns an item's JSON as stored into the JSON shown (in the
     * arena; NULL when out of memory) */
    char      *(*item)(msp_call_t *call, const char *json, size_t len);
} msp_list_t;

/*
 * Starts a list: parses the query string, accepting the names in known
 * (which must include "limit" and "after"), and the page.  Errors go to
 * errs.  Returns the list, in the arena, or NULL when out of memory.
 */
msp_list_t *msp_list_begin(msp_call_t *call, const char *path, const char *const *known,
                           msp_errors_t *errs);

/*
 * Replies a page from rows whose column 0 is an item's JSON and column 1
 * its sort key (limit + 1 rows were asked for): {"items": [...],
 * "next_cursor": "..."|null}, and while there is a next page, a Link
 * header `<base_url path?query&after=...>; rel="next"`.
 */
msp_outcome_t msp_list_reply(msp_call_t *call, msp_reply_t *reply, const msp_list_t *list,
                             const PGresult *rows);

#endif
