/* Internal interfaces of the DICOM reader, shared by its C and C++ files.
 * Nothing here is public; the API is include/spinepipe/dicom.h. */
#ifndef SPINEPIPE_DICOM_INTERNAL_H
#define SPINEPIPE_DICOM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults documented in docs/dicom-input.md. */
#define SPD_DEFAULT_MAX_FILES ((size_t)1000000)
#define SPD_DEFAULT_MAX_BYTES ((size_t)4 << 30)

/* One image slice as read from a header (a file or one frame of it): what
 * grouping and sorting need. `path` is owned by the record. */
typedef struct spd_record {
    sp_dicom_header header;
    char *path;
    uint32_t frame;
    double position[3];
    double orientation[6];
    double pixel_spacing[2];
    double slice_thickness;       /* 0 when absent */
    uint32_t rows, columns;
    uint16_t bits_allocated;
    uint16_t samples_per_pixel;
    double rescale_slope, rescale_intercept;
    /* Splits a series only when positions repeat: acquisition, echo and
     * temporal position (each -1 when absent). */
    int acquisition, echo, temporal;
    /* InstanceNumber (frame index in multi-frame files), -1 when absent;
     * it sets only the direction of the stack, never the order. */
    int instance;
    char transfer_syntax[65];
    /* Direct read of uncompressed pixels (sp_dicom_slice's fields of the
     * same names; pixel_offset is that of frame 0). pixel_bytes 0: none. */
    uint64_t pixel_offset, pixel_bytes, file_size;
    int64_t file_mtime_ns;
    uint16_t bits_stored, high_bit, pixel_signed;
} spd_record;

/* A growable list of records and skipped files being built by a scan. */
typedef struct spd_collect {
    spd_record *records;
    size_t n_records, cap_records;
    sp_dicom_skipped *skipped;
    size_t n_skipped, cap_skipped;
} spd_collect;

/* Append; `path` and `reason` are copied. Return SP_NOMEM on failure. */
sp_status spd_collect_record(spd_collect *c, const spd_record *rec);
sp_status spd_collect_skip(spd_collect *c, const char *path, sp_status code,
                           const char *reason);
void spd_collect_free(spd_collect *c);
/* Room for this many records and skips in all (SP_NOMEM on failure). */
sp_status spd_collect_reserve(spd_collect *c, size_t records, size_t skipped);

/* Group records into series (study, series UID and number, orientation,
 * matrix; then acquisition/echo/time when positions repeat), sort each by
 * position along the normal, compute spacing and tilt, and write warnings.
 * The stack runs along the normal unless the instance numbers all run the
 * other way: then it is reversed, so a series written from a volume comes
 * back on the same voxel grid.
 * Duplicate positions keep the first record and move the rest to skipped.
 * Consumes the collection (records and skipped move into *scan). */
sp_status spd_group(spd_collect *c, sp_dicom_scan **scan, sp_error *err);

/* Walk `path` (folder, recursively, or one file) calling `visit` on every
 * regular file; symlinked folders are followed only when asked and loops are
 * detected. Files beyond `max_files` and unreadable entries are skipped
 * with a reason in `c`. Fails only when `path` itself cannot be read. */
typedef sp_status (*spd_visit_fn)(const char *file, void *ctx);
sp_status spd_walk(const char *path, const sp_dicom_scan_options *options,
                   spd_collect *c, spd_visit_fn visit, void *ctx,
                   sp_error *err);

/* Why a file is not usable: a status and the reason without the path. */
typedef struct spd_skip {
    sp_status code;
    char text[400];
} spd_skip;

/* Read one file's header into records (one per frame) or a skip entry. */
sp_status spd_read_header(const char *file, spd_collect *c);

/* How a header is read: from the values the pre-scan's walk caught when
 * the file is plain enough for them (explicit VR little endian, one
 * classic frame, every value unambiguous; dicom_header.cc), else by
 * DCMTK; or by DCMTK always. Both give the same records and skips (tests/
 * dicom/test_dicom_scanned.c). spd_read_header is SPD_HEADER_ANY.
 * `scanned` (may be NULL): 1 when the walk's values made the record (or
 * the skip of a plain DICOMDIR). */
typedef enum { SPD_HEADER_ANY, SPD_HEADER_DCMTK } spd_header_mode;
sp_status spd_read_header_mode(const char *file, spd_collect *c,
                               spd_header_mode mode, int *scanned);

/* Copy `src` into dst[size]: truncated, controls replaced by '?', trailing
 * spaces removed. */
void spd_copy_clean(char *dst, size_t size, const char *src);

/* Decode pixel data, file by file. An open file holds one decoded dataset;
 * frames are converted to float with the slice's rescale applied. `rows`
 * and `columns` are what the scan saw (the file must agree), or both 0 to
 * take the file's. */
typedef struct spd_pixels spd_pixels;
sp_status spd_pixels_open(const char *path, uint32_t rows, uint32_t columns,
                          spd_pixels **px, sp_error *err);
void spd_pixels_size(const spd_pixels *px, uint32_t *rows, uint32_t *columns,
                     uint32_t *frames);
sp_status spd_pixels_frame(spd_pixels *px, uint32_t frame, double slope,
                           double intercept, float *out, sp_error *err);
void spd_pixels_close(spd_pixels *px);

/* Stored samples (`bits` 8, 16 or 32, little endian in local order) ->
 * float: shift down by `shift`, keep `stored` bits, extend the sign when
 * `is_signed`, then value * slope + intercept in double. */
void spd_convert_samples(const uint8_t *src, size_t n, unsigned bits,
                         unsigned stored, unsigned shift, int is_signed,
                         double slope, double intercept, float *out);

/* Decode one slice by reading its samples straight from the file, when
 * the scan located them (pixel_bytes != 0) and the file still has the
 * size and modification time the scan saw. `buf` is scratch of
 * SPD_DIRECT_BUF bytes. Returns 1 when `out` was filled, 0 when the
 * caller must decode the file with DCMTK instead. */
#define SPD_DIRECT_BUF ((size_t)1 << 16)
int spd_direct_frame(const sp_dicom_series *series, const sp_dicom_slice *sl,
                     uint8_t *buf, float *out);

/* JPEG 2000 (and HTJ2K) codestream -> int32 samples of one component.
 * `out` holds rows*columns values; *is_signed and *precision report what
 * the codestream says. */
sp_status spd_j2k_decode(const uint8_t *data, size_t size, uint32_t rows,
                         uint32_t columns, int32_t *out, int *is_signed,
                         int *precision, sp_error *err);

int spd_initialised(void);

/* DCMTK's data dictionary, parsed on the first call (thread-safe); SP_CONFIG
 * when it cannot be loaded. Every path that hands a file to DCMTK calls it
 * first; sp_dicom_init only checks that the dictionary files are there. */
sp_status spd_dictionary_ready(sp_error *err);

/* Build DCMTK's SR context groups once (thread-safe); the SR writer calls
 * it, sp_dicom_cleanup frees them. In the on-demand module (dicom_cmr.cc):
 * it links DCMTK's cmr library. */
void spd_cmr_init(void);

/* A function sp_dicom_cleanup calls when the last user cleans up (one
 * slot: the SR context groups' cleanup). */
void spd_on_cleanup(void (*fn)(void));

#ifdef __cplusplus
}
#endif

#endif
