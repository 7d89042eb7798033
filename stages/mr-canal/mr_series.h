/* Which MR series the spine analysis can use, judged from the header
 * alone: T2-weighted sagittal (the main analysis) or axial (canal area per
 * slice); everything else is reported as not analysable, with the reason. */
#ifndef SPINEPIPE_MR_SERIES_H
#define SPINEPIPE_MR_SERIES_H

#include <stddef.h>

#include "spinepipe/dicom.h"
#include "spinepipe/volume.h"

typedef enum mr_series_kind {
    MR_SERIES_NOT_ANALYSABLE = 0,
    MR_SERIES_T2_SAGITTAL,
    MR_SERIES_T2_AXIAL
} mr_series_kind;

/* Classify from the header, the slice plane and the slice count (what a
 * stage sees in its context, so this needs no DICOM reader); `why` (size
 * bytes) receives one sentence for the report: the weighting and plane
 * found, or why the series is not analysable (not MR, localiser, T1,
 * STIR/FLAIR or other inversion recovery, proton density, weighting
 * unknown, coronal/oblique plane). */
mr_series_kind mr_series_classify(const sp_dicom_header *h,
                                  sp_orientation plane, size_t n_slices,
                                  char *why, size_t size);

#endif
