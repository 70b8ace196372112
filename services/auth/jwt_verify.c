/*
 * jwt_verify.c - verifying bearer tokens (JWS) into principals.
 */
#include "auth/jwt_verify.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

/* Key files are a few hundred bytes; anything much larger is a mistake. */
#define KEY_FILE_MAX  (64 * 1024)

static const struct {
    msp_jwt_alg_t alg;
    const char   *name;
    jwt_alg_t     libjwt;
} algorithms[] = {
    { MSP_JWT_HS256, "HS256", JWT_ALG_HS256 },
    { MSP_JWT_RS256, "RS256", JWT_ALG_RS256 },
    { MSP_JWT_ES256, "ES256", JWT_ALG_ES256 },
};

#define NALGORITHMS (sizeof(algorithms) / sizeof(algorithms[0]))

const char *
msp_jwt_alg_name(msp_jwt_alg_t alg)
{
    for (size_t i = 0; i < NALGORITHMS; i++) {
        if (algorithms[i].alg == alg) {
            return algorithms[i].name;
        }
    }
    return NULL;
}

int
msp_jwt_alg_from_name(const char *name, msp_jwt_alg_t *alg)
{
    /* JOSE algorithm names are case-sensitive (RFC 7515, 4.1.1). */
    for (size_t i = 0; name != NULL && i < NALGORITHMS; i++) {
        if (strcmp(name, algorithms[i].name) == 0) {
            *alg = algorithms[i].alg;
            return 0;
        }
    }
    return -1;
}

static jwt_alg_t
libjwt_alg(msp_jwt_alg_t alg)
{
    for (size_t i = 0; i < NALGORITHMS; i++) {
        if (algorithms[i].alg == alg) {
            return algorithms[i].libjwt;
        }
    }
    return JWT_ALG_INVAL;
}


/* ------------------------------------------------------------------ */
/* base64url                                                           */

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/*
 * Decodes unpadded base64url (RFC 7515, appendix C) into out, which holds
 * at least len * 3 / 4 bytes, or only validates when out is NULL.  Strict
 * on purpose: no padding, no other alphabet, and the unused bits of the
 * last character must be zero, so each byte string has one encoding and
 * nothing else gets as far as libjwt's lenient decoder.  Returns the
 * decoded length, or -1.
 */
static long
b64url_decode(const char *s, size_t len, unsigned char *out)
{
    unsigned acc = 0, bits = 0;
    size_t   n = 0;

    if (len % 4 == 1) {            /* 6 bits cannot end a byte */
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char) s[i]);
        if (v < 0) {
            return -1;
        }
        acc = ((acc << 6) | (unsigned) v) & 0x3fff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out != NULL) {
                out[n] = (unsigned char) (acc >> bits);
            }
            n++;
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) {
        return -1;
    }
    return (long) n;
}


/* ------------------------------------------------------------------ */
/* the compact serialization                                           */

typedef struct {
    const char *p;
    size_t      len;
} span_t;

typedef struct {
    span_t header, payload, signature;
} jws_t;

/* Exactly three non-empty base64url segments: header.payload.signature. */
static int
split_token(const char *token, size_t len, jws_t *jws, const char **why)
{
    const char *end = token + len;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t) (end - dot1 - 1)) : NULL;

    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t) (end - dot2 - 1)) != NULL) {
        *why = "token is not three dot-separated segments";
        return -1;
    }

    jws->header = (span_t) { token, (size_t) (dot1 - token) };
    jws->payload = (span_t) { dot1 + 1, (size_t) (dot2 - dot1 - 1) };
    jws->signature = (span_t) { dot2 + 1, (size_t) (end - dot2 - 1) };

    if (jws->header.len == 0 || jws->payload.len == 0) {
        *why = "token has an empty segment";
        return -1;
    }
    if (jws->signature.len == 0) {
        *why = "token is unsigned";
        return -1;
    }
    if (b64url_decode(jws->header.p, jws->header.len, NULL) < 0
        || b64url_decode(jws->payload.p, jws->payload.len, NULL) < 0
        || b64url_decode(jws->signature.p, jws->signature.len, NULL) < 0)
    {
        *why = "token segment is not base64url";
        return -1;
    }
    return 0;
}

/*
 * A segment's JSON object, or NULL.  Duplicate members are refused: two
 * parsers (ours and libjwt's) must never disagree on which one counts.
 * Strings with an escaped NUL are refused too (no JSON_ALLOW_NUL).
 */
