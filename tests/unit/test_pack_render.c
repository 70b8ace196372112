/*
 * test_pack_render.c - a pack's renderers on a document made here
 * (packs/pack.h), without a database: every format twice gives the same
 * bytes; the zip is one that unzip tools read (its CRCs and directory);
 * cells read as the HTML and the PDF show them; the manifest's signature
 * verifies, and fails for a changed manifest or another key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/zip_writer.h"
#include "packs/pack.h"
#include "packs/pack_sign.h"

static json_t *
document(void)
{
    json_error_t error;
    json_t *doc = json_loads(
        "{\"pack\": {\"id\": \"monthly-2026-03-20260420T120000Z\", \"kind\": \"monthly\","
        " \"tenant\": {\"slug\": \"acme\", \"name\": \"Acme & <Sons>\"}, \"provider\": \"MSP\","
        " \"period\": {\"name\": \"2026-03\", \"start\": \"2026-03-01T00:00:00-05:00\","
        "  \"end\": \"2026-04-01T00:00:00-04:00\", \"time_zone\": \"America/New_York\"},"
        " \"as_of\": \"2026-04-20T12:00:00Z\", \"definitions\": \"2\"},"
        " \"sections\": [{\"key\": \"volume\", \"title\": \"Volume\","
        "  \"sentences\": [{\"text\": \"12 tickets, \\\"quoted\\\"\", \"cites\": {\"table\": \"t\","
        "   \"row\": 0, \"column\": 1, \"value\": 12}}],"
        "  \"tables\": [{\"key\": \"t\", \"title\": \"By priority\", \"columns\": ["
        "    {\"key\": \"p\", \"title\": \"Priority\", \"type\": \"text\"},"
        "    {\"key\": \"n\", \"title\": \"Created\", \"type\": \"count\"},"
        "    {\"key\": \"r\", \"title\": \"Attainment\", \"type\": \"rate\"},"
        "    {\"key\": \"d\", \"title\": \"Median\", \"type\": \"duration\"}],"
        "   \"rows\": [[\"P1, urgent\", 12, 0.9525, 5430], [\"P2\", 1234567, null, null]],"
        "   \"links\": [[null, \"/v1/x?a=1&b=2\", null, null], [null, null, null, null]]},"
        "   {\"key\": \"cost\", \"title\": \"Cost\", \"currency\": \"EUR\", \"columns\": ["
        "    {\"key\": \"f\", \"title\": \"Figure\", \"type\": \"text\"},"
        "    {\"key\": \"v\", \"title\": \"Value\", \"type\": \"number\"},"
        "    {\"key\": \"unit\", \"title\": \"Unit\", \"type\": \"text\"}],"
        "   \"rows\": [[\"Fee\", 18500, \"money\"], [\"Hours\", 7.25, \"hours\"]],"
        "   \"links\": [[null, null, null], [null, null, null]]}],"
        "  \"chart\": {\"type\": \"bars\", \"table\": \"t\", \"label\": 0, \"series\": [1]}}]}",
        0, &error);
    assert_non_null(doc);
    return doc;
}

static void
render_all(const json_t *doc, msp_pack_files_t *files)
{
    assert_int_equal(msp_pack_render_json(doc, files), 0);
    assert_int_equal(msp_pack_render_csv(doc, files), 0);
    assert_int_equal(msp_pack_render_html(doc, "https://msp.example", files), 0);
    assert_int_equal(msp_pack_render_pdf(doc, NULL, files), 0);
}

static const msp_pack_file_t *
file_named(const msp_pack_files_t *files, const char *name)
{
    for (size_t i = 0; i < files->n; i++) {
        if (strcmp(files->files[i].name, name) == 0) {
            return &files->files[i];
        }
    }
    fail_msg("no file %s", name);
    return NULL;
}

static void
test_every_format_twice_is_the_same_bytes(void **state)
{
    (void) state;
    json_t *doc = document();
    msp_pack_files_t a = { 0 }, b = { 0 };
    render_all(doc, &a);
    render_all(doc, &b);
    assert_int_equal(a.n, b.n);
    /* json, two tables' CSV, their zip, html, pdf */
    assert_int_equal(a.n, 6);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.files[i].name, b.files[i].name);
        assert_int_equal(a.files[i].len, b.files[i].len);
        assert_memory_equal(a.files[i].data, b.files[i].data, a.files[i].len);
    }
    const msp_pack_file_t *pdf = file_named(&a, "pack.pdf");
    assert_memory_equal(pdf->data, "%PDF-", 5);
    /* the document's date is the pack's as_of, not the time of rendering */
    assert_non_null(memmem(pdf->data, pdf->len, "/CreationDate (20260420120000", 29));
    json_decref(doc);
    msp_pack_files_free(&a);
    msp_pack_files_free(&b);
}

