/*
 * test_jwt_verify.c - bearer token verification and key loading.
 *
 * Keys are generated here (OpenSSL) and written to a private temporary
 * directory, because msp_jwt_load_key() reads files; tokens are signed
 * with libjwt, or put together by hand where libjwt would refuse to make
 * them (alg "none", broken segments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/jwt_verify.h"

#define NOW     1700000000L
#define LEEWAY  30L
#define ISSUER  "https://idp.example.test/"
#define AUDIENCE "msp-gateway"

static const char hs_secret[] = "an HS256 development secret, 48 bytes long....";

static struct {
    char           dir[64];
    char          *rs_private;      /* PEM, for signing */
    char          *rs_public;
    char          *es_private;
    char          *es_public;
    msp_jwt_key_t  keys[3];         /* dev HS256, rs RS256, es ES256 */
    msp_jwt_config_t cfg;
} fx;


/* ------------------------------------------------------------------ */
/* fixtures                                                            */

static char *
pem_of(EVP_PKEY *pkey, int private_key)
{
    BIO  *bio = BIO_new(BIO_s_mem());
    char *data, *copy;
    long  len;

    assert_non_null(bio);
    if (private_key) {
        assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    } else {
        assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    }
    len = BIO_get_mem_data(bio, &data);
    copy = strndup(data, (size_t) len);
    BIO_free(bio);
    return copy;
}

static char *
path_in_dir(const char *name)
{
    static char path[128];

    snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
    return path;
}

static const char *
write_file(const char *name, const char *text)
{
    const char *path = path_in_dir(name);
    FILE       *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void
write_key_pair(EVP_PKEY *pkey, const char *name, char **private_pem, char **public_pem)
{
    char file[64];
    char *priv = pem_of(pkey, 1), *pub = pem_of(pkey, 0);

    snprintf(file, sizeof(file), "%s.pem", name);
    write_file(file, priv);
    snprintf(file, sizeof(file), "%s.pub.pem", name);
    write_file(file, pub);

    if (private_pem != NULL) {
        *private_pem = priv;
    } else {
        free(priv);
    }
    if (public_pem != NULL) {
        *public_pem = pub;
    } else {
        free(pub);
    }
}

static void
load(msp_jwt_key_t *key, const char *kid, const char *alg, const char *file)
{
    const char *why = NULL;

    if (msp_jwt_load_key(key, kid, alg, path_in_dir(file), &why) != 0) {
        fail_msg("loading %s: %s", file, why);
    }
}

static int
setup(void **state)
{
    (void) state;
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_jwt_verify.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));

    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(rsa);
    assert_non_null(rsa1024);
    assert_non_null(ec);
    assert_non_null(ec384);

    write_key_pair(rsa, "rs", &fx.rs_private, &fx.rs_public);
    write_key_pair(ec, "es", &fx.es_private, &fx.es_public);
    write_key_pair(rsa1024, "rs1024", NULL, NULL);
    write_key_pair(ec384, "es384", NULL, NULL);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);

    char hs_file[sizeof(hs_secret) + 1];
    snprintf(hs_file, sizeof(hs_file), "%s\n", hs_secret);
    write_file("dev.key", hs_file);
    write_file("short.key", "only 31 bytes, one too few....\n");
    write_file("not.pem", "this is not a key at all, not a key at all\n");

    load(&fx.keys[0], "dev", "HS256", "dev.key");
    load(&fx.keys[1], "rs", "RS256", "rs.pub.pem");
    load(&fx.keys[2], "es", "ES256", "es.pub.pem");

    fx.cfg = (msp_jwt_config_t) {
        .keys = fx.keys, .nkeys = 3, .issuer = ISSUER, .audience = AUDIENCE,
        .leeway = LEEWAY,
    };
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    for (size_t i = 0; i < 3; i++) {
        msp_jwt_key_free(&fx.keys[i]);
    }
    free(fx.rs_private);
    free(fx.rs_public);
    free(fx.es_private);
    free(fx.es_public);

    static const char *const files[] = {
        "rs.pem", "rs.pub.pem", "es.pem", "es.pub.pem", "rs1024.pem", "rs1024.pub.pem",
        "es384.pem", "es384.pub.pem", "dev.key", "short.key", "not.pem", NULL,
    };
    for (const char *const *f = files; *f != NULL; f++) {
        unlink(path_in_dir(*f));
    }
    rmdir(fx.dir);
    return 0;
}


