/*
 * pack.c - `mspctl pack`: the review packs' worker, a local rendering,
 * and the check of a downloaded file.
 *
 *   pack worker    renders the packs asked for (POST .../packs, or the
 *                  module's timer at a period's end), as they come: a
 *                  process of its own, so that rendering never runs on
 *                  nginx's event loop.  Any number of workers may run, on
 *                  any hosts: each pack is claimed by one (app.claim_pack),
 *                  and a claim whose worker died lapses to another.
 *   pack render    builds and renders a pack into a directory without
 *                  storing it: the same bytes as the stored pack of the
 *                  same tenant, kind, period and as_of.
 *   pack verify    checks a file against a pack's manifest document (GET
 *                  .../packs/{id}?format=manifest) and the provider's
 *                  public key.
 */
#include "ctl.h"

#include "common/buf.h"
#include "common/sha256.h"
#include "packs/pack.h"
#include "packs/pack_sign.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

/* A worker holds a pack for this long past its last sign of life. */
#define PACK_LEASE "5 minutes"

/* How the packs read: the provider's admin, whoever asked, so that a
 * pack's content does not depend on who clicked. */
static msp_principal_t reader;

typedef struct {
    PGconn                *gateway;    /* reads, as nginx does */
    PGconn                *owner;      /* the worker's own statements */
    const char            *slug;       /* the tenant's; NULL for a portfolio pack */
    const char            *pack;
    const msp_principal_t *reader;     /* whom the reports are read as */
} worker_t;

typedef struct {
    const char *provider;
    const char *logo;
    const char *api_base;
} render_options_t;

static json_t *
fetch(void *ctx, const char *target, char *why, size_t size)
{
    worker_t *w = ctx;
    return ctl_get_json(w->gateway, w->reader ? w->reader : &reader, target, why, size);
}

/* Records progress in a transaction of its own, so that GET sees it. */
static void
progress(void *ctx, const char *step, int done, int of)
{
    worker_t *w = ctx;
    if (w->owner == NULL) {
        return;
    }
    char doc[160];
    snprintf(doc, sizeof(doc), "{\"step\": \"%s\", \"done\": %d, \"of\": %d}", step, done, of);
    const char *params[] = { w->slug, w->pack, doc, PACK_LEASE };
    if (ctl_begin(w->owner, "") == 0) {
        if (w->slug != NULL) {
            ctl_run(w->owner, "SELECT app.pack_progress($1, $2, $3::jsonb, $4::interval)", 4,
                    params);
        } else {
            ctl_run(w->owner, "SELECT app.portfolio_pack_progress($1, $2::jsonb, $3::interval)",
                    3, params + 1);
        }
    }
    ctl_run(w->owner, "COMMIT", 0, NULL);
}

/* Builds and renders a pack: its files, and its document's "pack" in
 * *doc.  0, or -1 with why. */
static int
render(worker_t *w, const msp_pack_info_t *info, const render_options_t *o, json_t **doc,
       msp_pack_files_t *files, char *why, size_t size, json_t **slugs)
{
    *doc = w->slug != NULL ? msp_pack_build(info, fetch, w, progress, w, why, size)
                           : msp_pack_build_portfolio(info, fetch, w, progress, w, why, size,
                                                      slugs);
    if (*doc == NULL) {
        return -1;
    }
    static const char *const steps[] = { "json", "csv", "html", "pdf" };
    for (int i = 0; i < 4; i++) {
        progress(w, steps[i], i, 4);
        int rc = i == 0 ? msp_pack_render_json(*doc, files)
               : i == 1 ? msp_pack_render_csv(*doc, files)
               : i == 2 ? msp_pack_render_html(*doc, o->api_base, files)
                        : msp_pack_render_pdf(*doc, o->logo, files);
        if (rc != 0) {
            snprintf(why, size, "rendering the %s failed", steps[i]);
            return -1;
        }
    }
    return 0;
}

/* Stores the files, the signed manifest, and issues the pack: one
 * transaction.  0, or -1. */
