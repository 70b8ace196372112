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

#include "args.h"
#include "call.h"

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

/*
 * Finishes a page: wraps items_json (a JSON array text) as
 * {"items": [...], "next_cursor": "..."|null} and, when there is a next
 * page, sets reply->link to `<base_url path?args&after=...>; rel="next"`.
 * last_key is the sort key of the last row shown (NULL: no next page).
 */
msp_outcome_t msp_page_reply(msp_call_t *call, msp_reply_t *reply, const char *path,
                             const msp_args_t *args, const char *items_json,
                             const char *last_key);

#endif