/* ------------------------------------------------------------------ */
/* tokens                                                              */

/* Claims of a valid provider technician token; tests change them. */
static json_t *
claims(void)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
                          "iss", ISSUER, "aud", AUDIENCE, "sub", "tech.tina",
                          "name", "Tina Tech", "msp_org", "provider", "msp_role", "technician",
                          "iat", (json_int_t) NOW - 60, "nbf", (json_int_t) NOW - 60,
                          "exp", (json_int_t) NOW + 3600);
    assert_non_null(c);
    return c;
}

/* Signs claims (consumed) with libjwt; kid NULL leaves the header without one. */
static char *
sign(jwt_alg_t alg, const char *kid, const void *key, size_t key_len, json_t *c)
{
    jwt_t *jwt = NULL;
    char  *grants = json_dumps(c, JSON_COMPACT);
    char  *token;

    assert_non_null(grants);
    assert_int_equal(jwt_new(&jwt), 0);
    if (kid != NULL) {
        assert_int_equal(jwt_add_header(jwt, "kid", kid), 0);
    }
    assert_int_equal(jwt_add_grants_json(jwt, grants), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, key, (int) key_len), 0);
    token = jwt_encode_str(jwt);
    assert_non_null(token);

    jwt_free(jwt);
    free(grants);
    json_decref(c);
    return token;
}

static char *
hs_token(json_t *c)
{
    return sign(JWT_ALG_HS256, "dev", hs_secret, strlen(hs_secret), c);
}

static char *
rs_token(json_t *c)
{
    return sign(JWT_ALG_RS256, "rs", fx.rs_private, strlen(fx.rs_private), c);
}

static char *
es_token(json_t *c)
{
    return sign(JWT_ALG_ES256, "es", fx.es_private, strlen(fx.es_private), c);
}

static char *
b64url(const char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char    *out = malloc(len * 4 / 3 + 4);
    size_t   n = 0;
    unsigned acc = 0, bits = 0;

    assert_non_null(out);
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | (unsigned char) data[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) {
        out[n++] = alphabet[(acc << (6 - bits)) & 63];
    }
    out[n] = '\0';
    return out;
}

/* header.payload.signature from plain text parts (the signature as given). */
static char *
crafted(const char *header, const char *payload, const char *signature)
{
    char *h = b64url(header, strlen(header));
    char *p = b64url(payload, strlen(payload));
    char *token;

    assert_true(asprintf(&token, "%s.%s.%s", h, p, signature) > 0);
    free(h);
    free(p);
    return token;
}

/* HS256 over any header and payload text: libjwt signs only what it
 * can parse itself. */
static char *
hand_signed(const char *header, const char *payload)
{
    char         *h = b64url(header, strlen(header));
    char         *p = b64url(payload, strlen(payload));
    char         *input, *sig, *token;
    unsigned char mac[32];
    unsigned int  mac_len = 0;

    assert_true(asprintf(&input, "%s.%s", h, p) > 0);
    assert_non_null(HMAC(EVP_sha256(), hs_secret, (int) strlen(hs_secret),
                         (unsigned char *) input, strlen(input), mac, &mac_len));
    sig = b64url((const char *) mac, mac_len);
    assert_true(asprintf(&token, "%s.%s", input, sig) > 0);
    free(h);
    free(p);
    free(input);
    free(sig);
    return token;
}

static int
verify(const char *token, msp_principal_t *p, const char **why)
{
    *why = NULL;
    return msp_jwt_verify(&fx.cfg, token, strlen(token), NOW, p, why);
}

static void
assert_valid(char *token)
{
    msp_principal_t p;
    const char     *why;

    if (verify(token, &p, &why) != 0) {
        fail_msg("refused: %s", why);
    }
    free(token);
}

