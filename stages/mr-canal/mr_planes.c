/* Which planes of a series were acquired and which are linear
 * interpolations of their neighbours (a series resampled to thinner
 * slices than it was scanned with). */
#include "mrcanal_kernels.h"

#include <math.h>

sp_status mr_acquired_planes(const sp_volume *v, uint8_t *acquired,
                             size_t *n_acquired, sp_error *err)
{
    const float *im = sp_volume_f32(v);
    if (!im)
        return sp_error_set(err, SP_INTERNAL,
                            "mr planes: the image is not float32");
    size_t nxy = v->dim[0] * v->dim[1], nz = v->dim[2];
    *n_acquired = 0;
    for (size_t k = 0; k < nz; k++) {
        /* the end planes have no neighbour on one side: taken as
         * acquired */
        int acq = 1;
        if (k > 0 && k + 1 < nz) {
            const float *a = im + (k - 1) * nxy, *b = im + k * nxy,
                        *c = im + (k + 1) * nxy;
            double res = 0, step = 0;
            for (size_t t = 0; t < nxy; t++) {
                res += fabs((double)b[t] - 0.5 * ((double)a[t] + c[t]));
                step += fabs((double)c[t] - (double)a[t]);
            }
            /* an interpolated plane is the mean of its neighbours up to
             * rounding (and a smooth shading field): its residual is a
             * few percent of the change across it; an acquired plane's
             * noise and anatomy make it comparable */
            acq = !(step > 0 && res < MR_INTERPOLATED_RESIDUAL * step);
        }
        acquired[k] = (uint8_t)acq;
        *n_acquired += (size_t)acq;
    }
    return SP_OK;
}
