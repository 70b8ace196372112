/*
 * asset_profiles.c - the column profiles of the MDM exports the assets
 * import (README, "Importing assets"): Microsoft Intune's device export
 * (Devices > All devices > Export, and Graph's managedDevices JSON), Jamf
 * Pro's computer inventory (an advanced computer search saved as CSV, and
 * the computers-inventory API's JSON), and the generic one.
 *
 * An MDM knows what it manages: which user has a device, when it last
 * checked in, whether its disk is encrypted.  It rarely knows the asset
 * tag, the site or the warranty; those columns, where an export has them,
 * are read too.  What an MDM cannot say outright (is a Windows device a
 * laptop?) is guessed for a new asset only, so an import never undoes
 * what a person corrected.
 */
#include "assets/asset_import.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- values --------------------------------------------------------------- */

static int
starts_with(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int
contains(const char *s, const char *part)
{
    return s != NULL && strcasestr(s, part) != NULL;
}

/* Whether s begins with YYYY-MM-DD. */
static int
dated(const char *s)
{
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char) s[i])) {
            return 0;
        }
    }
    return 1;
}

/* The placeholders exports write for "never": .NET's and Unix's first
 * days. */
static int
never(const char *s)
{
    return starts_with(s, "0001-01-01") || starts_with(s, "1970-01-01");
}