/* Refused, for a reason that contains reason_part. */
static void
assert_refused(char *token, const char *reason_part)
{
    msp_principal_t p;
    const char     *why;

    assert_int_equal(verify(token, &p, &why), -1);
    assert_non_null(why);
    if (strstr(why, reason_part) == NULL) {
        fail_msg("refused for \"%s\", expected \"%s\"", why, reason_part);
    }
    assert_string_equal(p.sub, "");     /* nothing half-filled */
    free(token);
}

static json_t *
with(json_t *c, const char *name, json_t *value)
{
    assert_int_equal(json_object_set_new(c, name, value), 0);
    return c;
}

static json_t *
without(json_t *c, const char *name)
{
    assert_int_equal(json_object_del(c, name), 0);
    return c;
}


/* ------------------------------------------------------------------ */
/* valid tokens                                                        */

static void
valid_hs256(void **state)
{
    (void) state;
    msp_principal_t p;
    const char     *why;
    char           *token = hs_token(claims());

    assert_int_equal(verify(token, &p, &why), 0);
    assert_string_equal(p.sub, "tech.tina");
    assert_string_equal(p.name, "Tina Tech");
    assert_string_equal(p.org, "provider");
    assert_string_equal(p.role, "technician");
    assert_true(p.is_provider);
    free(token);
}

static void
valid_rs256(void **state)
{
    (void) state;
    assert_valid(rs_token(claims()));
}

static void
valid_es256(void **state)
{
    (void) state;
    msp_principal_t p;
    const char     *why;
    char           *token = es_token(with(with(claims(), "msp_org", json_string("acme")),
                                          "msp_role", json_string("it_leader")));

    assert_int_equal(verify(token, &p, &why), 0);
    assert_string_equal(p.org, "acme");
    assert_string_equal(p.role, "it_leader");
    assert_false(p.is_provider);
    free(token);
}

static void
token_need_not_be_nul_terminated(void **state)
{
    (void) state;
    msp_principal_t p;
    const char     *why;
    char           *token = hs_token(claims());
    size_t          len = strlen(token);
    char           *header_value;

    /* as in "Authorization: Bearer <token>, more" inside a larger buffer */
    assert_true(asprintf(&header_value, "%s, more", token) > 0);
    assert_int_equal(msp_jwt_verify(&fx.cfg, header_value, len, NOW, &p, &why), 0);
    free(header_value);
    free(token);
}

static void
name_is_optional(void **state)
{
    (void) state;
    msp_principal_t p;
    const char     *why;
    char           *token = hs_token(without(claims(), "name"));

    assert_int_equal(verify(token, &p, &why), 0);
    assert_string_equal(p.name, "tech.tina");
    free(token);
}

static void
nbf_is_optional(void **state)
{
    (void) state;
    assert_valid(hs_token(without(claims(), "nbf")));
}


/* ------------------------------------------------------------------ */
/* time                                                                */

static void
expired(void **state)
{
    (void) state;
    assert_refused(hs_token(with(claims(), "exp", json_integer(NOW - LEEWAY - 1))),
                   "expired");
    assert_refused(hs_token(with(claims(), "exp", json_integer(NOW - LEEWAY))), "expired");
}

static void
expired_within_leeway_is_accepted(void **state)
{
    (void) state;
    assert_valid(hs_token(with(claims(), "exp", json_integer(NOW - LEEWAY + 1))));
    assert_valid(hs_token(with(claims(), "exp", json_integer(NOW - 10))));
}

static void
exp_is_required_and_numeric(void **state)
{
    (void) state;
    assert_refused(hs_token(without(claims(), "exp")), "exp");
    assert_refused(hs_token(with(claims(), "exp", json_string("2099-01-01"))), "exp");
    assert_valid(hs_token(with(claims(), "exp", json_real(NOW + 0.5))));
}

static void
nbf_in_the_future(void **state)
{
    (void) state;
    assert_refused(hs_token(with(claims(), "nbf", json_integer(NOW + LEEWAY + 1))),
                   "not valid yet");
    assert_refused(hs_token(with(claims(), "nbf", json_string("soon"))), "nbf");
}

