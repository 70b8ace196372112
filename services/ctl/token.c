/*
 * token.c - `mspctl token`: mint a development token.
 *
 * Signs HS256 with the development secret that `make run` generates
 * (MSP_DEV_JWT_KEY names the file), or RS256/ES256 with a private key in
 * PEM (`--alg RS256 --key FILE --kid KID`), as an identity provider would.
 * Production tokens come from the customer's identity provider; the
 * gateway accepts HS256 only for a key configured as a development key.
 */
#include "ctl.h"
#include "auth/jwt_verify.h"

#include <errno.h>
#include <getopt.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The signing key: for HS256 the secret, read and checked as the gateway
 * reads it (msp_jwt_load_key()); for RS256/ES256 the private key file's
 * bytes, which libjwt parses when it signs.  Returns a malloc'd buffer or
 * NULL after printing why.
 */
static unsigned char *
signing_key(msp_jwt_alg_t alg, const char *kid, const char *path, size_t *len)
{
    if (alg == MSP_JWT_HS256) {
        msp_jwt_key_t key;
        const char   *why;

        if (msp_jwt_load_key(&key, kid, "HS256", path, &why) != 0) {
            int err = errno;      /* set only when the file could not be read */
            ctl_error("%s: %s%s%s", path, why, err ? ": " : "", err ? strerror(err) : "");
            return NULL;
        }
        *len = key.key_len;
        return key.key;
    }
    return (unsigned char *) ctl_read_file(path, len);
}

int
ctl_token(int argc, char **argv)
{
    const char *sub = NULL, *org = NULL, *role = NULL, *name = NULL;
    const char *key_path = NULL, *kid = NULL, *alg_name = "HS256";
    const char *iss = "msp-gateway-dev", *aud = "msp-gateway";
    long ttl = 8 * 3600;
    msp_jwt_alg_t alg;

    static const struct option options[] = {
        { "sub", required_argument, NULL, 's' }, { "org", required_argument, NULL, 'o' },
        { "role", required_argument, NULL, 'r' }, { "name", required_argument, NULL, 'n' },
        { "key", required_argument, NULL, 'k' }, { "kid", required_argument, NULL, 'i' },
        { "iss", required_argument, NULL, 'I' }, { "aud", required_argument, NULL, 'a' },
        { "ttl", required_argument, NULL, 't' }, { "alg", required_argument, NULL, 'A' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's': sub = optarg; break;
        case 'o': org = optarg; break;
        case 'r': role = optarg; break;
        case 'n': name = optarg; break;
        case 'k': key_path = optarg; break;
        case 'i': kid = optarg; break;
        case 'I': iss = optarg; break;
        case 'a': aud = optarg; break;
        case 't': ttl = strtol(optarg, NULL, 10); break;
        case 'A': alg_name = optarg; break;
        default: goto usage;
        }
    }
    if (optind != argc || sub == NULL || org == NULL || role == NULL || ttl <= 0) {
        goto usage;
    }
    if (msp_jwt_alg_from_name(alg_name, &alg) != 0) {
        ctl_error("--alg must be HS256, RS256 or ES256");
        return 2;
    }

    /* HS256 is the development default; an asymmetric key names itself */
    if (alg == MSP_JWT_HS256) {
        if (key_path == NULL) {
            key_path = getenv("MSP_DEV_JWT_KEY");
        }
        if (kid == NULL) {
            kid = "dev";
        }
        if (key_path == NULL || *key_path == '\0') {
            ctl_error("no development key: set MSP_DEV_JWT_KEY or pass --key FILE");
            return 1;
        }
    } else if (key_path == NULL || kid == NULL) {
        ctl_error("--alg %s needs --key PRIVATE_KEY.pem and --kid KID", alg_name);
        return 2;
    }

    size_t key_len;
    unsigned char *key = signing_key(alg, kid, key_path, &key_len);
    if (key == NULL) {
        return 1;
    }

    time_t now = time(NULL);
    jwt_alg_t jwt_alg = alg == MSP_JWT_RS256 ? JWT_ALG_RS256
                      : alg == MSP_JWT_ES256 ? JWT_ALG_ES256 : JWT_ALG_HS256;
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (jwt_new(&jwt) == 0
        && jwt_add_header(jwt, "kid", kid) == 0
        && jwt_add_grant(jwt, "iss", iss) == 0
        && jwt_add_grant(jwt, "aud", aud) == 0
        && jwt_add_grant(jwt, "sub", sub) == 0
        && jwt_add_grant(jwt, "name", name ? name : sub) == 0
        && jwt_add_grant(jwt, "msp_org", org) == 0
        && jwt_add_grant(jwt, "msp_role", role) == 0
        && jwt_add_grant_int(jwt, "iat", now) == 0
        && jwt_add_grant_int(jwt, "nbf", now) == 0
        && jwt_add_grant_int(jwt, "exp", now + ttl) == 0
        && jwt_set_alg(jwt, jwt_alg, key, (int) key_len) == 0)
    {
        token = jwt_encode_str(jwt);
    }
    jwt_free(jwt);
    OPENSSL_cleanse(key, key_len);
    free(key);
    ERR_clear_error();

    if (token == NULL) {
        if (alg == MSP_JWT_HS256) {
            ctl_error("could not sign the token");
        } else {
            ctl_error("could not sign the token: %s must be %s private key in PEM", key_path,
                      alg == MSP_JWT_RS256 ? "an RSA" : "a P-256 EC");
        }
        return 1;
    }
    printf("%s\n", token);
    free(token);
    return 0;

usage:
    ctl_error("usage: mspctl token --sub SUBJECT --org provider|TENANT --role ROLE"
              " [--name NAME] [--alg HS256|RS256|ES256] [--key FILE] [--kid KID]"
              " [--iss ISS] [--aud AUD] [--ttl SECONDS]");
    return 2;
}