/* One of a NULL-terminated list, without regard to case. */
static int
one_of(const char *s, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcasecmp(s, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *
msp_value_text(msp_value_t rule, const char *value, char *buf, size_t size)
{
    static const char *const yes[] = { "true", "yes", "y", "1", NULL };
    static const char *const no[] = { "false", "no", "n", "0", NULL };
    static const char *const encrypted[] = {
        "All Partitions Encrypted", "Boot Partitions Encrypted", "Encrypted", "ALL_ENCRYPTED",
        "BOOT_ENCRYPTED", NULL
    };
    static const char *const not_encrypted[] = {
        "No Partitions Encrypted", "Some Partitions Encrypted", "Not Encrypted",
        "NOT_ENCRYPTED", "SOME_ENCRYPTED", NULL
    };
    static const char *const unknown[] = { "N/A", "NOT_APPLICABLE", "Unknown", NULL };

    /* trimmed into buf */
    while (isspace((unsigned char) *value)) {
        value++;
    }
    size_t len = strlen(value);
    while (len > 0 && isspace((unsigned char) value[len - 1])) {
        len--;
    }
    if (len == 0) {
        return NULL;
    }
    if (len >= size) {
        len = size - 1;
    }
    memcpy(buf, value, len);
    buf[len] = '\0';

    switch (rule) {
    case MSP_VALUE_TEXT:
        return buf;
    case MSP_VALUE_DATE:
        if (never(buf)) {
            return NULL;
        }
        if (dated(buf)) {
            buf[10] = '\0';
        }
        return buf;
    case MSP_VALUE_TIME:
        return never(buf) ? NULL : buf;
    case MSP_VALUE_DAY_TIME:
        if (never(buf)) {
            return NULL;
        }
        if (dated(buf) && buf[10] == '\0' && size > 20) {
            memcpy(buf + 10, "T00:00:00Z", 11);
        }
        return buf;
    case MSP_VALUE_BOOL:
        return one_of(buf, yes) ? "true" : one_of(buf, no) ? "false"
               : one_of(buf, unknown) ? NULL : buf;
    case MSP_VALUE_FILEVAULT:
        return one_of(buf, encrypted) ? "true" : one_of(buf, not_encrypted) ? "false"
               : one_of(buf, unknown) ? NULL : buf;
    case MSP_VALUE_MANAGED:
        return strcasecmp(buf, "Managed") == 0 || strcasecmp(buf, "true") == 0 ? "true"
               : strcasecmp(buf, "Unmanaged") == 0 || strcasecmp(buf, "false") == 0 ? "false"
               : buf;
    case MSP_VALUE_MDM_STATE:
        /* a device Intune is retiring, wiping or deleting is on its way out */
        return starts_with(buf, "retire") || starts_with(buf, "wipe")
               || starts_with(buf, "delete") ? "false" : "true";
    }
    return buf;
}

/* ---- guesses for a new asset ------------------------------------------------ */

static const char *
field(const json_t *fields, const char *name)
{
    return json_string_value(json_object_get(fields, name));
}

/* A computer's kind from its model: the desktop lines of the vendors
 * MDMs manage most, virtual machines as servers, else a laptop (most
 * managed computers are). */
static const char *
computer_kind(const char *model)
{
    static const char *const desktops[] = {
        "iMac", "Mac mini", "Mac Pro", "Mac Studio", "OptiPlex", "ThinkCentre", "EliteDesk",
        "ProDesk", "Desktop", "Tower", "All-in-One", "Precision 3", "Precision 5820",
        "Precision 7", NULL
    };
    static const char *const virtual[] = { "Virtual", "VMware", "KVM", "HVM domU", NULL };
    for (const char *const *d = virtual; *d != NULL; d++) {
        if (contains(model, *d)) {
            return "server";
        }
    }
    for (const char *const *d = desktops; *d != NULL; d++) {
        if (contains(model, *d)) {
            return "desktop";
        }
    }
    return "laptop";
}

static void
guess_intune(const json_t *fields, json_t *defaults)
{
    const char *os = field(fields, "os"), *model = field(fields, "model");
    const char *kind = "other";
    if (os == NULL) {
        kind = computer_kind(model);
    } else if (starts_with(os, "iPadOS") || (starts_with(os, "iOS") && contains(model, "iPad"))) {
        kind = "tablet";
    } else if (starts_with(os, "iOS") || starts_with(os, "Android")) {
        kind = contains(model, "Tab") ? "tablet" : "phone";
    } else if (starts_with(os, "Windows") || starts_with(os, "macOS")
               || starts_with(os, "Linux")) {
        kind = computer_kind(model);
    }
    json_object_set_new(defaults, "kind", json_string(kind));
    json_object_set_new(defaults, "status", json_string("deployed"));
}

static void
guess_jamf(const json_t *fields, json_t *defaults)
{
    const char *model = field(fields, "model");
    json_object_set_new(defaults, "kind",
                        json_string(contains(model, "MacBook") ? "laptop" : "desktop"));
    json_object_set_new(defaults, "manufacturer", json_string("Apple"));
    json_object_set_new(defaults, "os", json_string("macOS"));
    json_object_set_new(defaults, "status", json_string("deployed"));
}

/* ---- the profiles --------------------------------------------------------------- */

static const msp_profile_column_t intune_columns[] = {
    { "Serial number", "serialNumber", "serial", MSP_VALUE_TEXT },
    { "Device name", "deviceName", "name", MSP_VALUE_TEXT },
    { "Manufacturer", "manufacturer", "manufacturer", MSP_VALUE_TEXT },
    { "Model", "model", "model", MSP_VALUE_TEXT },
    { "OS", "operatingSystem", "os", MSP_VALUE_TEXT },
    { "OS version", "osVersion", "os_version", MSP_VALUE_TEXT },
    { "Primary user UPN", "userPrincipalName", "assigned_to", MSP_VALUE_TEXT },
    { "Primary user email address", "emailAddress", "assigned_to", MSP_VALUE_TEXT },
    { "Last check-in", "lastSyncDateTime", "last_seen", MSP_VALUE_TIME },
    { "Encrypted", "isEncrypted", "encrypted", MSP_VALUE_BOOL },
    { "Device state", "managementState", "enrolled", MSP_VALUE_MDM_STATE },
    { "Security patch level", "androidSecurityPatchLevel", "last_patched",
      MSP_VALUE_DAY_TIME },
    { NULL, NULL, NULL, MSP_VALUE_TEXT }
};

static const msp_profile_column_t jamf_columns[] = {
    { "Serial Number", "hardware.serialNumber", "serial", MSP_VALUE_TEXT },
    { "Asset Tag", "general.assetTag", "tag", MSP_VALUE_TEXT },
    { "Computer Name", "general.name", "name", MSP_VALUE_TEXT },
    { "Make", "hardware.make", "manufacturer", MSP_VALUE_TEXT },
    { "Model", "hardware.model", "model", MSP_VALUE_TEXT },
    { "Operating System Version", "operatingSystem.version", "os_version", MSP_VALUE_TEXT },
    { "Username", "userAndLocation.username", "assigned_to", MSP_VALUE_TEXT },
    { "Email Address", "userAndLocation.email", "assigned_to", MSP_VALUE_TEXT },
    { "Department", NULL, "department", MSP_VALUE_TEXT },
    { "Building", NULL, "site", MSP_VALUE_TEXT },
    { "Last Check-in", "general.lastContactTime", "last_seen", MSP_VALUE_TIME },
    { "PO Date", "purchasing.poDate", "purchase_date", MSP_VALUE_DATE },
    { "Warranty Expiration", "purchasing.warrantyDate", "warranty_end", MSP_VALUE_DATE },
    { "FileVault 2 Status", "operatingSystem.fileVault2Status", "encrypted",
      MSP_VALUE_FILEVAULT },
    { "Managed", "general.remoteManagement.managed", "enrolled", MSP_VALUE_MANAGED },
    { NULL, NULL, NULL, MSP_VALUE_TEXT }
};

/* The API's own names; custom fields as custom.<name> columns (CSV) or a
 * "custom" object (JSON). */
static const msp_profile_column_t generic_columns[] = {
    { "serial", "serial", "serial", MSP_VALUE_TEXT },
    { "tag", "tag", "tag", MSP_VALUE_TEXT },
    { "name", "name", "name", MSP_VALUE_TEXT },
    { "kind", "kind", "kind", MSP_VALUE_TEXT },
    { "manufacturer", "manufacturer", "manufacturer", MSP_VALUE_TEXT },
    { "model", "model", "model", MSP_VALUE_TEXT },
    { "os", "os", "os", MSP_VALUE_TEXT },
    { "os_version", "os_version", "os_version", MSP_VALUE_TEXT },
    { "assigned_to", "assigned_to", "assigned_to", MSP_VALUE_TEXT },
    { "department", "department", "department", MSP_VALUE_TEXT },
    { "site", "site", "site", MSP_VALUE_TEXT },
    { "status", "status", "status", MSP_VALUE_TEXT },
    { "purchase_date", "purchase_date", "purchase_date", MSP_VALUE_TEXT },
    { "warranty_end", "warranty_end", "warranty_end", MSP_VALUE_TEXT },
    { "criticality", "criticality", "criticality", MSP_VALUE_TEXT },
    { "encrypted", "encrypted", "encrypted", MSP_VALUE_BOOL },
    { "enrolled", "enrolled", "enrolled", MSP_VALUE_BOOL },
    { "last_seen", "last_seen", "last_seen", MSP_VALUE_TEXT },
    { "last_patched", "last_patched", "last_patched", MSP_VALUE_TEXT },
    { NULL, NULL, NULL, MSP_VALUE_TEXT }
};

static const char *const intune_arrays[] = { "value", NULL };
static const char *const jamf_arrays[] = { "results", NULL };
static const char *const generic_arrays[] = { "assets", NULL };

static const msp_asset_profile_t profiles[] = {
    { "intune", "import:intune", intune_columns, "Serial number", 0, intune_arrays,
      guess_intune },
    { "jamf", "import:jamf", jamf_columns, "Serial Number", 0, jamf_arrays, guess_jamf },
    { "generic", "import:generic", generic_columns, NULL, 1, generic_arrays, NULL },
};

const msp_asset_profile_t *
msp_asset_profile(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        if (strcmp(profiles[i].name, name) == 0) {
            return &profiles[i];
        }
    }
    return NULL;
}
