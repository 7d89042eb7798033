/* Counter-based random numbers for the phantom: every voxel draws from a
 * hash of (seed, voxel index), so the noise does not depend on the order
 * in which threads visit the voxels. splitmix64 is the mixer. */
#ifndef SPINEPIPE_PHANTOM_RNG_H
#define SPINEPIPE_PHANTOM_RNG_H

#include <math.h>
#include <stdint.h>

static inline uint64_t ph_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Uniform in (0, 1), never 0, from the top 53 bits. */
static inline double ph_uniform(uint64_t bits)
{
    return ((double)(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Two independent standard normal deviates for stream `counter`
 * (Box-Muller). */
static inline void ph_gauss2(uint64_t seed, uint64_t counter, double out[2])
{
    uint64_t a = ph_splitmix64(seed ^ ph_splitmix64(counter));
    uint64_t b = ph_splitmix64(a);
    double r = sqrt(-2.0 * log(ph_uniform(a)));
    double t = 6.283185307179586 * ph_uniform(b);
    out[0] = r * cos(t);
    out[1] = r * sin(t);
}

#endif