static void
nbf_within_leeway_is_accepted(void **state)
{
    (void) state;
    assert_valid(hs_token(with(claims(), "nbf", json_integer(NOW + LEEWAY))));
    assert_valid(hs_token(with(claims(), "nbf", json_integer(NOW + 10))));
}


/* ------------------------------------------------------------------ */
/* issuer and audience                                                 */

static void
wrong_issuer(void **state)
{
    (void) state;
    assert_refused(hs_token(with(claims(), "iss", json_string("https://evil.test/"))),
                   "issuer");
    assert_refused(hs_token(without(claims(), "iss")), "issuer");
    assert_refused(hs_token(with(claims(), "iss", json_pack("[s]", ISSUER))), "issuer");
    assert_refused(hs_token(with(claims(), "iss", json_string(ISSUER "x"))), "issuer");
}

static void
wrong_audience(void **state)
{
    (void) state;
    assert_refused(hs_token(with(claims(), "aud", json_string("another-api"))), "audience");
    assert_refused(hs_token(without(claims(), "aud")), "audience");
    assert_refused(hs_token(with(claims(), "aud", json_pack("[ss]", "a", "b"))), "audience");
    assert_refused(hs_token(with(claims(), "aud", json_array())), "audience");
    assert_refused(hs_token(with(claims(), "aud", json_integer(1))), "audience");
}

static void
audience_in_an_array(void **state)
{
    (void) state;
    assert_valid(hs_token(with(claims(), "aud", json_pack("[sis]", "other", 7, AUDIENCE))));
    assert_valid(hs_token(with(claims(), "aud", json_pack("[s]", AUDIENCE))));
}


/* ------------------------------------------------------------------ */
/* signatures, algorithms, keys                                        */

static void
bad_signature(void **state)
{
    (void) state;
    char *token = hs_token(claims());
    char *sig = strrchr(token, '.') + 1;

    /* a middle character: the last one's low bits are not all significant */
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    assert_refused(token, "signature");

    token = rs_token(claims());
    sig = strrchr(token, '.') + 1;
    sig[20] = sig[20] == 'A' ? 'B' : 'A';
    assert_refused(token, "signature");

    token = es_token(claims());
    sig = strrchr(token, '.') + 1;
    sig[20] = sig[20] == 'A' ? 'B' : 'A';
    assert_refused(token, "signature");
}

static void
signed_with_another_secret(void **state)
{
    (void) state;
    static const char other[] = "another HS256 secret of enough length, 48 bytes";

    assert_refused(sign(JWT_ALG_HS256, "dev", other, strlen(other), claims()), "signature");
}

static void
tampered_payload(void **state)
{
    (void) state;
    char *token = hs_token(claims());
    char *admin = hs_token(with(claims(), "msp_role", json_string("admin")));
    char *mixed;

    /* the admin token's payload under the technician token's signature */
    *strchr(strchr(admin, '.') + 1, '.') = '\0';
    assert_true(asprintf(&mixed, "%s.%s", admin, strrchr(token, '.') + 1) > 0);
    assert_refused(mixed, "signature");
    free(token);
    free(admin);
}

static void
alg_none_is_refused(void **state)
{
    (void) state;
    const char *payload = "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\","
                          "\"sub\":\"x\",\"msp_org\":\"provider\",\"msp_role\":\"admin\","
                          "\"exp\":1800000000}";

    assert_refused(crafted("{\"alg\":\"none\",\"kid\":\"dev\"}", payload, ""), "unsigned");
    assert_refused(crafted("{\"alg\":\"none\",\"kid\":\"dev\"}", payload, "AAAA"), "none");
    assert_refused(crafted("{\"alg\":\"None\",\"kid\":\"rs\"}", payload, "AAAA"), "none");
    assert_refused(crafted("{\"alg\":\"NONE\",\"typ\":\"JWT\",\"kid\":\"es\"}", payload,
                           "AAAA"), "none");
}