static void
test_csv_quotes_what_it_must_and_keeps_values(void **state)
{
    (void) state;
    json_t *doc = document();
    msp_pack_files_t f = { 0 };
    assert_int_equal(msp_pack_render_csv(doc, &f), 0);
    const msp_pack_file_t *t = file_named(&f, "csv/t.csv");
    static const char want[] = "p,n,r,d\r\n\"P1, urgent\",12,0.9525,5430\r\nP2,1234567,,\r\n";
    assert_int_equal(t->len, sizeof(want) - 1);
    assert_memory_equal(t->data, want, sizeof(want) - 1);
    json_decref(doc);
    msp_pack_files_free(&f);
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
test_the_zip_has_its_files_with_their_crcs(void **state)
{
    (void) state;
    msp_zip_t *zip = msp_zip_new();
    assert_int_equal(msp_zip_add(zip, "a.csv", "hello", 5), 0);
    assert_int_equal(msp_zip_add(zip, "b.csv", "", 0), 0);
    unsigned char *data;
    size_t len;
    assert_int_equal(msp_zip_finish(zip, &data, &len), 0);
    assert_int_equal(le32(data), 0x04034b50);
    /* CRC-32 of "hello", as zlib computes it */
    assert_int_equal(le32(data + 14), 0x3610a686);
    assert_int_equal(le32(data + 18), 5);
    assert_memory_equal(data + 30, "a.csv", 5);
    assert_memory_equal(data + 35, "hello", 5);
    /* the end record: 2 files, the directory where it says */
    const unsigned char *end = data + len - 22;
    assert_int_equal(le32(end), 0x06054b50);
    assert_int_equal(end[10], 2);
    uint32_t dir = le32(end + 16);
    assert_int_equal(le32(data + dir), 0x02014b50);
    assert_int_equal(dir + le32(end + 12), len - 22);
    free(data);

    zip = msp_zip_new();
    char name[300];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(msp_zip_add(zip, name, "x", 1), -1);
    assert_int_equal(msp_zip_finish(zip, &data, &len), -1);
}

static void
test_cells_read_as_people_read_them(void **state)
{
    (void) state;
    json_t *doc = document();
    json_t *t = json_array_get(json_object_get(json_array_get(json_object_get(doc, "sections"),
                                                              0), "tables"), 0);
    json_t *cost = json_array_get(json_object_get(json_array_get(json_object_get(doc,
                                                                                 "sections"),
                                                                 0), "tables"), 1);
    char buf[64];
    msp_pack_cell_text(t, 0, 1, buf, sizeof(buf));
    assert_string_equal(buf, "12");
    msp_pack_cell_text(t, 1, 1, buf, sizeof(buf));
    assert_string_equal(buf, "1,234,567");
    msp_pack_cell_text(t, 0, 2, buf, sizeof(buf));
    assert_string_equal(buf, "95.3%");
    msp_pack_cell_text(t, 0, 3, buf, sizeof(buf));
    assert_string_equal(buf, "1 h 31 min");
    msp_pack_cell_text(t, 1, 2, buf, sizeof(buf));
    assert_string_equal(buf, "-");
    msp_pack_cell_text(cost, 0, 1, buf, sizeof(buf));
    assert_string_equal(buf, "18,500.00 EUR");
    msp_pack_cell_text(cost, 1, 1, buf, sizeof(buf));
    assert_string_equal(buf, "7.3 h");     /* 7.25, half up */
    assert_true(msp_pack_column_shown(cost, 1));
    assert_false(msp_pack_column_shown(cost, 2));
    assert_true(msp_pack_column_numeric(t, 1));
    assert_false(msp_pack_column_numeric(t, 0));
    json_decref(doc);
}

static void
test_html_escapes_and_links(void **state)
{
    (void) state;
    json_t *doc = document();
    msp_pack_files_t f = { 0 };
    assert_int_equal(msp_pack_render_html(doc, "https://msp.example", &f), 0);
    const char *html = (const char *) f.files[0].data;
    assert_non_null(strstr(html, "Acme &amp; &lt;Sons&gt;"));
    assert_null(strstr(html, "<Sons>"));
    assert_non_null(strstr(html, "<a href=\"https://msp.example/v1/x?a=1&amp;b=2\">12</a>"));
    assert_non_null(strstr(html, "data-value=\"0.9525\""));
    assert_non_null(strstr(html, "<a href=\"#t-0-1\">12 tickets, &quot;quoted&quot;</a>"));
    assert_null(strstr(html, "<script"));
    /* the unit column says how a row reads; it is not shown */
    assert_null(strstr(html, ">Unit<"));
    json_decref(doc);
    msp_pack_files_free(&f);
}

static EVP_PKEY *
new_key(void)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &key), 1);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static void
test_the_manifest_signature_verifies_and_nothing_else_does(void **state)
{
    (void) state;
    json_t *doc = document();
    msp_pack_files_t f = { 0 };
    render_all(doc, &f);
    char *manifest = msp_pack_manifest(doc, &f);
    assert_non_null(manifest);
    /* sorted keys, no spaces: rebuilt from its own parse, the same bytes */
    json_error_t error;
    json_t *parsed = json_loads(manifest, 0, &error);
    char *again = msp_pack_manifest_text(parsed);
    assert_string_equal(again, manifest);
    assert_string_equal(json_string_value(json_object_get(parsed, "pack")),
                        "monthly-2026-03-20260420T120000Z");
    assert_int_equal(json_object_size(json_object_get(parsed, "files")), f.n);

    EVP_PKEY *key = new_key(), *other = new_key();
    char *pem, *other_pem, id[MSP_PACK_KEY_ID_LEN + 1], other_id[MSP_PACK_KEY_ID_LEN + 1];
    assert_int_equal(msp_pack_public_key(key, &pem, id), 0);
    assert_int_equal(msp_pack_public_key(other, &other_pem, other_id), 0);
    assert_int_equal(strlen(id), 16);
    assert_string_not_equal(id, other_id);
    char *sig = msp_pack_sign(key, manifest, strlen(manifest));
    assert_non_null(sig);
    assert_int_equal(strlen(sig), 88);
    assert_int_equal(msp_pack_verify(pem, manifest, strlen(manifest), sig), 1);
    assert_int_equal(msp_pack_verify(other_pem, manifest, strlen(manifest), sig), 0);
    manifest[10] ^= 1;
    assert_int_equal(msp_pack_verify(pem, manifest, strlen(manifest), sig), 0);
    manifest[10] ^= 1;
    assert_int_equal(msp_pack_verify(pem, manifest, strlen(manifest), "not base64"), -1);
    assert_int_equal(msp_pack_verify("not a key", manifest, strlen(manifest), sig), -1);

    free(sig);
    free(pem);
    free(other_pem);
    free(again);
    free(manifest);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    json_decref(parsed);
    json_decref(doc);
    msp_pack_files_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_format_twice_is_the_same_bytes),
        cmocka_unit_test(test_csv_quotes_what_it_must_and_keeps_values),
        cmocka_unit_test(test_the_zip_has_its_files_with_their_crcs),
        cmocka_unit_test(test_cells_read_as_people_read_them),
        cmocka_unit_test(test_html_escapes_and_links),
        cmocka_unit_test(test_the_manifest_signature_verifies_and_nothing_else_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
