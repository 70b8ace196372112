/*
 * api.c - which service answers which route.
 */
#include "api.h"
#include "health.h"

#include <stddef.h>

typedef msp_outcome_t (*msp_start_fn)(msp_call_t *call, msp_step_t *first,
                                      msp_reply_t *reply);

static const struct {
    int          route;
    msp_start_fn start;
    int          is_public;
} services[] = {
    { MSP_ROUTE_HEALTH, msp_health_start, 1 },
};

int
msp_route_is_public(int route)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (services[i].route == route) {
            return services[i].is_public;
        }
    }
    return 0;
}

msp_outcome_t
msp_api_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (services[i].route == call->route) {
            return services[i].start(call, first, reply);
        }
    }
    return msp_reply_problem(call, reply, 404, NULL, NULL,
                             "There is no API resource at this path.", NULL);
}

msp_outcome_t
msp_api_database_failure(msp_call_t *call, msp_reply_t *reply, int timed_out)
{
    if (timed_out) {
        return msp_reply_problem(call, reply, 504, "database-timeout", "Database timeout",
                                 "The database did not answer in time.",
                                 NULL);
    }
    return msp_reply_problem(call, reply, 503, "database-unavailable", "Database unavailable",
                             "The database cannot be reached right now; retry shortly.", NULL);
}