static void
key_confusion_is_refused(void **state)
{
    (void) state;
    /* HS256 keyed with the RS256 kid's public PEM: anyone can make it */
    char  *token = sign(JWT_ALG_HS256, "rs", fx.rs_public, strlen(fx.rs_public), claims());
    jwt_t *jwt = NULL;

    /* libjwt alone would take it: it verifies with the alg the token names */
    assert_int_equal(jwt_decode(&jwt, token, (const unsigned char *) fx.rs_public,
                                (int) strlen(fx.rs_public)), 0);
    jwt_free(jwt);

    assert_refused(token, "pinned");

    /* nor the other way round, nor across the asymmetric algorithms */
    assert_refused(sign(JWT_ALG_HS256, "es", fx.es_public, strlen(fx.es_public), claims()),
                   "pinned");
    assert_refused(sign(JWT_ALG_RS256, "dev", fx.rs_private, strlen(fx.rs_private),
                        claims()), "pinned");
    assert_refused(sign(JWT_ALG_ES256, "rs", fx.es_private, strlen(fx.es_private),
                        claims()), "pinned");
    assert_refused(sign(JWT_ALG_HS512, "dev", hs_secret, strlen(hs_secret), claims()),
                   "pinned");
}

static void
unknown_kid(void **state)
{
    (void) state;
    assert_refused(sign(JWT_ALG_HS256, "nope", hs_secret, strlen(hs_secret), claims()),
                   "kid is unknown");
    assert_refused(sign(JWT_ALG_HS256, "DEV", hs_secret, strlen(hs_secret), claims()),
                   "kid is unknown");
}

static void
missing_kid(void **state)
{
    (void) state;
    assert_refused(sign(JWT_ALG_HS256, NULL, hs_secret, strlen(hs_secret), claims()),
                   "kid");
    assert_refused(crafted("{\"alg\":\"HS256\",\"kid\":7}", "{}", "AAAA"), "kid");
    assert_refused(crafted("{\"kid\":\"dev\"}", "{}", "AAAA"), "alg");
}

static void
crit_header_is_refused(void **state)
{
    (void) state;
    assert_refused(crafted("{\"alg\":\"HS256\",\"kid\":\"dev\",\"crit\":[\"b64\"],"
                           "\"b64\":false}", "{}", "AAAA"), "crit");
}

static void
typ_other_than_jwt_is_refused(void **state)
{
    (void) state;
    const char *payload = "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\","
                          "\"sub\":\"s\",\"msp_org\":\"acme\",\"msp_role\":\"it_staff\","
                          "\"exp\":1800000000}";

    assert_valid(hand_signed("{\"alg\":\"HS256\",\"kid\":\"dev\",\"typ\":\"jwt\"}", payload));
    assert_refused(hand_signed("{\"alg\":\"HS256\",\"kid\":\"dev\",\"typ\":\"at+jwt\"}",
                               payload), "typ");
    assert_refused(hand_signed("{\"alg\":\"HS256\",\"kid\":\"dev\",\"typ\":1}", payload),
                   "typ");
}

static void
duplicate_header_members_are_refused(void **state)
{
    (void) state;
    assert_refused(crafted("{\"alg\":\"HS256\",\"kid\":\"dev\",\"alg\":\"none\"}", "{}",
                           "AAAA"), "header");
}


/* ------------------------------------------------------------------ */
/* malformed tokens                                                    */

static void
segment_count(void **state)
{
    (void) state;
    char *token = hs_token(claims());
    char *four;

    assert_true(asprintf(&four, "%s.AAAA", token) > 0);
    assert_refused(four, "three");

    *strrchr(token, '.') = '\0';
    assert_refused(token, "three");

    assert_refused(strdup("no-dots-at-all"), "three");
    assert_refused(strdup(".."), "empty");
    assert_refused(strdup("..AAAA"), "empty");
}

static void
bad_base64(void **state)
{
    (void) state;
    char *token = hs_token(claims());
    char *p;

    token[3] = '!';
    assert_refused(token, "base64url");

    token = hs_token(claims());
    token[3] = '+';                         /* standard alphabet, not URL */
    assert_refused(token, "base64url");

    token = hs_token(claims());
    assert_true(asprintf(&p, "%s=", token) > 0);        /* padding */
    assert_refused(p, "base64url");
    free(token);

    assert_refused(strdup("A.AAAA.AAAA"), "base64url");   /* 1 char mod 4 */
    assert_refused(strdup("AB.AAAA.AAAA"), "base64url");  /* non-zero spare bits */
    assert_refused(strdup("eyJ\x01.AAAA.AAAA"), "base64url");
}

