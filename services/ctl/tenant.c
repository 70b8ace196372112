/*
 * tenant.c - `mspctl tenant apply|offboard`: the subcommand dispatcher.
 */
#include "ctl.h"

#include <string.h>

int
ctl_tenant(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "apply") == 0) {
        return ctl_tenant_apply(argc - 2, argv + 2);
    }
    if (argc == 5 && strcmp(argv[1], "offboard") == 0 && strcmp(argv[3], "--export") == 0) {
        return ctl_tenant_offboard(argv[2], argv[4]);
    }
    ctl_error("usage: mspctl tenant apply FILE... | mspctl tenant offboard SLUG --export DIR");
    return 2;
}
