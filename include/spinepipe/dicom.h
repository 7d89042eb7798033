/* spinepipe — DICOM input and output, a C API over DCMTK.
 *
 * Lifecycle: call sp_dicom_init once before any other sp_dicom_* call and
 * sp_dicom_cleanup once at the end. They hold all of DCMTK's global state
 * (codec registration, dictionary check, log level); DCMTK never prints on
 * the user's terminal.
 *
 * Threading: after init, scanning and loading different series may run on
 * different threads; one sp_scan result is not to be mutated concurrently.
 *
 * Strings in headers are NUL-terminated, truncated to the VR's maximum
 * length, with control characters replaced by '?'. They are still hostile
 * input: never use them as a path or a format string without sanitising.
 */
#ifndef SPINEPIPE_DICOM_H
#define SPINEPIPE_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

sp_status sp_dicom_init(sp_error *err);
void sp_dicom_cleanup(void);

/* Header fields that later stages and reports need. */
typedef struct sp_dicom_header {
    char modality[17];            /* "CT", "MR", ... */
    char sop_class_uid[65];
    char patient_id[65];
    char patient_name[193];
    char study_uid[65];
    char study_id[17];
    char study_date[9];           /* YYYYMMDD or empty */
    char study_description[65];
    char series_uid[65];
    char series_description[65];
    int series_number;            /* 0 when absent */
    char frame_of_reference_uid[65];
    char body_part[17];
    char manufacturer[65];
    char manufacturer_model[65];
    char protocol_name[65];
    char sequence_name[65];       /* MR: ScanningSequence/SequenceName */
    double echo_time_ms;          /* MR; 0 when absent */
    double repetition_time_ms;    /* MR; 0 when absent */
    double window_center;         /* first VOI window from the header */
    double window_width;          /* 0 when the header has none */
    int has_window;
} sp_dicom_header;

/* One 2D slice of a series volume: a file, or one frame of a multi-frame
 * file, with its own position and rescale. */
typedef struct sp_dicom_slice {
    char *path;
    uint32_t frame;               /* 0 for single-frame files */
    double position[3];           /* ImagePositionPatient, LPS mm */
    double along_normal;          /* position . slice normal, mm */
    double rescale_slope;
    double rescale_intercept;
    /* Appended after ABI 1.2 (docs/writing-a-stage.md): where the scan
     * found this frame's uncompressed little-endian samples, so the loader
     * reads them without parsing the file again. pixel_bytes 0 means not
     * known (compressed, big endian, unusual structure, or a slice made by
     * other code): the loader then decodes the file with DCMTK, as it also
     * does when the file's size or modification time is no longer what
     * the scan saw. */
    uint64_t pixel_offset;        /* byte offset of the frame in the file */
    uint64_t pixel_bytes;         /* rows * columns * bits_allocated / 8 */
    uint64_t file_size;           /* at the scan */
    int64_t file_mtime_ns;        /* at the scan, ns since the epoch */
    uint16_t bits_stored;
    uint16_t high_bit;
    uint16_t pixel_signed;        /* PixelRepresentation 1 */
} sp_dicom_slice;

/* One image volume: slices of one series that share orientation, matrix
 * size and acquisition, sorted by position along the slice normal
 * (reversed when every instance number runs against the normal, so a
 * series written from a volume loads on that volume's grid; see
 * docs/dicom-input.md). */
typedef struct sp_dicom_series {
    sp_dicom_header header;
    int part;                     /* 0, or 1.. when one SeriesInstanceUID had
                                     to be split into several volumes */
    uint32_t rows, columns;
    uint16_t bits_allocated;
    uint16_t samples_per_pixel;
    double pixel_spacing[2];      /* row spacing, column spacing (mm) */
    double orientation[6];        /* ImageOrientationPatient row, col */
    double slice_normal[3];       /* row x column */
    double slice_spacing;         /* median distance between slices, mm */
    double gantry_tilt_deg;       /* angle between stack direction and
                                     normal; 0 for an orthogonal stack */
    size_t n_slices;
    sp_dicom_slice *slices;
    size_t n_transfer_syntaxes;
    char **transfer_syntaxes;     /* UIDs of the syntaxes seen */
    size_t n_warnings;
    char **warnings;              /* duplicates, gaps, uneven spacing, ... */
} sp_dicom_series;

/* A file that was not used, and why (one line). */
typedef struct sp_dicom_skipped {
    char *path;
    sp_status code;
    char *reason;
} sp_dicom_skipped;

typedef struct sp_dicom_scan {
    size_t n_series;
    sp_dicom_series *series;      /* ordered by study, series number, part */
    size_t n_skipped;
    sp_dicom_skipped *skipped;
} sp_dicom_scan;

/* Options for scanning; a zeroed struct means defaults. */
typedef struct sp_dicom_scan_options {
    size_t max_files;             /* 0: default limit (see docs) */
    int follow_symlinks;          /* symlink loops are detected either way */
} sp_dicom_scan_options;

/* Scan `path` (a folder, recursively, or one file). Reads headers only.
 * Returns SP_OK even when some files were skipped (see scan->skipped);
 * fails only when the path itself cannot be read. */
sp_status sp_dicom_scan_path(const char *path,
                             const sp_dicom_scan_options *options,
                             sp_dicom_scan **scan, sp_error *err);
void sp_dicom_scan_free(sp_dicom_scan *scan);

/* Options for loading; a zeroed struct means defaults. */
typedef struct sp_dicom_load_options {
    size_t max_bytes;             /* refuse volumes larger than this;
                                     0: default budget (see docs) */
} sp_dicom_load_options;

/* Decode every slice of the series into a float32 volume in patient space:
 * rescale slope/intercept applied in double (CT in HU), geometry from
 * ImagePositionPatient of the first slice, the orientation and the slice
 * spacing. */
sp_status sp_dicom_load_series(const sp_dicom_series *series,
                               const sp_dicom_load_options *options,
                               sp_volume *vol, sp_error *err);

/* Human name for a transfer syntax UID ("JPEG 2000 lossless", ...). */
const char *sp_dicom_transfer_syntax_name(const char *uid);

/* Write a volume as a single-frame series, one file per slice (k), explicit
 * VR little endian, 16-bit signed with rescale slope/intercept chosen to
 * hold the value range; used by the phantom generator and DICOM outputs.
 * Files are named IMG00001.dcm ... in `dir`, which is created. UIDs in
 * `header` that are empty are generated. */
sp_status sp_dicom_write_series(const sp_volume *vol,
                                const sp_dicom_header *header,
                                const char *dir, sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
