/*
 * sha256.h - SHA-256 as lowercase hex, the one digest the project uses:
 * migration checksums, tenant file identity, export manifests.
 */
#ifndef MSP_SHA256_H
#define MSP_SHA256_H

#include <stddef.h>

#define MSP_SHA256_HEX_LEN 64

typedef struct msp_sha256 msp_sha256_t;

/* Incremental use: new, update as often as needed, then finish, which
 * writes 64 hex digits and a NUL into hex and frees the context.
 * msp_sha256_new() returns NULL when out of memory. */
msp_sha256_t *msp_sha256_new(void);
void msp_sha256_update(msp_sha256_t *ctx, const void *data, size_t len);
void msp_sha256_finish(msp_sha256_t *ctx, char hex[MSP_SHA256_HEX_LEN + 1]);

/* One shot.  Returns 0, or -1 when out of memory. */
int msp_sha256_hex(const void *data, size_t len, char hex[MSP_SHA256_HEX_LEN + 1]);

#endif
