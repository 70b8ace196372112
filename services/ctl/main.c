/*
 * mspctl - operate the MSP gateway's database: migrations, tenants as
 * code, staff assignments, development tokens.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int       (*run)(int argc, char **argv);
    const char *usage;
} commands[] = {
    { "migrate",  ctl_migrate,  "migrate [--dir DIR]                apply pending migrations" },
    { "tenant",   ctl_tenant,   "tenant apply FILE...               create or update tenants from their files\n"
                                "  tenant offboard SLUG --export DIR  export a tenant's data, then remove it" },
    { "assign",   ctl_assign,   "assign SUBJECT TENANT ROLE [TIER]  assign provider staff to a tenant" },
    { "unassign", ctl_unassign, "unassign SUBJECT TENANT            remove a staff assignment" },
    { "sla",      ctl_sla,      "sla recompute [SLUG...]            replay the SLA clocks of open tickets" },
    { "token",    ctl_token,    "token --sub S --org O --role R     mint a development token" },
    { "call",     ctl_call,     "call METHOD PATH --sub S --org O --role R [--data JSON]\n"
                                "                                     run an API request without nginx" },
    { "time",     ctl_time,     "time import SLUG FILE [--dry-run]  import time entries from a CSV export" },
    { "assets",   ctl_assets,   "assets import SLUG FILE [--profile intune|jamf|generic] [--dry-run]\n"
                                "                                     import an MDM's device export (CSV or JSON)" },
    { "pack",     ctl_pack,     "pack worker [--once]               render the review packs asked for, as they come\n"
                                "  pack render SLUG KIND PERIOD --as-of T --out DIR  render a pack into files\n"
                                "  pack verify FILE MANIFEST [--key PUB]  check a downloaded pack file" },
    { "report",   ctl_report,   "report SLUG REPORT PERIOD [--as-of T]  a service report (volume, backlog, sla, ...) as JSON" },
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: mspctl COMMAND ...\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %s\n", commands[i].usage);
    }
    fprintf(out, "\nThe database is MSP_DATABASE_URL (a libpq connection string for "
                 "the schema owner).\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0)
    {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    ctl_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
