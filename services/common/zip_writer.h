/*
 * zip_writer.h - a ZIP archive of files stored as they are (no
 * compression), byte for byte the same for the same files: every entry
 * carries the same fixed date (1980-01-01 00:00, the format's first), no
 * extra fields and no comments.  For exports that must be reproducible
 * (a review pack's CSV tables) and that spreadsheets open as they come.
 */
#ifndef MSP_ZIP_WRITER_H
#define MSP_ZIP_WRITER_H

#include <stddef.h>

typedef struct msp_zip msp_zip_t;

/* NULL when out of memory. */
msp_zip_t *msp_zip_new(void);
/* Adds a file (name: a relative path, at most 255 bytes).  0 or -1. */
int msp_zip_add(msp_zip_t *zip, const char *name, const void *data, size_t len);
/* Ends the archive: *data (malloc'd, the caller's) and *len.  Frees zip
 * either way.  0 or -1. */
int msp_zip_finish(msp_zip_t *zip, unsigned char **data, size_t *len);

#endif
