/*
 * report_settle.c - the settling sweep's statement and principal.
 */
#include "reports/report_settle.h"

static const msp_sql_t sql_report_settle = {
    "report_settle", "SELECT app.settle_report_headlines($1::integer)", 1
};

static const msp_principal_t report_settler = {
    .sub = "msp-gateway:report-settle",
    .name = "Report settling",
    .org = "provider",
    .role = "admin",
    .is_provider = 1,
};

const msp_sweep_t msp_report_settle = {
    "report settle", &sql_report_settle, 100, &report_settler
};
