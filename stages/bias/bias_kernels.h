/* Kernels of the `bias` stage: MR coil-shading correction and intensity
 * normalisation, on F32 volumes.
 *
 * Shading is a slowly varying multiplicative field. Homomorphic correction
 * estimates it as the local mean of log(signal) over the foreground
 * (normalised Gaussian convolution, so the dark background and the edge
 * of the field of view do not pull it down) and divides it out. Vendor
 * scaling is removed by bringing the foreground median to a fixed value. */
#ifndef SPINEPIPE_BIAS_KERNELS_H
#define SPINEPIPE_BIAS_KERNELS_H

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

typedef struct bias_params {
    double sigma_mm;      /* field smoothness (Gaussian sigma) */
    double fg_fraction;   /* foreground: signal > fg_fraction * p99 */
    double target_median; /* foreground median after normalisation */
    int iterations;       /* correction passes (1..10) */
} bias_params;

/* sigma 25 mm, foreground 0.08 of p99, median 100, 3 passes. */
void bias_params_default(bias_params *p);

/* Foreground mask (U8, same grid): signal above fraction * p99, so air and
 * background noise are left out. Allocates mask. */
sp_status bias_foreground(const sp_volume *img, double fraction,
                          sp_volume *mask, sp_error *err);

/* Homomorphic correction: out = img / field, field = exp(local mean of
 * log img over the foreground - its global mean), so the foreground keeps
 * its overall level. Allocates out; `field` (may be NULL) receives the
 * field (F32). */
sp_status bias_correct(const sp_volume *img, const bias_params *p,
                       sp_volume *out, sp_volume *field, sp_error *err);

/* Scale img in place so the median over the mask's voxels becomes
 * `target`; *scale (may be NULL) receives the factor applied. */
sp_status bias_normalise(sp_volume *img, const sp_volume *mask, double target,
                         double *scale, sp_error *err);

#endif