static void
header_not_json(void **state)
{
    (void) state;
    assert_refused(crafted("not json", "{}", "AAAA"), "header is not a JSON object");
    assert_refused(crafted("{\"alg\":\"HS256\",\"kid\":\"dev\"} trailing", "{}", "AAAA"),
                   "header is not a JSON object");
}

static void
header_json_not_object(void **state)
{
    (void) state;
    assert_refused(crafted("[\"HS256\",\"dev\"]", "{}", "AAAA"),
                   "header is not a JSON object");
    assert_refused(crafted("\"HS256\"", "{}", "AAAA"), "header is not a JSON object");
    assert_refused(crafted("42", "{}", "AAAA"), "header is not a JSON object");
}

static void
oversized_token(void **state)
{
    (void) state;
    char *pad = malloc(8300);

    memset(pad, 'x', 8299);
    pad[8299] = '\0';
    char *token = hs_token(with(claims(), "pad", json_string(pad)));
    assert_true(strlen(token) > MSP_JWT_TOKEN_MAX);
    assert_refused(token, "8 KiB");
    free(pad);

    assert_refused(strdup(""), "empty");
}


/* ------------------------------------------------------------------ */
/* claims                                                              */

static void
missing_claims(void **state)
{
    (void) state;
    assert_refused(hs_token(without(claims(), "sub")), "\"sub\"");
    assert_refused(hs_token(without(claims(), "msp_org")), "\"msp_org\"");
    assert_refused(hs_token(without(claims(), "msp_role")), "\"msp_role\"");
    assert_refused(hs_token(with(claims(), "sub", json_integer(5))), "\"sub\"");
    assert_refused(hs_token(with(claims(), "msp_org", json_null())), "\"msp_org\"");
    assert_refused(hs_token(with(claims(), "msp_role", json_pack("[s]", "admin"))),
                   "\"msp_role\"");
    assert_refused(hs_token(with(claims(), "name", json_true())), "\"name\"");
    assert_refused(hs_token(with(claims(), "sub", json_string(""))), "\"sub\"");
}

static void
claims_with_escaped_nul_are_refused(void **state)
{
    (void) state;
    /* "provider\u0000x" must not read as "provider" */
    assert_refused(hand_signed("{\"alg\":\"HS256\",\"kid\":\"dev\"}",
                               "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\","
                               "\"sub\":\"s\",\"msp_org\":\"provider\\u0000x\","
                               "\"msp_role\":\"admin\",\"exp\":1800000000}"),
                   "payload is not a JSON object");
    assert_refused(crafted("{\"alg\":\"HS256\",\"kid\":\"dev\\u0000\"}", "{}", "AAAA"),
                   "header is not a JSON object");
}

static void
tenant_principal_claiming_a_provider_role(void **state)
{
    (void) state;
    assert_refused(hs_token(with(with(claims(), "msp_org", json_string("acme")),
                                 "msp_role", json_string("admin"))), "msp_role");
    assert_refused(hs_token(with(claims(), "msp_role", json_string("it_leader"))),
                   "msp_role");
    assert_refused(hs_token(with(claims(), "msp_org", json_string("Not A Slug"))),
                   "msp_org");
}

static void
payload_not_an_object(void **state)
{
    (void) state;
    const char *header = "{\"alg\":\"HS256\",\"kid\":\"dev\"}";

    /* well signed: the check that a hand signature passes at all */
    assert_valid(hand_signed(header, "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\","
                             "\"sub\":\"s\",\"msp_org\":\"acme\",\"msp_role\":\"it_staff\","
                             "\"exp\":1800000000}"));

    assert_refused(hand_signed(header, "[1]"), "payload is not a JSON object");
    assert_refused(hand_signed(header, "not json"), "payload is not a JSON object");
    assert_refused(hand_signed(header, "{\"sub\":\"a\",\"sub\":\"b\"}"),
                   "payload is not a JSON object");
}

