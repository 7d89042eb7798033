/* Kernels of the MR spine analysis on sagittal T2 (stage `mr-canal` and
 * the MR levels/measure steps that follow it).
 *
 * Every kernel works on the canonical layout of analysis_reorient (i left
 * to right, j anterior to posterior, k feet to head), on an image that went
 * through the bias kernels (shading removed, foreground median 100). */
#ifndef SPINEPIPE_MRCANAL_KERNELS_H
#define SPINEPIPE_MRCANAL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

typedef struct mrcanal_params {
    double slab_mm;       /* half-thickness of the mid-sagittal slab */
    double band_mm;       /* AP width averaged when tracing the column */
    double air_gap_mm;    /* the back's skin is at least this far behind */
    double skin_max_mm;   /* and at most this far (when in the picture) */
    double threshold;     /* CSF cut: tissue + threshold * (CSF - tissue) */
    double axial_threshold; /* the cut for axial series (set threshold
                               to it for them) */
    double radius_mm;     /* canal voxels lie this close to the path */
    double min_contrast;  /* CSF at least this many times the tissue */
    double rim;           /* wall voxels above rim * tissue join */
    double ridge_mm;      /* walls sampled this far in front and behind */
    double posterior_weight; /* brightness weighed by 1 - w + 2w * j/ny */
} mrcanal_params;

/* See mrcanal_segment.c for the values. */
void mrcanal_params_default(mrcanal_params *p);

typedef struct mrcanal_info {
    double csf_level;   /* median signal along the traced CSF column */
    double tissue_level;/* foreground median */
    size_t mid_i;       /* mid-sagittal slice (canal centre) */
    double *path_j;     /* per plane k: AP position (voxels) of the
                           column centre at mid_i; malloc'd, dim[2] */
    size_t voxels;
} mrcanal_info;

void mrcanal_info_free(mrcanal_info *info);

/* The spinal canal (dural sac: CSF and what it surrounds, cord and
 * roots) as a U8 mask. The CSF column is traced head to feet in the
 * mid-sagittal slab as the brightest continuous vertical band (dynamic
 * programming) that has no air close behind it (the subcutaneous fat
 * does); each axial plane then grows from the column over CSF-bright
 * signal within radius_mm and is filled between its walls. Allocates
 * canal. SP_NOTANALYSABLE when the column is not brighter than tissue. */
sp_status mrcanal_segment(const sp_volume *t2, const mrcanal_params *p,
                          sp_volume *canal, mrcanal_info *info,
                          sp_error *err);

/* Discs and vertebral bodies along the canal's anterior wall. */
#define MRSPINE_MAX_DISCS 32

typedef struct mrdisc {
    double k;            /* centre plane (voxels, may be fractional) */
    double height_mm;    /* head-feet extent of the disc signal */
    double signal;       /* mean disc signal in the mid-sagittal slab */
    int vert_above;      /* labels.h vertebra above it once labelled, else 0 */
} mrdisc;

typedef struct mrspine {
    size_t mid_i;
    double *wall_j;      /* per plane: canal's anterior wall (voxels, j) at
                            mid_i; -1 where there is no canal. malloc'd */
    double level_mm;     /* disc-to-disc spacing (autocorrelation) */
    int discs_bright;    /* discs whose nucleus is brighter than the
                            bodies (hydrated) */
    double body_signal;  /* median of the profile in front of the canal */
    double body_depth_mm;/* AP depth assumed for bodies and discs */
    size_t n_disc;       /* ordered by increasing k (feet to head) */
    mrdisc disc[MRSPINE_MAX_DISCS];
    int sacrum_below;    /* the column continues below the lowest disc
                            without another disc: sacrum */
    int cervical;        /* cervical series: CSF behind the cord belongs
                            to the sac (set by the caller; lumbar: what is
                            as bright behind the roots is taken for
                            epidural fat) */
} mrspine;

void mrspine_free(mrspine *s);

/* Find the discs: the signal profile 2-14 mm in front of the canal in
 * the mid-sagittal slab, band-passed; its period gives the level spacing,
 * and its dark dips (disc plus endplates) are the discs. */
sp_status mrdisc_find(const sp_volume *t2, const sp_volume *canal,
                      const mrcanal_info *ci, mrspine *s, sp_error *err);

/* Name the levels. `lowest` names the vertebra just above the lowest disc
 * ("L5", "C6"); NULL means "from the sacrum": needs sacrum_below, and the
 * lowest disc is then L5-S1. SP_NOTANALYSABLE when no anchor exists. */
sp_status mrdisc_label(mrspine *s, const char *lowest, sp_error *err);

