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

/* Where the walk found the uncompressed pixel data, for a direct read that
 * skips a second parse (docs/dicom-input.md). `found` is 1 only when the
 * meta group names explicit or implicit VR little endian, the data set
 * holds exactly one top-level PixelData of defined length (VR OB or OW
 * when explicit), and the walk reached the end of the file without
 * stopping on structure it does not follow. */
typedef struct spd_pixel_loc {
    int found;
    int implicit_vr;
    uint64_t offset;     /* of the value's first byte */
    uint64_t length;     /* the value's declared length */
    uint64_t file_size;  /* fstat of the walked file */
    int64_t mtime_ns;
} spd_pixel_loc;

/* spd_prescan_file that also fills *loc (zeroed first). */
sp_status spd_prescan_file_loc(const char *path, spd_pixel_loc *loc,
                               sp_error *err);

/* The top-level elements a header record needs (dicom_header.cc), with
 * the VR each must have, caught by the same walk so that a plain file
 * needs no DCMTK parse. An entry with VR "--" is only noted: the record
 * reader leaves a file holding it to DCMTK. */
typedef struct spd_wanted_tag {
    uint16_t group, element;
    char vr[3];
} spd_wanted_tag;
/* The list, sorted by tag; *n gets its length. (A function, not an
 * exported table: the core is linked into modules too.) */
const spd_wanted_tag *spd_wanted_tags(size_t *n);
#define SPD_MAX_WANTED 48
/* Longest value caught; a longer wanted value makes the file unusable. */
#define SPD_VALUE_CAP 256

typedef struct spd_value {
    int present;
    uint32_t length;
    uint8_t bytes[SPD_VALUE_CAP];
} spd_value;

/* `usable` is 1 only when: a preamble and DICM, an explicit VR meta group
 * whose group length matches it, transfer syntax explicit VR little
 * endian, every VR in the file a standard one, the walk reached the end
 * of the file, *loc was found, and each wanted element appears at most
 * once at the top level with the expected VR and at most SPD_VALUE_CAP
 * bytes (and no "--" entry appears). Anything else: 0, and the file is
 * DCMTK's to judge. value[i] belongs to entry i of spd_wanted_tags. */
typedef struct spd_header_values {
    int usable;
    /* 1 when the file is a DICOMDIR with every condition of `usable` but
     * the pixels: DCMTK would read it and skip it as a DICOMDIR. */
    int dicomdir;
    spd_value value[SPD_MAX_WANTED];
} spd_header_values;

/* spd_prescan_file_loc that also fills *values (may be NULL). */
sp_status spd_prescan_file_values(const char *path, spd_pixel_loc *loc,
                                  spd_header_values *values, sp_error *err);
/* The same on a file already open (`path` names it in messages; the
 * offset of fd is not used and fd is not closed). */
sp_status spd_prescan_fd_values(int fd, const char *path, spd_pixel_loc *loc,
                                spd_header_values *values, sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