static void
no_issuer_configured(void **state)
{
    (void) state;
    msp_jwt_config_t cfg = fx.cfg;
    msp_principal_t  p;
    const char      *why;
    char            *token = hs_token(claims());

    cfg.issuer = NULL;
    assert_int_equal(msp_jwt_verify(&cfg, token, strlen(token), NOW, &p, &why), -1);
    cfg = fx.cfg;
    cfg.audience = NULL;
    assert_int_equal(msp_jwt_verify(&cfg, token, strlen(token), NOW, &p, &why), -1);
    free(token);
}

static void
reasons_never_quote_the_token(void **state)
{
    (void) state;
    char *tokens[] = {
        hs_token(with(claims(), "exp", json_integer(NOW - 3600))),
        hs_token(with(claims(), "sub", json_integer(1))),
        sign(JWT_ALG_HS256, "nope", hs_secret, strlen(hs_secret), claims()),
        crafted("{\"alg\":\"none\",\"kid\":\"dev\"}", "{}", "AAAA"),
    };

    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        msp_principal_t p;
        const char     *why;
        char            head[9];

        assert_int_equal(verify(tokens[i], &p, &why), -1);
        snprintf(head, sizeof(head), "%s", tokens[i]);
        assert_null(strstr(why, head));
        assert_null(strstr(why, "tech.tina"));
        free(tokens[i]);
    }
}


/* ------------------------------------------------------------------ */
/* loading keys                                                        */

static void
assert_load_fails(const char *kid, const char *alg, const char *file, const char *reason_part)
{
    msp_jwt_key_t key;
    const char   *why = NULL;

    memset(&key, 0xa5, sizeof(key));
    assert_int_equal(msp_jwt_load_key(&key, kid, alg, path_in_dir(file), &why), -1);
    assert_non_null(why);
    if (strstr(why, reason_part) == NULL) {
        fail_msg("%s %s %s: \"%s\", expected \"%s\"", kid, alg, file, why, reason_part);
    }
    assert_null(key.key);
    assert_int_equal(key.key_len, 0);
}

static void
load_key_errors(void **state)
{
    (void) state;
    assert_load_fails("k", "HS256", "short.key", "shorter than 32");
    assert_load_fails("k", "RS256", "rs1024.pub.pem", "2048");
    assert_load_fails("k", "RS256", "es.pub.pem", "RSA");
    assert_load_fails("k", "ES256", "rs.pub.pem", "EC");
    assert_load_fails("k", "ES256", "es384.pub.pem", "P-256");
    assert_load_fails("k", "RS256", "not.pem", "not a PEM public key");
    assert_load_fails("k", "ES256", "not.pem", "not a PEM public key");
    /* the gateway gets public keys only */
    assert_load_fails("k", "RS256", "rs.pem", "not a PEM public key");
    /* a public key is no HMAC secret */
    assert_load_fails("k", "HS256", "rs.pub.pem", "PEM");
    assert_load_fails("k", "HS512", "dev.key", "HS256, RS256 or ES256");
    assert_load_fails("k", "none", "dev.key", "HS256, RS256 or ES256");
    assert_load_fails("k", "rs256", "rs.pub.pem", "HS256, RS256 or ES256");
    assert_load_fails("", "HS256", "dev.key", "kid");
    assert_load_fails("has space", "HS256", "dev.key", "kid");
    assert_load_fails("0123456789012345678901234567890123456789012345678901234567890123x",
                      "HS256", "dev.key", "kid");
}

static void
load_key_missing_file_keeps_errno(void **state)
{
    (void) state;
    msp_jwt_key_t key;
    const char   *why;

    errno = 0;
    assert_int_equal(msp_jwt_load_key(&key, "k", "HS256", path_in_dir("absent"), &why), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(why, "cannot"));

    /* other failures leave errno 0, so that a caller logs no stale error */
    errno = EINVAL;
    assert_int_equal(msp_jwt_load_key(&key, "k", "HS256", path_in_dir("short.key"), &why),
                     -1);
    assert_int_equal(errno, 0);
}

