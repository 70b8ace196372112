/*
 * jwt_verify.h - verifying bearer tokens into principals.
 *
 * Tokens are JWS compact serializations signed by the customer's identity
 * provider.  Keys are configured per "kid", each pinned to one algorithm:
 * RS256 or ES256 with a PEM public key, or HS256 with a shared secret for
 * development.
 *
 * libjwt 1.10 verifies a signature with whatever "alg" the token's header
 * names and checks no claims.  So before libjwt sees a token, this file
 * reads the header itself and insists that "alg" is the algorithm pinned
 * to the "kid"; that is what stops an attacker from signing an HS256
 * token with an RS256 key's public PEM bytes as the HMAC secret.  After
 * the signature verifies it checks exp, nbf (with leeway), iss and aud,
 * and turns sub, name, msp_org and msp_role into an msp_principal_t.
 *
 * No nginx here: the module loads keys at configuration time and calls
 * msp_jwt_verify() from its access handler; tests and mspctl call the
 * same code.
 */
#ifndef MSP_JWT_VERIFY_H
#define MSP_JWT_VERIFY_H

#include <stddef.h>
#include <time.h>

#include "auth/principal.h"

/* Longer tokens are refused before any decoding (8 KiB). */
#define MSP_JWT_TOKEN_MAX      8192

#define MSP_JWT_KID_MAX        64

/* An HS256 secret shorter than the hash is guessable (RFC 7518, 3.2). */
#define MSP_JWT_HS_SECRET_MIN  32

#define MSP_JWT_RSA_BITS_MIN   2048

typedef enum {
    MSP_JWT_HS256,
    MSP_JWT_RS256,
    MSP_JWT_ES256
} msp_jwt_alg_t;

typedef struct {
    char           kid[MSP_JWT_KID_MAX + 1];
    msp_jwt_alg_t  alg;
    unsigned char *key;       /* PEM public key, or the HS256 secret; malloc'd */
    size_t         key_len;
} msp_jwt_key_t;

typedef struct {
    const msp_jwt_key_t *keys;
    size_t               nkeys;
    const char          *issuer;     /* required: "iss" must equal it */
    const char          *audience;   /* required: "aud" must be or contain it */
    long                 leeway;     /* seconds of clock skew allowed on exp, nbf */
} msp_jwt_config_t;

/*
 * Verifies token (len bytes, need not be NUL-terminated) at time now and
 * fills p from its claims.  Returns 0, or -1 with *why a short static
 * reason fit for a log line: it never quotes the token or its claims.
 */
int msp_jwt_verify(const msp_jwt_config_t *cfg, const char *token, size_t len,
                   time_t now, msp_principal_t *p, const char **why);

/*
 * Loads the key for kid from the file at path.  alg_name is "HS256",
 * "RS256" or "ES256".
 *
 *   HS256  the secret is the file's bytes without trailing whitespace, at
 *          least MSP_JWT_HS_SECRET_MIN bytes; a PEM file is refused, as a
 *          public key used as a shared secret is the very key confusion
 *          the pinning is there to stop.
 *   RS256  a PEM public key (SubjectPublicKeyInfo), RSA of at least
 *          MSP_JWT_RSA_BITS_MIN bits.
 *   ES256  a PEM public key on the P-256 curve.
 *
 * Returns 0 with key filled (free it with msp_jwt_key_free()), or -1 with
 * *why a short static reason (the caller names the file; when the file
 * could not be read errno says why) and key left empty.
 */
int msp_jwt_load_key(msp_jwt_key_t *key, const char *kid, const char *alg_name,
                     const char *path, const char **why);

/* Scrubs and frees the key bytes; key may be zeroed or already freed. */
void msp_jwt_key_free(msp_jwt_key_t *key);

/* "HS256" and so on; and back, returning -1 for any other name. */
const char *msp_jwt_alg_name(msp_jwt_alg_t alg);
int msp_jwt_alg_from_name(const char *name, msp_jwt_alg_t *alg);

#endif
