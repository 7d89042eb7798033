/* sp_dicom_load_series: decode every slice into one float32 volume in
 * patient space, within a memory budget checked before allocating. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dicom_internal.h"

/* Most of the load time of a large series is the kernel handing out fresh
 * pages one fault at a time (slow under virtualisation). sp_volume_alloc
 * already asked for huge pages; fault the buffer in with one call. A hint:
 * failure only means the pages fault in later. */
static void prepare_pages(void *data, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0) {
        uintptr_t mask = (uintptr_t)page - 1;
        uintptr_t first = ((uintptr_t)data + mask) & ~mask;
        uintptr_t last = ((uintptr_t)data + bytes) & ~mask;
        if (last > first)
            madvise((void *)first, last - first, MADV_POPULATE_WRITE);
    }
#endif
    (void)data;
    (void)bytes;
}

static void series_geometry(const sp_dicom_series *s, double m[4][4])
{
    const double *row = s->orientation, *col = s->orientation + 3;
    size_t n = s->n_slices;
    double step[3];
    if (n > 1) {
        const double *p0 = s->slices[0].position;
        const double *p1 = s->slices[n - 1].position;
        for (int r = 0; r < 3; r++)
            step[r] = (p1[r] - p0[r]) / (double)(n - 1);
    } else {
        double dz = s->slice_spacing > 0 ? s->slice_spacing : 1.0;
        for (int r = 0; r < 3; r++)
            step[r] = s->slice_normal[r] * dz;
    }
    memset(m, 0, 16 * sizeof m[0][0]);
    for (int r = 0; r < 3; r++) {
        m[r][0] = row[r] * s->pixel_spacing[1];
        m[r][1] = col[r] * s->pixel_spacing[0];
        m[r][2] = step[r];
        m[r][3] = s->slices[0].position[r];
    }
    m[3][3] = 1.0;
}

sp_status sp_dicom_load_series(const sp_dicom_series *series,
                               const sp_dicom_load_options *options,
                               sp_volume *vol, sp_error *err)
{
    memset(vol, 0, sizeof *vol);
    if (!spd_initialised())
        return sp_error_set(err, SP_INTERNAL,
                            "sp_dicom_init was not called before loading");
    if (!series || series->n_slices == 0 || !series->slices)
        return sp_error_set(err, SP_NOTIMAGE, "the series has no slices");
    const char *first = series->slices[0].path;
    if (series->samples_per_pixel != 1)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "%s: colour images are not loaded as volumes",
                            first);
    size_t budget = options && options->max_bytes ? options->max_bytes
                                                  : SPD_DEFAULT_MAX_BYTES;
    size_t plane, bytes;
    if (__builtin_mul_overflow((size_t)series->rows, (size_t)series->columns,
                               &plane) ||
        __builtin_mul_overflow(plane, series->n_slices, &bytes) ||
        __builtin_mul_overflow(bytes, sizeof(float), &bytes) ||
        bytes > budget)
        return sp_error_set(err, SP_LIMIT,
                            "%s: series of %zu slices of %ux%u needs more "
                            "than the memory budget of %zu bytes",
                            first, series->n_slices, (unsigned)series->columns,
                            (unsigned)series->rows, budget);
    sp_status st = sp_volume_alloc(vol, SP_VOXEL_F32, series->columns,
                                   series->rows, series->n_slices, err);
    if (st != SP_OK)
        return st;
    float *data = sp_volume_f32(vol);
    prepare_pages(data, bytes);
    spd_pixels *px = NULL;
    const char *open_path = NULL;
    for (size_t k = 0; k < series->n_slices && st == SP_OK; k++) {
        const sp_dicom_slice *sl = &series->slices[k];
        if (!open_path || strcmp(open_path, sl->path) != 0) {
            spd_pixels_close(px);
            px = NULL;
            open_path = NULL;
            st = spd_pixels_open(sl->path, series->rows, series->columns, &px,
                                 err);
            if (st != SP_OK)
                break;
            open_path = sl->path;
        }
        st = spd_pixels_frame(px, sl->frame, sl->rescale_slope,
                              sl->rescale_intercept, data + k * plane, err);
    }
    spd_pixels_close(px);
    if (st != SP_OK) {
        sp_volume_free(vol);
        return st;
    }
    double m[4][4];
    series_geometry(series, m);
    sp_volume_set_geometry(vol, m);
    return SP_OK;
}