static json_t *
decode_object(span_t seg)
{
    unsigned char *buf = malloc(seg.len * 3 / 4 + 1);
    json_t        *doc = NULL;

    if (buf == NULL) {
        return NULL;
    }
    long n = b64url_decode(seg.p, seg.len, buf);
    if (n > 0) {
        doc = json_loadb((const char *) buf, (size_t) n, JSON_REJECT_DUPLICATES, NULL);
    }
    free(buf);

    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/*
 * The text of a JSON string, or NULL if v is not one.  The text is the
 * whole string: decode_object() parses without JSON_ALLOW_NUL, so an
 * escaped NUL ("provider\u0000x") never gets this far.
 */
static const char *
string_value(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *
string_member(const json_t *obj, const char *name)
{
    return string_value(json_object_get(obj, name));
}


/* ------------------------------------------------------------------ */
/* header: which key, and is the algorithm the one pinned to it        */

static const msp_jwt_key_t *
find_key(const msp_jwt_config_t *cfg, const char *kid)
{
    for (size_t i = 0; i < cfg->nkeys; i++) {
        if (strcmp(cfg->keys[i].kid, kid) == 0) {
            return &cfg->keys[i];
        }
    }
    return NULL;
}

static const msp_jwt_key_t *
key_for_header(const msp_jwt_config_t *cfg, const json_t *header, const char **why)
{
    const char *alg = string_member(header, "alg");
    const char *kid = string_member(header, "kid");

    if (alg == NULL) {
        *why = "token header has no \"alg\" string";
        return NULL;
    }
    if (strcasecmp(alg, "none") == 0) {
        *why = "token alg \"none\" is refused";
        return NULL;
    }
    if (kid == NULL) {
        *why = "token header has no \"kid\" string";
        return NULL;
    }
    /* RFC 7515, 4.1.11: extensions marked critical must be understood. */
    if (json_object_get(header, "crit") != NULL) {
        *why = "token header has \"crit\" extensions";
        return NULL;
    }
    /* libjwt 1.10 fails any other typ ("at+jwt", RFC 9068) as it would a
     * bad signature; say so rather than blame the signature */
    if (json_object_get(header, "typ") != NULL) {
        const char *typ = string_member(header, "typ");
        if (typ == NULL || strcasecmp(typ, "JWT") != 0) {
            *why = "token typ is not \"JWT\"";
            return NULL;
        }
    }

    const msp_jwt_key_t *key = find_key(cfg, kid);
    if (key == NULL) {
        *why = "token kid is unknown";
        return NULL;
    }
    if (strcmp(alg, msp_jwt_alg_name(key->alg)) != 0) {
        *why = "token alg is not the one pinned to its kid";
        return NULL;
    }
    return key;
}


/* ------------------------------------------------------------------ */
/* signature                                                           */

/*
 * libjwt wants a NUL-terminated token and picks the algorithm from the
 * header; key_for_header() has already made sure that is the key's own.
 * The decoded jwt_t is not kept: the claims are read from the payload
 * bytes the signature covers.
 */
static int
verify_signature(const msp_jwt_key_t *key, const char *token, size_t len,
                 const char **why)
{
    char  *copy = malloc(len + 1);
    jwt_t *jwt = NULL;

    if (copy == NULL) {
        *why = "out of memory";
        return -1;
    }
    memcpy(copy, token, len);
    copy[len] = '\0';

    int rc = jwt_decode(&jwt, copy, key->key, (int) key->key_len);
    int same_alg = rc == 0 && jwt_get_alg(jwt) == libjwt_alg(key->alg);

    jwt_free(jwt);
    free(copy);

    /* a failed verification leaves OpenSSL errors that nginx's TLS code
     * would otherwise find and report against an unrelated connection */
    ERR_clear_error();

    if (rc == ENOMEM) {
        *why = "out of memory";
        return -1;
    }
    if (rc != 0) {
        *why = "token signature does not verify";
        return -1;
    }
    if (!same_alg) {
        *why = "token alg is not the one pinned to its kid";
        return -1;
    }
    return 0;
}


/* ------------------------------------------------------------------ */
/* claims                                                              */

/* NumericDate (RFC 7519, 2): seconds, possibly fractional. */
static int
numeric_date(const json_t *claims, const char *name, double *out)
{
    const json_t *v = json_object_get(claims, name);

    if (!json_is_number(v)) {
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static int
check_times(const json_t *claims, time_t now, long leeway, const char **why)
{
    double exp, nbf;

    if (leeway < 0) {
        leeway = 0;
    }
    if (numeric_date(claims, "exp", &exp) != 0) {
        *why = "token has no numeric \"exp\"";
        return -1;
    }
    if (exp <= (double) now - (double) leeway) {
        *why = "token has expired";
        return -1;
    }
    if (json_object_get(claims, "nbf") != NULL) {
        if (numeric_date(claims, "nbf", &nbf) != 0) {
            *why = "token \"nbf\" is not numeric";
            return -1;
        }
        if (nbf > (double) now + (double) leeway) {
            *why = "token is not valid yet";
            return -1;
        }
    }
    return 0;
}

/* "aud" is a string or an array of strings (RFC 7519, 4.1.3). */
static int
audience_matches(const json_t *claims, const char *audience)
{
    const json_t *aud = json_object_get(claims, "aud");
    const char   *text = string_value(aud);
    size_t        i;
    json_t       *item;

    if (text != NULL) {
        return strcmp(text, audience) == 0;
    }
    if (!json_is_array(aud)) {
        return 0;
    }
    json_array_foreach(aud, i, item) {
        text = string_value(item);
        if (text != NULL && strcmp(text, audience) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
check_issuer_audience(const msp_jwt_config_t *cfg, const json_t *claims, const char **why)
{
    const char *iss = string_member(claims, "iss");

    if (cfg->issuer == NULL || cfg->audience == NULL) {
        *why = "no issuer or audience is configured";
        return -1;
    }
    if (iss == NULL || strcmp(iss, cfg->issuer) != 0) {
        *why = "token issuer is not the configured one";
        return -1;
    }
    if (!audience_matches(claims, cfg->audience)) {
        *why = "token audience is not the configured one";
        return -1;
    }
    return 0;
}

static int
claims_to_principal(const json_t *claims, msp_principal_t *p, const char **why)
{
    const char *sub = string_member(claims, "sub");
    const char *name = string_member(claims, "name");
    const char *org = string_member(claims, "msp_org");
    const char *role = string_member(claims, "msp_role");

    if (sub == NULL) {
        *why = "token claim \"sub\" is missing or not a string";
        return -1;
    }
    if (name == NULL && json_object_get(claims, "name") != NULL) {
        *why = "token claim \"name\" is not a string";
        return -1;
    }
    if (org == NULL) {
        *why = "token claim \"msp_org\" is missing or not a string";
        return -1;
    }
    if (role == NULL) {
        *why = "token claim \"msp_role\" is missing or not a string";
        return -1;
    }
    return msp_principal_from_claims(p, sub, name, org, role, why);
}


/* ------------------------------------------------------------------ */

int
msp_jwt_verify(const msp_jwt_config_t *cfg, const char *token, size_t len,
               time_t now, msp_principal_t *p, const char **why)
{
    jws_t                jws;
    json_t              *header, *claims;
    const msp_jwt_key_t *key;
    int                  rc;

    memset(p, 0, sizeof(*p));

    if (len == 0) {
        *why = "token is empty";
        return -1;
    }
    if (len > MSP_JWT_TOKEN_MAX) {
        *why = "token is longer than 8 KiB";
        return -1;
    }
    if (split_token(token, len, &jws, why) != 0) {
        return -1;
    }

    header = decode_object(jws.header);
    if (header == NULL) {
        *why = "token header is not a JSON object";
        return -1;
    }
    key = key_for_header(cfg, header, why);
    json_decref(header);
    if (key == NULL) {
        return -1;
    }

    /* parsed before libjwt sees it so that a token libjwt cannot parse is
     * logged as such, not as a bad signature; trusted only once it verifies */
    claims = decode_object(jws.payload);
    if (claims == NULL) {
        *why = "token payload is not a JSON object";
        return -1;
    }

    rc = verify_signature(key, token, len, why) == 0
         && check_times(claims, now, cfg->leeway, why) == 0
         && check_issuer_audience(cfg, claims, why) == 0
         && claims_to_principal(claims, p, why) == 0
         ? 0 : -1;
    json_decref(claims);

    if (rc != 0) {
        memset(p, 0, sizeof(*p));
    }
    return rc;
}


/* ------------------------------------------------------------------ */
/* loading keys                                                        */

/* Kids appear in headers and logs: 1 to 64 visible ASCII characters. */
static int
is_kid(const char *kid)
{
    size_t len = kid ? strlen(kid) : 0;

    if (len == 0 || len > MSP_JWT_KID_MAX) {
        return 0;
    }
    for (; *kid; kid++) {
        if (*kid < 0x21 || *kid > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/* The whole file, NUL-terminated, or NULL with *why (errno kept when the
 * file could not be read). */
static unsigned char *
read_key_file(const char *path, size_t *len, const char **why)
{
    FILE          *f = fopen(path, "rb");
    unsigned char *buf;
    size_t         n;

    if (f == NULL) {
        *why = "cannot open the key file";
        return NULL;
    }
    buf = malloc(KEY_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        *why = "out of memory";
        errno = 0;
        return NULL;
    }

    /* one byte more than allowed tells a too large file apart */
    n = fread(buf, 1, KEY_FILE_MAX + 1, f);
    if (ferror(f)) {
        int err = errno;
        fclose(f);
        OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
        free(buf);
        *why = "cannot read the key file";
        errno = err;
        return NULL;
    }
    fclose(f);

    if (n > KEY_FILE_MAX) {
        OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
        free(buf);
        *why = "key file is larger than 64 KiB";
        errno = 0;
        return NULL;
    }

    /* kept for the life of the configuration: no larger than the key */
    unsigned char *key = malloc(n + 1);
    if (key != NULL) {
        memcpy(key, buf, n);
        key[n] = '\0';
        *len = n;
    } else {
        *why = "out of memory";
        errno = 0;
    }
    OPENSSL_cleanse(buf, n);
    free(buf);
    return key;
}

static int
check_hs_secret(unsigned char *secret, size_t *len, const char **why)
{
    /* the secret is the text in the file, not its final newline */
    while (*len > 0 && isspace(secret[*len - 1])) {
        secret[--*len] = '\0';
    }
    if (*len < MSP_JWT_HS_SECRET_MIN) {
        *why = "HS256 secret is shorter than 32 bytes";
        return -1;
    }
    /* A PEM file here is almost certainly the public key of an RS256 or
     * ES256 kid: as an HMAC secret anyone holding it could sign tokens. */
    if (memmem(secret, *len, "-----BEGIN", 10) != NULL) {
        *why = "HS256 secret is a PEM file (a public key is no secret)";
        return -1;
    }
    return 0;
}

static int
check_rsa(EVP_PKEY *pkey, const char **why)
{
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        *why = "RS256 needs an RSA public key";
        return -1;
    }
    if (EVP_PKEY_get_bits(pkey) < MSP_JWT_RSA_BITS_MIN) {
        *why = "RSA public key is shorter than 2048 bits";
        return -1;
    }
    return 0;
}

static int
check_p256(EVP_PKEY *pkey, const char **why)
{
    char group[64];

    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) {
        *why = "ES256 needs an EC public key";
        return -1;
    }
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1
        || OBJ_txt2nid(group) != NID_X9_62_prime256v1)
    {
        *why = "ES256 needs an EC public key on the P-256 curve";
        return -1;
    }
    return 0;
}

/* A PEM SubjectPublicKeyInfo of the kind alg verifies with: the form
 * libjwt reads the key in when it verifies. */
static int
check_public_key(const unsigned char *pem, size_t len, msp_jwt_alg_t alg, const char **why)
{
    BIO      *bio = BIO_new_mem_buf(pem, (int) len);
    EVP_PKEY *pkey = NULL;
    int       rc;

    if (bio != NULL) {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (pkey == NULL) {
        *why = "not a PEM public key";
        rc = -1;
    } else {
        rc = alg == MSP_JWT_RS256 ? check_rsa(pkey, why) : check_p256(pkey, why);
        EVP_PKEY_free(pkey);
    }
    ERR_clear_error();
    return rc;
}

int
msp_jwt_load_key(msp_jwt_key_t *key, const char *kid, const char *alg_name,
                 const char *path, const char **why)
{
    msp_jwt_alg_t  alg;
    unsigned char *bytes;
    size_t         len;
    int            rc;

    memset(key, 0, sizeof(*key));

    if (!is_kid(kid)) {
        *why = "kid must be 1 to 64 visible ASCII characters";
        errno = 0;
        return -1;
    }
    if (msp_jwt_alg_from_name(alg_name, &alg) != 0) {
        *why = "algorithm must be HS256, RS256 or ES256";
        errno = 0;
        return -1;
    }

    bytes = read_key_file(path, &len, why);
    if (bytes == NULL) {
        return -1;
    }

    rc = alg == MSP_JWT_HS256 ? check_hs_secret(bytes, &len, why)
                              : check_public_key(bytes, len, alg, why);
    if (rc != 0) {
        OPENSSL_cleanse(bytes, len);
        free(bytes);
        errno = 0;
        return -1;
    }

    snprintf(key->kid, sizeof(key->kid), "%s", kid);
    key->alg = alg;
    key->key = bytes;
    key->key_len = len;
    return 0;
}

void
msp_jwt_key_free(msp_jwt_key_t *key)
{
    if (key->key != NULL) {
        OPENSSL_cleanse(key->key, key->key_len);
        free(key->key);
    }
    key->key = NULL;
    key->key_len = 0;
}
