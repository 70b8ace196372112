/*
 * pack_sign.h - a pack's manifest and its Ed25519 signature (OpenSSL).
 *
 * The manifest names the pack (tenant, kind, period, as_of, what it
 * supersedes) and the SHA-256 of each of its files.  Its bytes are the
 * JSON object written with sorted keys and no spaces, so anyone who holds
 * the manifest document can rebuild the exact bytes that were signed.
 * The provider's pack key signs them; its public half is named by the
 * first 16 hex digits of the SHA-256 of its PEM text (the key id).
 */
#ifndef MSP_PACK_SIGN_H
#define MSP_PACK_SIGN_H

#include "packs/pack.h"

#include <jansson.h>
#include <openssl/evp.h>

#define MSP_PACK_KEY_ID_LEN 16

/* The manifest of the document's pack and its files: the exact bytes to
 * sign (malloc'd, NUL-terminated), or NULL when out of memory. */
char *msp_pack_manifest(const json_t *doc, const msp_pack_files_t *files);

/* The bytes that were signed, rebuilt from a manifest object (malloc'd),
 * or NULL. */
char *msp_pack_manifest_text(const json_t *manifest);

/* Loads an Ed25519 private key (PEM); NULL with why. */
EVP_PKEY *msp_pack_key_load(const char *path, char *why, size_t size);

/* The public half as PEM (malloc'd) and its key id; -1 on failure. */
int msp_pack_public_key(EVP_PKEY *key, char **pem, char id[MSP_PACK_KEY_ID_LEN + 1]);

/* Signs text: the signature in base64 (malloc'd), or NULL. */
char *msp_pack_sign(EVP_PKEY *key, const char *text, size_t len);

/* Whether signature (base64) is public_pem's over text: 1 yes, 0 no, -1
 * when the key or signature cannot be read. */
int msp_pack_verify(const char *public_pem, const char *text, size_t len, const char *signature);

#endif