static void
load_key_trims_the_secret(void **state)
{
    (void) state;
    assert_int_equal(fx.keys[0].alg, MSP_JWT_HS256);
    assert_int_equal(fx.keys[0].key_len, strlen(hs_secret));
    assert_memory_equal(fx.keys[0].key, hs_secret, strlen(hs_secret));
    assert_string_equal(fx.keys[0].kid, "dev");

    assert_int_equal(fx.keys[1].alg, MSP_JWT_RS256);
    assert_int_equal(fx.keys[1].key_len, strlen(fx.rs_public));
    assert_int_equal(fx.keys[2].alg, MSP_JWT_ES256);
}

static void
key_free_is_idempotent(void **state)
{
    (void) state;
    msp_jwt_key_t key;
    const char   *why;

    assert_int_equal(msp_jwt_load_key(&key, "k", "ES256", path_in_dir("es.pub.pem"), &why), 0);
    msp_jwt_key_free(&key);
    msp_jwt_key_free(&key);
    assert_null(key.key);

    memset(&key, 0, sizeof(key));
    msp_jwt_key_free(&key);
}

static void
alg_names(void **state)
{
    (void) state;
    msp_jwt_alg_t alg;

    assert_string_equal(msp_jwt_alg_name(MSP_JWT_HS256), "HS256");
    assert_string_equal(msp_jwt_alg_name(MSP_JWT_RS256), "RS256");
    assert_string_equal(msp_jwt_alg_name(MSP_JWT_ES256), "ES256");
    assert_int_equal(msp_jwt_alg_from_name("ES256", &alg), 0);
    assert_int_equal(alg, MSP_JWT_ES256);
    assert_int_equal(msp_jwt_alg_from_name("es256", &alg), -1);
    assert_int_equal(msp_jwt_alg_from_name(NULL, &alg), -1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_hs256),
        cmocka_unit_test(valid_rs256),
        cmocka_unit_test(valid_es256),
        cmocka_unit_test(token_need_not_be_nul_terminated),
        cmocka_unit_test(name_is_optional),
        cmocka_unit_test(nbf_is_optional),
        cmocka_unit_test(expired),
        cmocka_unit_test(expired_within_leeway_is_accepted),
        cmocka_unit_test(exp_is_required_and_numeric),
        cmocka_unit_test(nbf_in_the_future),
        cmocka_unit_test(nbf_within_leeway_is_accepted),
        cmocka_unit_test(wrong_issuer),
        cmocka_unit_test(wrong_audience),
        cmocka_unit_test(audience_in_an_array),
        cmocka_unit_test(bad_signature),
        cmocka_unit_test(signed_with_another_secret),
        cmocka_unit_test(tampered_payload),
        cmocka_unit_test(alg_none_is_refused),
        cmocka_unit_test(key_confusion_is_refused),
        cmocka_unit_test(unknown_kid),
        cmocka_unit_test(missing_kid),
        cmocka_unit_test(crit_header_is_refused),
        cmocka_unit_test(typ_other_than_jwt_is_refused),
        cmocka_unit_test(duplicate_header_members_are_refused),
        cmocka_unit_test(segment_count),
        cmocka_unit_test(bad_base64),
        cmocka_unit_test(header_not_json),
        cmocka_unit_test(header_json_not_object),
        cmocka_unit_test(oversized_token),
        cmocka_unit_test(missing_claims),
        cmocka_unit_test(claims_with_escaped_nul_are_refused),
        cmocka_unit_test(tenant_principal_claiming_a_provider_role),
        cmocka_unit_test(payload_not_an_object),
        cmocka_unit_test(no_issuer_configured),
        cmocka_unit_test(reasons_never_quote_the_token),
        cmocka_unit_test(load_key_errors),
        cmocka_unit_test(load_key_missing_file_keeps_errno),
        cmocka_unit_test(load_key_trims_the_secret),
        cmocka_unit_test(key_free_is_idempotent),
        cmocka_unit_test(alg_names),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
