/* Denoising kernels of the `denoise` stage, on F32 volumes.
 *
 * Each kernel reads `src` and writes `dst` (same grid, distinct buffers) for
 * the slices k in [k_begin, k_end) only (denoise_gaussian_k: rows j), so
 * the stage can hand disjoint ranges to threads; every output voxel
 * depends on `src` alone, which makes the result identical for any thread
 * count. Edges replicate the border voxel. */
#ifndef SPINEPIPE_DENOISE_KERNELS_H
#define SPINEPIPE_DENOISE_KERNELS_H

#include <stddef.h>

#include "spinepipe/volume.h"

/* Index x clamped into [0, n): edges replicate the border voxel. */
static inline size_t denoise_clamp_index(ptrdiff_t x, size_t n)
{
    if (x < 0)
        return 0;
    if ((size_t)x >= n)
        return n - 1;
    return (size_t)x;
}

/* Median over a (2r+1)^2 square in-plane (`in_plane` nonzero) or a
 * (2r+1)^3 cube. radius 1..3. */
void denoise_median(const sp_volume *src, sp_volume *dst, int radius,
                    int in_plane, size_t k_begin, size_t k_end);

/* The in-plane 3x3 median (radius 1) of slices [k_begin, k_end) written
 * over its own input: the same values as denoise_median into a second
 * volume. Returns 0, vol untouched, when its row buffers cannot be had. */
int denoise_median3x3_in_place(sp_volume *vol, size_t k_begin,
                               size_t k_end);

/* A normalised sampled Gaussian: taps[0..2*radius], radius =
 * ceil(3 * sigma_vox). Returns the radius; taps must hold 2*radius+1
 * values (radius is at most DENOISE_GAUSS_MAX_RADIUS). sigma_vox <= 0 gives
 * the identity kernel (radius 0). */
#define DENOISE_GAUSS_MAX_RADIUS 64
int denoise_gaussian_taps(double sigma_vox, float *taps);

/* Separable Gaussian, in two calls that need no second volume:
 * denoise_gaussian_plane smooths slices k in [k_begin, k_end) of src along
 * i then j into dst; denoise_gaussian_k then smooths dst along k in place,
 * for the rows j in [j_begin, j_end) (every k of them), so threads split
 * it by j. Each term is added in tap order in double precision, so cutting
 * the ranges differently gives the same bits. src and dst may be the same
 * volume: a slice is read whole into the slice buffer before it is
 * written. Both return 0 when out of
 * memory for their slice or row buffer (dst is then incomplete). */
int denoise_gaussian_plane(const sp_volume *src, sp_volume *dst,
                           const float *taps_i, int radius_i,
                           const float *taps_j, int radius_j, size_t k_begin,
                           size_t k_end);
int denoise_gaussian_k(sp_volume *vol, const float *taps, int radius,
                       size_t j_begin, size_t j_end);

/* One explicit step of gradient anisotropic diffusion (Perona-Malik with
 * the exponential conductance exp(-(|grad|/K)^2)), gradients in mm so
 * anisotropic voxels diffuse equally in space. time_step is in mm^2 and
 * must stay below min(spacing)^2 / 2^(dims+1) for stability (the stage
 * checks). `in_plane` limits it to i and j. */
void denoise_diffusion_step(const sp_volume *src, sp_volume *dst,
                            double conductance, double time_step,
                            int in_plane, size_t k_begin, size_t k_end);

/* Non-local means over slices k in [k_begin, k_end): patches of
 * (2*patch_radius+1)^2 (x that in k unless in_plane), candidates in a
 * (2*search_radius+1)^2 (x that in k unless in_plane) window, weights
 * exp(-d2 / h^2) with d2 the mean squared patch difference, the centre
 * weighted like its best neighbour. Returns 0 when out of memory for its
 * slice buffers (dst is then incomplete). */
int denoise_nlm(const sp_volume *src, sp_volume *dst, int patch_radius,
                int search_radius, double h, int in_plane, size_t k_begin,
                size_t k_end);

/* Noise SD estimated from the median absolute deviation of differences
 * between neighbours along i (about DENOISE_NOISE_SAMPLES pairs, taken at
 * a fixed stride; pairs with an exact 0, e.g. zero-filled background, are
 * left out). 0 when too few pairs, -1 when out of memory. */
#define DENOISE_NOISE_SAMPLES 1000000
double denoise_noise_sd(const sp_volume *vol);

#endif
