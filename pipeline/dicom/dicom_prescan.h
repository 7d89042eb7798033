/* Declared-length check of a DICOM file's element headers, run before
 * DCMTK parses it (dicom_prescan.c). Internal to the reader. */
#ifndef SPINEPIPE_DICOM_PRESCAN_H
#define SPINEPIPE_DICOM_PRESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SP_FORMAT, with a message naming `name`, the tag, its offset, the
 * declared length and the bytes remaining, when an element or pixel
 * fragment declares more bytes than are left (a sequence or item that does
 * is walked to the end: DCMTK reserves nothing for it); SP_OK otherwise, including
 * for structure it does not follow (DCMTK then judges the file). Offsets
 * in a deflated data set are those of the inflated bytes. */
sp_status spd_prescan_buffer(const uint8_t *data, size_t size,
                             const char *name, sp_error *err);
/* The same on a file, read through a small window: values are skipped,
 * not read. */
sp_status spd_prescan_file(const char *path, sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
