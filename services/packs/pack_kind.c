/*
 * pack_kind.c - the kinds of review pack: the weekly operational, the
 * monthly business and the quarterly strategic review.
 */
#include "packs/pack.h"

#include <string.h>

static const char *const kinds[] = { "weekly", "monthly", "quarterly" };
static const char *const periods[] = { "week", "month", "quarter" };

int
msp_pack_kind(const char *kind)
{
    for (int i = 0; kind != NULL && i < 3; i++) {
        if (strcmp(kind, kinds[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
msp_pack_period_word(const char *kind)
{
    int i = msp_pack_kind(kind);
    return i < 0 ? NULL : periods[i];
}
