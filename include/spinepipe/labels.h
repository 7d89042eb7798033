/* spinepipe — label values and level names shared by every part
 * (segmentation.nii.gz, DICOM SEG, report.json). See docs/labels.md and
 * ../shared/CONTRACTS.md; change them only with a version bump. */
#ifndef SPINEPIPE_LABELS_H
#define SPINEPIPE_LABELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SP_LABEL_BACKGROUND = 0,
    SP_LABEL_C1 = 1,       /* C1..C7 = 1..7 */
    SP_LABEL_T1 = 8,       /* T1..T12 = 8..19 */
    SP_LABEL_L1 = 20,      /* L1..L5 = 20..24 */
    SP_LABEL_L6 = 25,      /* transitional */
    SP_LABEL_SACRUM = 26,  /* sacrum / S1 */
    SP_LABEL_VERTEBRA_MAX = 26,
    SP_LABEL_DISC_BASE = 100, /* disc below vertebra v = 100 + v */
    SP_LABEL_CANAL = 201,
    SP_LABEL_CORD = 202
};

/* Vertebra label for a name like "L4", "T12", "S1", "C2"; 0 when the name
 * is not a vertebra. "S1" and "sacrum" both give SP_LABEL_SACRUM. */
int sp_label_vertebra_from_name(const char *name);

/* Name of a vertebra label ("L4"; "S1" for the sacrum); NULL when `label`
 * is not a vertebra. */
const char *sp_label_vertebra_name(int label);

/* Label of the disc below vertebra label v, or 0 when there is none
 * (v is not a vertebra, or v is the sacrum). */
int sp_label_disc_below(int vertebra_label);

/* Disc level name for the disc below vertebra v, upper first: "L4-L5",
 * "L5-S1", "T12-L1", "C7-T1". Writes into buf (>= 16 bytes is enough) and
 * returns buf, or NULL when v has no disc below it. The vertebra below L5
 * is S1 unless `has_l6` is nonzero, in which case L5-L6 and L6-S1. */
const char *sp_label_disc_level_name(int vertebra_label, int has_l6,
                                     char *buf, size_t size);

/* Human name for any label value ("L4", "L4-L5 disc", "spinal canal");
 * NULL for values that are not defined. */
const char *sp_label_describe(int label, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
