/*
 * pack_sign.c - a pack's manifest and its Ed25519 signature.
 */
#include "packs/pack_sign.h"

#include "common/sha256.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
msp_pack_manifest_text(const json_t *manifest)
{
    return json_dumps(manifest, JSON_SORT_KEYS | JSON_COMPACT);
}

char *
msp_pack_manifest(const json_t *doc, const msp_pack_files_t *files)
{
    const json_t *pack = json_object_get(doc, "pack");
    json_t *hashes = json_object();
    for (size_t i = 0; i < files->n; i++) {
        char hex[MSP_SHA256_HEX_LEN + 1];
        if (msp_sha256_hex(files->files[i].data, files->files[i].len, hex) != 0) {
            json_decref(hashes);
            return NULL;
        }
        json_object_set_new(hashes, files->files[i].name, json_string(hex));
    }
    json_t *m = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:o}",
                          "pack", json_object_get(pack, "id"),
                          "tenant", json_object_get(json_object_get(pack, "tenant"), "slug"),
                          "kind", json_object_get(pack, "kind"),
                          "period", json_object_get(json_object_get(pack, "period"), "name"),
                          "as_of", json_object_get(pack, "as_of"),
                          "definitions", json_object_get(pack, "definitions"),
                          "supersedes", json_object_get(pack, "supersedes"),
                          "files", hashes);
    if (m == NULL) {
        return NULL;
    }
    char *text = msp_pack_manifest_text(m);
    json_decref(m);
    return text;
}

EVP_PKEY *
msp_pack_key_load(const char *path, char *why, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(why, size, "cannot read the pack key %s", path);
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        snprintf(why, size, "%s is not an Ed25519 private key in PEM "
                            "(openssl genpkey -algorithm ed25519)", path);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

int
msp_pack_public_key(EVP_PKEY *key, char **pem, char id[MSP_PACK_KEY_ID_LEN + 1])
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
        BIO_free(bio);
        return -1;
    }
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    *pem = len > 0 ? strndup(data, (size_t) len) : NULL;
    BIO_free(bio);
    char hex[MSP_SHA256_HEX_LEN + 1];
    if (*pem == NULL || msp_sha256_hex(*pem, strlen(*pem), hex) != 0) {
        free(*pem);
        *pem = NULL;
        return -1;
    }
    memcpy(id, hex, MSP_PACK_KEY_ID_LEN);
    id[MSP_PACK_KEY_ID_LEN] = '\0';
    return 0;
}

char *
msp_pack_sign(EVP_PKEY *key, const char *text, size_t len)
{
    unsigned char sig[64];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* Ed25519 signs the message itself: no digest is named */
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1
        || EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *) text, len) != 1)
    {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    EVP_MD_CTX_free(ctx);
    char *b64 = malloc(4 * ((sig_len + 2) / 3) + 1);
    if (b64 != NULL) {
        EVP_EncodeBlock((unsigned char *) b64, sig, (int) sig_len);
    }
    return b64;
}

int
msp_pack_verify(const char *public_pem, const char *text, size_t len, const char *signature)
{
    unsigned char sig[66];
    size_t b64_len = strlen(signature);
    if (b64_len != 88) {       /* 64 bytes in base64 */
        return -1;
    }
    if (EVP_DecodeBlock(sig, (const unsigned char *) signature, (int) b64_len) != 66) {
        return -1;
    }
    BIO *bio = BIO_new_mem_buf(public_pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1) {
        rc = EVP_DigestVerify(ctx, sig, 64, (const unsigned char *) text, len) == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return rc;
}
