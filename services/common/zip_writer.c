/*
 * zip_writer.c - stored (uncompressed) ZIP archives, as APPNOTE.TXT 6.3
 * lays them out: a local header and the data per file, then the central
 * directory and its end record.  Archives over 4 GiB or 65,535 files
 * (ZIP64) are refused: a pack's tables are far from either.
 */
#include "common/zip_writer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *data;
    size_t         len, cap;
} buf_t;

struct msp_zip {
    buf_t    body;        /* local headers and data */
    buf_t    central;     /* the central directory */
    unsigned count;
    int      failed;
};

/* 1980-01-01 00:00 in MS-DOS form: date (1980 - 1980) << 9 | 1 << 5 | 1. */
#define ZIP_DOS_TIME 0
#define ZIP_DOS_DATE 0x21

static int
put(buf_t *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len) {
            cap *= 2;
        }
        unsigned char *p = realloc(b->data, cap);
        if (p == NULL) {
            return -1;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

static int
put16(buf_t *b, unsigned v)
{
    unsigned char le[2] = { (unsigned char) v, (unsigned char) (v >> 8) };
    return put(b, le, 2);
}

static int
put32(buf_t *b, uint32_t v)
{
    unsigned char le[4] = { (unsigned char) v, (unsigned char) (v >> 8),
                            (unsigned char) (v >> 16), (unsigned char) (v >> 24) };
    return put(b, le, 4);
}

/* CRC-32 (IEEE 802.3, reflected), bit by bit: archives are small. */
static uint32_t
crc32_of(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

msp_zip_t *
msp_zip_new(void)
{
    return calloc(1, sizeof(msp_zip_t));
}

/* The fields a local header and its central directory entry share, from
 * "version needed" to the extra field's length.  (Each put is its own
 * statement: the operands of | are not evaluated in any given order.) */
static int
put_common(buf_t *b, uint32_t crc, uint32_t size, size_t name_len)
{
    int rc = put16(b, 10);
    rc |= put16(b, 0x0800);     /* names in UTF-8 */
    rc |= put16(b, 0);          /* stored */
    rc |= put16(b, ZIP_DOS_TIME);
    rc |= put16(b, ZIP_DOS_DATE);
    rc |= put32(b, crc);
    rc |= put32(b, size);
    rc |= put32(b, size);
    rc |= put16(b, (unsigned) name_len);
    rc |= put16(b, 0);          /* no extra field */
    return rc;
}

int
msp_zip_add(msp_zip_t *zip, const char *name, const void *data, size_t len)
{
    size_t name_len = strlen(name);
    if (zip->failed || name_len == 0 || name_len > 255 || len > 0xfffffffeu
        || zip->body.len > 0xfffffffeu - len || zip->count >= 0xffff)
    {
        zip->failed = 1;
        return -1;
    }
    uint32_t crc = crc32_of(data, len), offset = (uint32_t) zip->body.len;
    buf_t *l = &zip->body, *c = &zip->central;
    int rc = put32(l, 0x04034b50);
    rc |= put_common(l, crc, (uint32_t) len, name_len);
    rc |= put(l, name, name_len);
    rc |= put(l, data, len);
    rc |= put32(c, 0x02014b50);
    rc |= put16(c, 0x031e);                  /* made by: unix, 3.0 */
    rc |= put_common(c, crc, (uint32_t) len, name_len);
    rc |= put16(c, 0);                       /* comment */
    rc |= put16(c, 0);                       /* disk */
    rc |= put16(c, 0);                       /* internal attributes */
    rc |= put32(c, 0100644u << 16);          /* a regular file, rw-r--r-- */
    rc |= put32(c, offset);
    rc |= put(c, name, name_len);
    if (rc != 0) {
        zip->failed = 1;
        return -1;
    }
    zip->count++;
    return 0;
}

int
msp_zip_finish(msp_zip_t *zip, unsigned char **data, size_t *len)
{
    int rc = -1;
    buf_t *b = &zip->body;
    if (!zip->failed && b->len + zip->central.len < 0xffffffffu) {
        uint32_t at = (uint32_t) b->len, size = (uint32_t) zip->central.len;
        int bad = put(b, zip->central.data, zip->central.len);
        bad |= put32(b, 0x06054b50);
        bad |= put16(b, 0);                  /* this disk */
        bad |= put16(b, 0);                  /* the directory's disk */
        bad |= put16(b, zip->count);
        bad |= put16(b, zip->count);
        bad |= put32(b, size);
        bad |= put32(b, at);
        bad |= put16(b, 0);                  /* comment */
        if (!bad) {
            *data = b->data;
            *len = b->len;
            b->data = NULL;
            rc = 0;
        }
    }
    free(zip->body.data);
    free(zip->central.data);
    free(zip);
    return rc;
}
