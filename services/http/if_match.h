/*
 * if_match.h - the If-Match precondition.  A versioned resource's ETag is
 * its version in quotes, "3"; a change names the version it was made
 * from, and a stale one is 412.
 */
#ifndef MSP_IF_MATCH_H
#define MSP_IF_MATCH_H

#include "call/call.h"

/* 1 when header matches version (NULL: no resource to match), 0 when it
 * does not, -1 when it is not an If-Match value at all (400). */
int msp_if_match(const char *header, const char *version);

/* 428 for a change without If-Match (what: "the ticket"), 400 for an
 * If-Match that is not one. */
msp_outcome_t msp_reply_if_match_required(msp_call_t *call, msp_reply_t *reply,
                                          const char *what);
msp_outcome_t msp_reply_bad_if_match(msp_call_t *call, msp_reply_t *reply);

/* 412 for a change made from a version that is no longer the resource's
 * (what: "the ticket"). */
msp_outcome_t msp_reply_stale(msp_call_t *call, msp_reply_t *reply, const char *what);

#endif
