/*
 * sha256.c - SHA-256 as lowercase hex (OpenSSL's EVP interface).
 */
#include "common/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>


msp_sha256_t *
msp_sha256_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NULL;
    }
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    /* The context is the EVP context itself; the struct only names it. */
    return (msp_sha256_t *) md;
}

void
msp_sha256_update(msp_sha256_t *ctx, const void *data, size_t len)
{
    EVP_DigestUpdate((EVP_MD_CTX *) ctx, data, len);
}

void
msp_sha256_finish(msp_sha256_t *ctx, char hex[MSP_SHA256_HEX_LEN + 1])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int  n = 0;

    EVP_DigestFinal_ex((EVP_MD_CTX *) ctx, digest, &n);
    EVP_MD_CTX_free((EVP_MD_CTX *) ctx);

    for (unsigned int i = 0; i < n && i < MSP_SHA256_HEX_LEN / 2; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    hex[MSP_SHA256_HEX_LEN] = '\0';
}

int
msp_sha256_hex(const void *data, size_t len, char hex[MSP_SHA256_HEX_LEN + 1])
{
    msp_sha256_t *ctx = msp_sha256_new();
    if (ctx == NULL) {
        return -1;
    }
    msp_sha256_update(ctx, data, len);
    msp_sha256_finish(ctx, hex);
    return 0;
}