static int
store(worker_t *w, msp_pack_files_t *files, const char *manifest, EVP_PKEY *key,
      const json_t *slugs)
{
    char *signature = msp_pack_sign(key, manifest, strlen(manifest));
    char *pem = NULL, id[MSP_PACK_KEY_ID_LEN + 1];
    int rc = -1;
    if (signature == NULL || msp_pack_public_key(key, &pem, id) != 0) {
        ctl_error("%s: signing failed", w->pack);
        goto done;
    }
    if (ctl_begin(w->owner, "") != 0) {
        goto done;
    }
    int portfolio = w->slug == NULL, skip = portfolio ? 1 : 0;
    for (size_t i = 0; i < files->n; i++) {
        const char *values[] = { w->slug, w->pack, files->files[i].name,
                                 files->files[i].media_type, (const char *) files->files[i].data };
        int lengths[] = { 0, 0, 0, 0, (int) files->files[i].len };
        int formats[] = { 0, 0, 0, 0, 1 };
        PGresult *res = PQexecParams(w->owner,
                                     portfolio
                                         ? "SELECT app.store_portfolio_pack_file($1, $2, $3,"
                                           " $4::bytea)"
                                         : "SELECT app.store_pack_file($1, $2, $3, $4,"
                                           " $5::bytea)",
                                     5 - skip, NULL, values + skip, lengths + skip,
                                     formats + skip, 0);
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (!ok) {
            ctl_error("%s: storing %s: %s", w->pack, files->files[i].name,
                      PQerrorMessage(w->owner));
        }
        PQclear(res);
        if (!ok) {
            ctl_run(w->owner, "ROLLBACK", 0, NULL);
            goto done;
        }
    }
    char *slug_list = NULL;
    if (portfolio) {
        /* the tenants it shows, as a PostgreSQL array of slugs (which hold
         * no comma, quote or brace) */
        msp_buf_t b = { 0 };
        msp_buf_puts(&b, "{");
        size_t i;
        const json_t *v;
        json_array_foreach(slugs, i, v) {
            msp_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
        }
        msp_buf_puts(&b, "}");
        size_t len;
        slug_list = msp_buf_take(&b, &len);
    }
    const char *params[] = { w->slug, w->pack, manifest, signature, id, pem, slug_list };
    PGresult *res = portfolio
        ? ctl_query(w->owner, "SELECT app.issue_portfolio_pack($1, $2, $3, $4, $5, $6::text[])",
                    6, params + 1)
        : ctl_query(w->owner, "SELECT app.issue_pack($1, $2, $3, $4, $5, $6)", 6, params);
    free(slug_list);
    int issued = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (ctl_run(w->owner, issued ? "COMMIT" : "ROLLBACK", 0, NULL) == 0 && issued) {
        rc = 0;
    } else if (res != NULL) {
        /* another worker issued it first (its claim had lapsed) */
        ctl_error("%s: not issued: another worker did, or its files changed", w->pack);
    }
done:
    free(signature);
    free(pem);
    return rc;
}

static void
fail(worker_t *w, const char *why)
{
    const char *params[] = { w->slug, w->pack, why };
    if (ctl_begin(w->owner, "") == 0) {
        if (w->slug != NULL) {
            ctl_run(w->owner, "SELECT app.fail_pack($1, $2, $3)", 3, params);
        } else {
            ctl_run(w->owner, "SELECT app.fail_portfolio_pack($1, $2)", 2, params + 1);
        }
    }
    ctl_run(w->owner, "COMMIT", 0, NULL);
}

/* Claims a pack waiting: a tenant's, or else a portfolio pack.  The
 * claim's row, or NULL (*failed when the database failed). */
static PGresult *
claim(worker_t *w, int *failed)
{
    static const char *const claims[] = {
        "SELECT * FROM app.claim_pack($1::interval)",
        "SELECT * FROM app.claim_portfolio_pack($1::interval)",
    };
    const char *lease[] = { PACK_LEASE };
    *failed = 0;
    for (int i = 0; i < 2; i++) {
        if (ctl_begin(w->owner, "") != 0) {
            *failed = 1;
            return NULL;
        }
        PGresult *res = ctl_query(w->owner, claims[i], 1, lease);
        if (res == NULL || ctl_run(w->owner, "COMMIT", 0, NULL) != 0) {
            PQclear(res);
            *failed = 1;
            return NULL;
        }
        if (PQntuples(res) > 0) {
            return res;
        }
        PQclear(res);
    }
    return NULL;
}

