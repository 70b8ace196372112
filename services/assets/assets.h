/*
 * assets.h - a tenant's assets: the devices (and licences) its tickets,
 * reports and audits point at, with their history.
 *
 * assets.c serves the records (POST, GET a page, GET one as it is or was,
 * PATCH with If-Match, their history and their tickets); asset_import.c
 * reads MDM exports by a column profile (asset_profiles.c) for POST
 * .../assets/import (assets_import_api.c) and `mspctl assets import`;
 * compliance.c answers the compliance report and its drill-down.
 */
#ifndef MSP_ASSETS_H
#define MSP_ASSETS_H

#include "auth/principal.h"
#include "call/call.h"

/* POST and GET /v1/tenants/{slug}/assets */
msp_outcome_t msp_asset_create_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_asset_list_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* GET (as_of) and PATCH /v1/tenants/{slug}/assets/{id} */
msp_outcome_t msp_asset_get_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);
msp_outcome_t msp_asset_update_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* GET /v1/tenants/{slug}/assets/{id}/history and .../tickets */
msp_outcome_t msp_asset_history_start(msp_call_t *call, msp_step_t *first,
                                      msp_reply_t *reply);
msp_outcome_t msp_asset_tickets_start(msp_call_t *call, msp_step_t *first,
                                      msp_reply_t *reply);

/* POST /v1/tenants/{slug}/assets/import?profile=...&dry_run=... */
msp_outcome_t msp_asset_import_start(msp_call_t *call, msp_step_t *first, msp_reply_t *reply);

/* GET /v1/tenants/{slug}/reports/compliance and .../compliance/assets */
msp_outcome_t msp_report_compliance_start(msp_call_t *call, msp_step_t *first,
                                          msp_reply_t *reply);
msp_outcome_t msp_report_compliance_assets_start(msp_call_t *call, msp_step_t *first,
                                                 msp_reply_t *reply);

/* Who reads assets: staff of either side (not requesters, not machine
 * clients); who writes and imports them: those who work tickets
 * (app.role_may's "work"). */
int msp_reads_assets(const msp_principal_t *p);
int msp_writes_assets(const msp_principal_t *p);

/* The replies the asset services share. */
msp_outcome_t msp_reply_no_asset(msp_call_t *call, msp_reply_t *reply);
msp_outcome_t msp_reply_not_asset_reader(msp_call_t *call, msp_reply_t *reply);
msp_outcome_t msp_reply_not_asset_writer(msp_call_t *call, msp_reply_t *reply);

#endif
