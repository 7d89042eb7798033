/* The phantom's anatomy in "spine coordinates": s is arc length along the
 * centre line (through the vertebral body centres, mm, head positive),
 * u is patient left (mm, = LPS x) and v the offset in the sagittal plane
 * perpendicular to the centre line (mm, posterior positive). Every
 * structure is defined in (u, v, s), so cross-sections perpendicular to the
 * centre line are exact ellipses and the truth can be analytic. */
#ifndef SPINEPIPE_PHANTOM_ANATOMY_H
#define SPINEPIPE_PHANTOM_ANATOMY_H

#include <stddef.h>
#include <stdint.h>

#include "phantom/phantom.h"

/* Tissue classes; values per modality in ph_tissue_value. */
typedef enum ph_tissue {
    PH_AIR,
    PH_FAT,
    PH_MUSCLE,
    PH_SOFT,
    PH_LIGAMENT,
    PH_CORTEX,
    PH_CANCELLOUS,
    PH_ARCH,
    PH_ANNULUS,
    PH_NUCLEUS,
    PH_HERNIATION,
    PH_CSF,
    PH_CORD,
    PH_TISSUE_COUNT
} ph_tissue;

typedef struct ph_vertebra {
    double s_lo, s_hi;  /* inferior and superior endplates */
    double a, b;        /* body semi-axes: L-R, A-P */
} ph_vertebra;

typedef struct ph_disc {
    double s_lo, s_hi;
    double a, b;
    double canal_ap;
    double herniation;  /* posterior displacement, mm (0: none) */
    double herniation_u;/* lateral centre of the herniation, mm */
} ph_disc;

/* Arc length is tabulated over |t| <= PH_ARC_RANGE mm in PH_ARC_STEP steps
 * (linear interpolation error below 1e-6 mm); the closed form is used
 * outside. */
#define PH_ARC_RANGE 400.0
#define PH_ARC_STEP 0.1
#define PH_ARC_N 8001

typedef struct ph_model {
    double alpha;       /* centre line y = alpha * t^2 (t = LPS z) */
    double arc[PH_ARC_N];
    double cortex;      /* cortical shell thickness */
    double canal_half_width;
    double canal_ap_default;
    double arch_thickness;
    double s_conus;     /* cord tip; -inf without a cord */
    ph_vertebra vert[SP_PHANTOM_VERTEBRAE]; /* 0 = T12 (top) .. 6 = S1 */
    ph_disc disc[SP_PHANTOM_LEVELS];        /* 0 = T12-L1 .. 5 = L5-S1 */
} ph_model;

/* Lateral half-width and half-height of a herniation. */
#define PH_HERNIATION_HALF_WIDTH 7.0
#define PH_HERNIATION_HALF_HEIGHT_FRACTION 0.4
#define PH_HERNIATION_PARACENTRAL_U 8.0

void ph_model_build(const sp_phantom_params *p, ph_model *m);

/* LPS point <-> spine coordinates. */
void ph_to_spine(const ph_model *m, const double p[3], double *u, double *v,
                 double *s);
void ph_from_spine(const ph_model *m, double u, double v, double s,
                   double p[3]);
/* Curvature of the centre line at arc length s (1/mm, towards +v). */
double ph_curvature(const ph_model *m, double s);

/* Canal: anterior wall (v) and AP diameter at s. */
double ph_canal_front(const ph_model *m, double s);
double ph_canal_ap(const ph_model *m, double s);
/* Whether (u, v) at the mid-height of disc l lies in its herniation. */
int ph_in_herniation(const ph_model *m, int l, double u, double v, double s);

/* Material at a point: tissue in the low 4 bits, owner (vertebra or disc
 * index) above. */
uint16_t ph_classify(const ph_model *m, const double p[3]);
/* The same for n points p0 + i * (dx, 0, 0): one projection serves the
 * whole row, since v and s do not depend on x. */
void ph_classify_row(const ph_model *m, const double p0[3], double dx,
                     size_t n, uint16_t *out);

static inline ph_tissue ph_code_tissue(uint16_t code)
{
    return (ph_tissue)(code & 15);
}
int ph_code_label(uint16_t code);
double ph_tissue_value(ph_tissue t, sp_phantom_modality modality);
const char *ph_tissue_name(ph_tissue t);

#endif