/* Claims and renders one pack: 1 when it did one, 0 when none waits, -1
 * when the database failed. */
static int
work_one(worker_t *w, const render_options_t *o, EVP_PKEY *key)
{
    int failed;
    PGresult *res = claim(w, &failed);
    if (res == NULL) {
        return failed ? -1 : 0;
    }
    msp_pack_info_t info = { .provider = o->provider };
    msp_principal_t asker;
    w->reader = NULL;
    if (PQnfields(res) == 7) {
        /* a tenant's: app.claim_pack's columns */
        info.slug = PQgetvalue(res, 0, 0);
        info.pack_id = PQgetvalue(res, 0, 1);
        info.kind = PQgetvalue(res, 0, 2);
        info.period = PQgetvalue(res, 0, 3);
        info.as_of = PQgetvalue(res, 0, 4);
        info.supersedes = PQgetisnull(res, 0, 5) ? NULL : PQgetvalue(res, 0, 5);
    } else {
        /* a portfolio pack, read as the one who asked for it */
        info.pack_id = PQgetvalue(res, 0, 0);
        info.kind = PQgetvalue(res, 0, 1);
        info.period = PQgetvalue(res, 0, 2);
        info.as_of = PQgetvalue(res, 0, 3);
        const char *why = NULL;
        if (msp_principal_from_claims(&asker, PQgetvalue(res, 0, 4), NULL, "provider",
                                      PQgetvalue(res, 0, 5), &why) == 0) {
            w->reader = &asker;
        }
    }
    w->slug = info.slug;
    w->pack = info.pack_id;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *doc = NULL, *slugs = NULL;
    msp_pack_files_t files = { 0 };
    char why[512] = "";
    int rc = info.slug == NULL && w->reader == NULL
                 ? (snprintf(why, sizeof(why), "its asker is not a principal"), -1)
                 : render(w, &info, o, &doc, &files, why, sizeof(why), &slugs);
    char *manifest = rc == 0 ? msp_pack_manifest(doc, &files) : NULL;
    if (rc == 0 && manifest != NULL && store(w, &files, manifest, key, slugs) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("mspctl pack: %s %s issued: %zu files in %.2f s (peak memory %ld KiB)\n",
               info.slug ? info.slug : "portfolio", info.pack_id, files.n,
               (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9,
               ru.ru_maxrss);
        fflush(stdout);
    } else {
        ctl_error("%s %s failed: %s", info.slug ? info.slug : "portfolio", info.pack_id,
                  *why ? why : "storing it failed");
        fail(w, *why ? why : "storing it failed");
    }
    free(manifest);
    json_decref(doc);
    json_decref(slugs);
    msp_pack_files_free(&files);
    PQclear(res);
    w->reader = NULL;
    return 1;
}

/* Waits for a new pack's notice, or seconds. */
static void
wait_for_packs(PGconn *conn, int seconds)
{
    int fd = PQsocket(conn);
    fd_set in;
    FD_ZERO(&in);
    FD_SET(fd, &in);
    struct timeval tv = { seconds, 0 };
    select(fd + 1, &in, NULL, NULL, &tv);
    PQconsumeInput(conn);
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        PQfreemem(n);
    }
}

static void
options_from_env(render_options_t *o)
{
    o->provider = getenv("MSP_PROVIDER_NAME");
    o->provider = o->provider && *o->provider ? o->provider : "Managed service provider";
    o->logo = getenv("MSP_PACK_LOGO");
    o->logo = o->logo && *o->logo ? o->logo : NULL;
    o->api_base = getenv("MSP_PUBLIC_URL");
    o->api_base = o->api_base ? o->api_base : "";
}

