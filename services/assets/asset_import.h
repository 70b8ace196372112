/*
 * asset_import.h - reading an MDM's device export (CSV or JSON) into
 * asset rows, by a named column profile: Microsoft Intune's, Jamf Pro's,
 * or the generic one whose columns are the API's field names (README,
 * "Importing assets", lists each profile's columns).
 *
 * The reader streams CSV through a window of fixed size, so a file of any
 * length is read in bounded memory; a JSON file is read whole (jansson
 * has no streaming parser).  Each row comes out as the JSON
 * app.stage_assets() takes (migrations/0026):
 *
 *     {"line": 7, "fields": {"serial": "C02X...", "encrypted": "true", ...},
 *      "defaults": {"kind": "laptop", "status": "deployed"}}
 *     {"line": 9, "reason": "has 12 fields where the header has 14"}
 *
 * Values are text as the profile normalized them (a yes becomes "true",
 * a timestamp keeps its form); the database checks each and reports what
 * it refuses, so every problem with a row is named in one place.  The
 * defaults are the profile's guesses, used only when the row creates an
 * asset.  For JSON, "line" is the item's position in the array, from 1.
 */
#ifndef MSP_ASSET_IMPORT_H
#define MSP_ASSET_IMPORT_H

#include <jansson.h>
#include <stddef.h>

/* ---- the profiles (asset_profiles.c) ---------------------------------------- */

/* How an exported value becomes a field's text. */
typedef enum {
    MSP_VALUE_TEXT,       /* as it is, trimmed */
    MSP_VALUE_DATE,       /* a date; a time's date; the "never" dates are none */
    MSP_VALUE_TIME,       /* a time as exported; the "never" times are none */
    MSP_VALUE_DAY_TIME,   /* a date, meaning its midnight UTC (a patch level) */
    MSP_VALUE_BOOL,       /* true/false, yes/no, 1/0 */
    MSP_VALUE_FILEVAULT,  /* Jamf's FileVault 2 status: encrypted or not */
    MSP_VALUE_MANAGED,    /* Jamf's Managed/Unmanaged */
    MSP_VALUE_MDM_STATE   /* Intune's device state: enrolled unless leaving */
} msp_value_t;

typedef struct {
    const char  *header;  /* the CSV column, matched without regard to case */
    const char  *path;    /* the JSON member, "hardware.serialNumber"; NULL: none */
    const char  *field;   /* the asset's field it gives */
    msp_value_t  value;
} msp_profile_column_t;

typedef struct {
    const char                 *name;
    const char                 *source;     /* "import:jamf": its assets' events say so */
    const msp_profile_column_t *columns;    /* ended by a NULL header */
    /* a column the export must have (NULL: a serial or a tag column) */
    const char                 *required;
    /* whether a column the profile does not know is an error (the
     * generic profile: a typo must not go unnoticed) or ignored (an MDM
     * exports dozens the assets do not keep) */
    int                         strict;
    /* the members of a JSON document that hold the devices' array */
    const char *const          *arrays;
    /* the guesses for a new asset from the fields read (kind, status...),
     * added to defaults */
    void                      (*guess)(const json_t *fields, json_t *defaults);
} msp_asset_profile_t;

/* The field's text for an exported value, or NULL when it gives none (an
 * empty cell, a "never" date).  A value the rule does not recognise is
 * kept as it is, for the database to refuse with its reason. */
const char *msp_value_text(msp_value_t rule, const char *value, char *buf, size_t size);

/* The profile of that name (intune, jamf, generic), or NULL. */
const msp_asset_profile_t *msp_asset_profile(const char *name);

/* ---- the reader (asset_import.c) ----------------------------------------------- */

/* Reads up to size bytes of the export into buf: how many, 0 at its end,
 * -1 when it cannot be read. */
typedef long (*msp_import_fill_fn)(void *arg, char *buf, size_t size);

typedef struct msp_asset_reader msp_asset_reader_t;

/* A reader of the export fill gives; NULL when out of memory. */
msp_asset_reader_t *msp_asset_reader_new(const msp_asset_profile_t *profile,
                                         msp_import_fill_fn fill, void *arg);

/*
 * The next row: 1 with *row (a new reference), 0 at the end, -1 when the
 * file cannot be read (not UTF-8, not comma-separated, a column the
 * profile requires missing, JSON that does not parse, ...): why says
 * what, naming the line, and nothing of the file may be imported.
 */
int msp_asset_reader_next(msp_asset_reader_t *r, json_t **row, char *why, size_t size);

/* Rows read so far, blank ones aside. */
long msp_asset_reader_rows(const msp_asset_reader_t *r);

void msp_asset_reader_free(msp_asset_reader_t *r);

#endif