/* Name the levels of a cervical sagittal series down from C2: C2 is the
 * tallest body at the top of the column (body and dens: more than 1.3
 * levels without a disc above the top disc), or the vertebra below a top
 * dip above which the column narrows to the dens (that dip, the dens's
 * base, is then dropped from the discs); the disc below it is C2-C3.
 * `note` says which. SP_NOTANALYSABLE ("uncertain") when neither is
 * seen. */
sp_status mrdisc_label_cervical(const sp_volume *t2, mrspine *s, char *note,
                                size_t note_size, sp_error *err);

/* Label map in the canonical layout: canal 201, discs 100 + vertebra
 * above, vertebral bodies their vertebra label (unlabelled discs and
 * bodies are left out). Discs fill their head-feet band in front of the
 * canal (one body depth deep); bodies are the largest part of the
 * non-dark signal between two discs. */
sp_status mrdisc_label_map(const sp_volume *t2, const sp_volume *canal,
                           const mrspine *s, sp_volume *labels,
                           sp_error *err);

/* Per disc level measurements (mid-sagittal). */
typedef struct mrlevel_measure {
    int vert_above;          /* labels.h vertebra above the disc */
    double canal_ap_mm;      /* dural sac AP diameter at the disc plane */
    double ap_i, ap_k;       /* where it was measured (voxels) */
    double ap_j0, ap_j1;     /* its front and back ends (voxels, edges) */
    double disc_height_mm;   /* head-feet extent of the disc signal dip */
    double dhi;              /* disc height index: disc height / mean of
                                the adjacent body heights; 0 when no body
                                is bounded by two discs */
    double disc_csf_ratio;   /* disc signal / CSF signal */
    int grade;               /* Pfirrmann-like 1..5 from that ratio:
                                approximate, see docs/accuracy.md */
    double displacement_mm;  /* CSF front wall at the disc behind the
                                line joining it at the adjacent body
                                middles, the most two neighbouring
                                sagittal slices share: posterior
                                displacement (> 0); 0 without t2 */
    double displacement_i;   /* between which slices (voxels) */
    double displacement_base_mm; /* left-right width displaced by at
                                least the tolerance; 0 below it */
    char displacement_position[32]; /* "central", "left paracentral",
                                "right paracentral"; "" below tolerance */
} mrlevel_measure;

/* One entry per disc of s (out holds s->n_disc entries). With the
 * normalised image t2 (may be NULL) the canal AP runs between the
 * sub-voxel walls (half way from CSF to wall signal) instead of across
 * whole mask voxels, and the displacement is measured (CSF front wall
 * half way from tissue to CSF, so disc material darker than CSF the mask
 * took in counts); tol_mm: displacement that counts for its width and
 * position. */
sp_status mr_measure(const sp_volume *canal, const sp_volume *t2,
                     const mrspine *s,
                     const mrcanal_info *ci, double k_spacing,
                     double j_spacing, double tol_mm, mrlevel_measure *out,
                     sp_error *err);

/* Paint into `labels` (canonical, U16, on the canal's grid) what the
 * canal AP takes in behind the canal mask (the cord or roots behind the
 * ventral CSF, and with dorsal_csf the CSF behind them; the rule of
 * mr_measure, in every sagittal column of the mask) as SP_LABEL_CORD
 * where labels is still 0, so the label map shows the sac as measured. */
sp_status mr_sac_behind(const sp_volume *canal, const sp_volume *t2,
                        const mrcanal_info *ci, int dorsal_csf,
                        sp_volume *labels, sp_error *err);

/* Per axial plane k of the canonical layout: canal cross-sectional area
 * (mm2, in the plane) and AP diameter (longest AP run, mm); 0 where the
 * plane holds no canal. For axial T2 series the planes are the slices.
 * With the normalised image t2 (may be NULL: whole mask voxels) the
 * voxels on the mask's edge, inside and out, count by their share of CSF
 * (signal between the local wall's and csf), as do the ends of the AP
 * run. area_mm2 and ap_mm hold dim[2] values each. */
sp_status mr_canal_sections(const sp_volume *canal, const sp_volume *t2,
                            double csf, double *area_mm2, double *ap_mm,
                            sp_error *err);

/* Planes along k that are not linear interpolations of their two
 * neighbours (residual from their mean below MR_INTERPOLATED_RESIDUAL
 * times the change across the plane, summed over the plane): acquired[k]
 * = 1 for acquired planes, 0 for interpolated ones; the end planes count
 * as acquired. A series resampled from 5 mm to 1 mm slices has one
 * acquired plane in five. */
#define MR_INTERPOLATED_RESIDUAL 0.05
sp_status mr_acquired_planes(const sp_volume *v, uint8_t *acquired,
                             size_t *n_acquired, sp_error *err);

#endif