static int
pack_worker(int argc, char **argv)
{
    int once = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0) {
            once = 1;
        } else {
            ctl_error("usage: mspctl pack worker [--once]");
            return 2;
        }
    }
    render_options_t o;
    options_from_env(&o);
    const char *key_path = getenv("MSP_PACK_KEY");
    char why[256];
    if (key_path == NULL || *key_path == '\0') {
        ctl_error("MSP_PACK_KEY is not set (the provider's Ed25519 pack key, PEM)");
        return 2;
    }
    EVP_PKEY *key = msp_pack_key_load(key_path, why, sizeof(why));
    if (key == NULL) {
        ctl_error("%s", why);
        return 2;
    }
    worker_t w = { .owner = ctl_connect(), .gateway = ctl_connect_gateway() };
    if (w.owner == NULL || w.gateway == NULL
        || ctl_run(w.owner, "LISTEN msp_packs", 0, NULL) != 0)
    {
        PQfinish(w.owner);
        PQfinish(w.gateway);
        EVP_PKEY_free(key);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = 0;
    for (;;) {
        int did = work_one(&w, &o, key);
        if (did < 0) {
            /* the database went away: a supervisor (systemd) restarts us */
            rc = 1;
            break;
        }
        if (did == 0) {
            if (once) {
                break;
            }
            wait_for_packs(w.owner, 5);
        }
    }
    PQfinish(w.owner);
    PQfinish(w.gateway);
    EVP_PKEY_free(key);
    return rc;
}

static int
write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    if (slash != NULL && slash > path + strlen(dir)) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        ctl_error("%s: %s", path, strerror(errno));
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int
pack_render(int argc, char **argv)
{
    static const struct option options[] = {
        { "as-of", required_argument, NULL, 'a' }, { "out", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    const char *as_of = NULL, *out = NULL;
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'a') {
            as_of = optarg;
        } else if (c == 'o') {
            out = optarg;
        } else {
            goto usage;
        }
    }
    if (argc - optind != 3 || as_of == NULL || out == NULL) {
        goto usage;
    }
    render_options_t o;
    options_from_env(&o);
    const char *slug = argv[optind], *kind = argv[optind + 1], *period = argv[optind + 2];
    if (msp_pack_kind(kind) < 0) {
        ctl_error("unknown kind %s: weekly, monthly or quarterly", kind);
        return 2;
    }
    /* the pack's id, as the database names it */
    worker_t w = { .gateway = ctl_connect_gateway(), .slug = slug };
    if (w.gateway == NULL) {
        return 1;
    }
    const char *params[] = { kind, period, as_of };
    PGresult *res = ctl_query(w.gateway, "SELECT app.pack_id($1, $2, $3::timestamptz),"
                              " app.rfc3339($3::timestamptz)", 3, params);
    if (res == NULL) {
        PQfinish(w.gateway);
        return 1;
    }
    msp_pack_info_t info = { .slug = slug, .pack_id = PQgetvalue(res, 0, 0), .kind = kind,
                             .period = period, .as_of = PQgetvalue(res, 0, 1),
                             .provider = o.provider };
    const char *supersedes = getenv("MSP_PACK_SUPERSEDES");
    info.supersedes = supersedes && *supersedes ? supersedes : NULL;
    json_t *doc = NULL;
    msp_pack_files_t files = { 0 };
    char why[512] = "";
    int rc = 1;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        ctl_error("%s: %s", out, strerror(errno));
    } else if (render(&w, &info, &o, &doc, &files, why, sizeof(why), NULL) != 0) {
        ctl_error("%s", why);
    } else {
        char *manifest = msp_pack_manifest(doc, &files);
        rc = manifest == NULL ? 1 : 0;
        for (size_t i = 0; rc == 0 && i < files.n; i++) {
            rc = write_file(out, files.files[i].name, files.files[i].data, files.files[i].len)
                 ? 1 : 0;
        }
        if (rc == 0) {
            rc = write_file(out, "manifest.json", manifest, strlen(manifest)) ? 1 : 0;
        }
        free(manifest);
        if (rc == 0) {
            printf("%s: %zu files in %s\n", info.pack_id, files.n + 1, out);
        }
    }
    json_decref(doc);
    msp_pack_files_free(&files);
    PQclear(res);
    PQfinish(w.gateway);
    return rc;

