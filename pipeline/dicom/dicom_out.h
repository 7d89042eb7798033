/* DICOM result objects written from a series' pipeline outputs: Secondary
 * Capture of the annotated images, a TID 1500 Measurement Report (Enhanced
 * SR) of report.json, and a binary SEG of the label map. A C API over
 * DCMTK's dcmsr/cmr and dcmseg (docs/dicom-output.md).
 *
 * Every object goes into the study of the source series as a new series
 * with UIDs from sp_dicom_new_uid, and references the source instances.
 * Files are written under a temporary name and renamed. Header strings of
 * the source are copied as DICOM elements (never used as paths or formats).
 * Call sp_dicom_init first. */
#ifndef SPINEPIPE_DICOM_OUT_H
#define SPINEPIPE_DICOM_OUT_H

#include <stddef.h>

#include "spinepipe/dicom.h"
#include "spinepipe/error.h"
#include "spinepipe/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new UID "2.25.<decimal of a random 128-bit UUID>" (ISO/IEC 9834-8),
 * so no registered root is needed. */
void sp_dicom_new_uid(char out[65]);

/* The series numbers of the objects we create. */
enum { SP_DICOM_SC_SERIES = 990, SP_DICOM_SR_SERIES = 991,
       SP_DICOM_SEG_SERIES = 992 };

/* One finding of a level (report.json levels[].findings[]). */
typedef struct sp_sr_finding {
    const char *code;       /* e.g. "canal_ap_stenosis" */
    const char *severity;   /* normal, relative, absolute, mild, moderate,
                               severe */
    double value;           /* NAN when absent */
    double threshold;       /* NAN when absent */
    const char *source;     /* may be NULL */
} sp_sr_finding;

/* A key image written as Secondary Capture, in the plane a level was
 * measured in (docs/report-json.md, canal_plane): the SR places that
 * level's coordinates on it. Pixel (column, row) of an LPS point p, with
 * (0, 0) the top left corner of the top left pixel:
 * offset + ((p - origin) . right, (p - origin) . down) / pixel_mm + 0.5. */
typedef struct sp_sr_plane_image {
    char sop_class[65], sop_uid[65], series_uid[65];
    double origin[3];       /* LPS centre of the image area's first pixel */
    double right[3], down[3];
    double pixel_mm;
    double offset[2];       /* the image area's corner in the picture */
} sp_sr_plane_image;

/* One disc level; values are NAN when not measured. */
typedef struct sp_sr_level {
    const char *level;      /* "L4-L5" */
    double canal_ap_mm;
    double canal_area_mm2;
    double disc_height_mm;
    double posterior_displacement_mm;
    const sp_sr_finding *findings;
    size_t n_findings;
    int has_caliper;        /* canal_ap_endpoints_mm given */
    double caliper_mm[2][3]; /* ends of the canal AP caliper, LPS mm */
    const sp_sr_plane_image *key_image; /* the level's, or NULL */
    const double (*outline_mm)[3]; /* canal_outline_mm, n_outline points */
    size_t n_outline;
    int has_displacement;   /* displacement_caliper_mm given */
    double displacement_mm[2][3];
} sp_sr_level;

typedef struct sp_sr_content {
    const sp_sr_level *levels;
    size_t n_levels;
    const char *const *warnings;
    size_t n_warnings;
    const char *not_analysable; /* NULL unless nothing was measured */
} sp_sr_content;

/* Write the measurement report of `src` (whose instances are read for the
 * image library and evidence) to out_path. A level with a key image gets
 * its canal AP caliper, canal outline (closed) and displacement caliper
 * as POLYLINEs on it, the plane they were measured in; without one the
 * caliper goes on the source slice it lies in (within half a slice
 * spacing), or is left out. Key images referenced are listed as other
 * evidence. */
sp_status sp_dicom_write_sr(const sp_dicom_series *src,
                            const sp_sr_content *content,
                            const char *series_uid, const char *out_path,
                            sp_error *err);

/* Write a binary SEG of `labels` (U16, any grid; sampled by nearest
 * neighbour at the centre of every source pixel) with one segment per
 * label value present (CONTRACTS.md values, docs/labels.md names) and one
 * frame per segment and source slice that holds it. *n_frames and
 * *n_segments get the counts. A label map without any known label gives
 * SP_NOINPUT and writes nothing. */
sp_status sp_dicom_write_seg(const sp_dicom_series *src,
                             const sp_volume *labels, const char *series_uid,
                             const char *out_path, size_t *n_segments,
                             size_t *n_frames, sp_error *err);

/* Write one Secondary Capture instance (8-bit, 1 or 3 samples) into the
 * study of `source_file`, in series `series_uid`, referencing the source
 * series; its SOP Instance UID is `sop_uid`, or a new one when NULL. */
sp_status sp_dicom_write_sc(const char *source_file, const char *series_uid,
                            const char *sop_uid, int number,
                            const unsigned char *pixels, unsigned width,
                            unsigned height, int samples,
                            const char *description, const char *out_path,
                            sp_error *err);

/* What sp_dicom_outputs_write wrote. */
typedef struct sp_dicom_outputs {
    size_t n_sc;
    int sr;          /* 1 when sr.dcm was written */
    int seg;         /* 1 when seg.dcm was written */
    size_t n_seg_frames;
} sp_dicom_outputs;

/* From a series output folder (report.json, *.png, segmentation.nii.gz)
 * write into dicom_dir (created): sc-NNNN.dcm for every PNG, sr.dcm when
 * report.json exists, seg.dcm when `with_seg` and segmentation.nii.gz
 * exists and holds labels. */
sp_status sp_dicom_outputs_write(const sp_dicom_series *src,
                                 const char *series_dir,
                                 const char *dicom_dir, int with_seg,
                                 sp_dicom_outputs *out, sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
