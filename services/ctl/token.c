/*
 * token.c - `mspctl token`: mint a development token.
 *
 * Signs HS256 with the development secret that `make run` generates
 * (MSP_DEV_JWT_KEY names the file).  Production tokens come from the
 * customer's identity provider, signed RS256 or ES256; the gateway accepts
 * HS256 only for a key configured as a development key.
 */
#include "ctl.h"

#include <ctype.h>
#include <getopt.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
ctl_token(int argc, char **argv)
{
    const char *sub = NULL, *org = NULL, *role = NULL, *name = NULL;
    const char *key_path = getenv("MSP_DEV_JWT_KEY");
    const char *kid = "dev", *iss = "msp-gateway-dev", *aud = "msp-gateway";
    long ttl = 8 * 3600;

    static const struct option options[] = {
        { "sub", required_argument, NULL, 's' }, { "org", required_argument, NULL, 'o' },
        { "role", required_argument, NULL, 'r' }, { "name", required_argument, NULL, 'n' },
        { "key", required_argument, NULL, 'k' }, { "kid", required_argument, NULL, 'i' },
        { "iss", required_argument, NULL, 'I' }, { "aud", required_argument, NULL, 'a' },
        { "ttl", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
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
        default: goto usage;
        }
    }
    if (optind != argc || sub == NULL || org == NULL || role == NULL || ttl <= 0) {
        goto usage;
    }
    if (key_path == NULL || *key_path == '\0') {
        ctl_error("no development key: set MSP_DEV_JWT_KEY or pass --key FILE");
        return 1;
    }

    size_t key_len;
    char *key = ctl_read_file(key_path, &key_len);
    if (key == NULL) {
        return 1;
    }
    /* The secret is the file's bytes without the trailing newline. */
    while (key_len > 0 && isspace((unsigned char) key[key_len - 1])) {
        key[--key_len] = '\0';
    }
    if (key_len < 32) {
        ctl_error("%s: a development key needs at least 32 bytes", key_path);
        free(key);
        return 1;
    }

    time_t now = time(NULL);
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
        && jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *) key, (int) key_len) == 0)
    {
        token = jwt_encode_str(jwt);
    }
    jwt_free(jwt);
    free(key);

    if (token == NULL) {
        ctl_error("could not sign the token");
        return 1;
    }
    printf("%s\n", token);
    free(token);
    return 0;

usage:
    ctl_error("usage: mspctl token --sub SUBJECT --org provider|TENANT --role ROLE"
              " [--name NAME] [--key FILE] [--kid KID] [--iss ISS] [--aud AUD] [--ttl SECONDS]");
    return 2;
}