usage:
    ctl_error("usage: mspctl pack render SLUG KIND PERIOD --as-of RFC3339 --out DIR");
    return 2;
}

/*
 * Checks FILE against MANIFEST (the manifest document: {"manifest": {...},
 * "signature", "key_id", "public_key"}): its SHA-256 is one the manifest
 * lists, and the signature over the manifest is the public key's.  The
 * key is --key's (a PEM file the provider published), else the one the
 * document carries, which is said.  A UTF-8 byte order mark that a CSV
 * was downloaded with (bom=1) is not part of the file.
 */
static int
pack_verify(int argc, char **argv)
{
    static const struct option options[] = {
        { "key", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 },
    };
    const char *key_path = NULL;
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c != 'k') {
            goto usage;
        }
        key_path = optarg;
    }
    if (argc - optind != 2) {
        goto usage;
    }
    size_t len, mlen, klen;
    char *file = ctl_read_file(argv[optind], &len);
    char *mtext = file ? ctl_read_file(argv[optind + 1], &mlen) : NULL;
    char *key = key_path && mtext ? ctl_read_file(key_path, &klen) : NULL;
    json_error_t error;
    json_t *doc = mtext ? json_loadb(mtext, mlen, 0, &error) : NULL;
    int rc = 1;
    if (file == NULL || mtext == NULL || (key_path != NULL && key == NULL)) {
        goto done;
    }
    json_t *manifest = json_object_get(doc, "manifest");
    const char *signature = json_string_value(json_object_get(doc, "signature"));
    const char *public_key = key ? key : json_string_value(json_object_get(doc, "public_key"));
    if (!json_is_object(manifest) || signature == NULL || public_key == NULL) {
        ctl_error("%s: not a pack manifest (GET .../packs/{id}?format=manifest)",
                  argv[optind + 1]);
        goto done;
    }
    const char *data = file;
    if (len >= 3 && memcmp(file, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    char hex[MSP_SHA256_HEX_LEN + 1];
    msp_sha256_hex(data, len, hex);
    const char *name = NULL, *k;
    json_t *v;
    json_object_foreach(json_object_get(manifest, "files"), k, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), hex) == 0) {
            name = k;
        }
    }
    char *text = msp_pack_manifest_text(manifest);
    int valid = text ? msp_pack_verify(public_key, text, strlen(text), signature) : -1;
    free(text);
    const char *pack = json_string_value(json_object_get(manifest, "pack"));
    if (valid != 1) {
        printf("INVALID: the manifest's signature does not verify%s\n",
               valid < 0 ? " (the key or signature cannot be read)" : "");
    } else if (name == NULL) {
        printf("INVALID: %s (sha256 %s) is not a file of pack %s\n", argv[optind], hex,
               pack ? pack : "?");
    } else {
        printf("OK: %s is %s of pack %s, signed by key %s%s\n", argv[optind], name,
               pack ? pack : "?", json_string_value(json_object_get(doc, "key_id")) ?: "?",
               key ? "" : " (the key the manifest carries: pin the provider's with --key)");
        rc = 0;
    }
done:
    json_decref(doc);
    free(file);
    free(mtext);
    free(key);
    return rc;

usage:
    ctl_error("usage: mspctl pack verify FILE MANIFEST [--key PUBLIC_KEY.pem]");
    return 2;
}

int
ctl_pack(int argc, char **argv)
{
    const char *why = NULL;
    if (msp_principal_from_claims(&reader, "msp-packs", NULL, "provider", "admin", &why) != 0) {
        ctl_error("%s", why);
        return 2;
    }
    if (argc >= 2 && strcmp(argv[1], "worker") == 0) {
        return pack_worker(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "render") == 0) {
        return pack_render(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        return pack_verify(argc, argv);
    }
    ctl_error("usage: mspctl pack worker|render|verify ...");
    return 2;
}
