/* sp_dicom_load_series: decode every slice into one float32 volume in
 * patient space, within a memory budget checked before allocating. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spinepipe/parallel.h"

#include "dicom_internal.h"
#include "engine/page_fill.h"
#include "engine/volume_pool.h"

/* SPINEPIPE_MAX_MEMORY (bytes, or with a K, M or G suffix) when it is set
 * and valid, else SPD_DEFAULT_MAX_BYTES. Read on every load, so the CLI,
 * the listener's jobs and batch runs share one setting. */
static size_t default_budget(void)
{
    const char *env = getenv("SPINEPIPE_MAX_MEMORY");
    if (!env || !*env)
        return SPD_DEFAULT_MAX_BYTES;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(env, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (errno || end == env || *end || env[0] == '-' || v == 0 ||
        v > (SIZE_MAX >> shift))
        return SPD_DEFAULT_MAX_BYTES;
    return (size_t)v << shift;
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

/* Slices are decoded on the host's threads in contiguous chunks, each with
 * its own open file and error; every slice is written by one chunk. */
typedef struct load_chunk {
    sp_status status;
    sp_error err;
} load_chunk;

typedef struct load_job {
    const sp_dicom_series *series;
    float *data;
    size_t plane;
    load_chunk *chunks;
    size_t n_chunks;
} load_job;

static void load_chunk_run(const load_job *job, size_t c)
{
    const sp_dicom_series *series = job->series;
    size_t n = series->n_slices;
    size_t begin = n * c / job->n_chunks, end = n * (c + 1) / job->n_chunks;
    load_chunk *me = &job->chunks[c];
    spd_pixels *px = NULL;
    const char *open_path = NULL;
    sp_status st = SP_OK;
    uint8_t *buf = malloc(SPD_DIRECT_BUF);
    /* Most of the load time of a large series is the kernel handing out
     * fresh pages. Each chunk faults in its own slices just before
     * decoding them (a 2 MiB block at a time), so that the zeroing runs on
     * every decode thread and the zeroed lines are still in cache when the
     * decode writes them, on the page size that costs less (page_fill.h). */
    sp_page_fill fill;
    sp_page_fill_init(&fill, job->data + begin * job->plane,
                      job->data + end * job->plane);
    for (size_t k = begin; k < end && st == SP_OK; k++) {
        const sp_dicom_slice *sl = &series->slices[k];
        sp_page_fill_upto(&fill, job->data + (k + 1) * job->plane);
        if (buf && spd_direct_frame(series, sl, buf, job->data + k * job->plane))
            continue;
        if (!open_path || strcmp(open_path, sl->path) != 0) {
            spd_pixels_close(px);
            px = NULL;
            open_path = NULL;
            st = spd_pixels_open(sl->path, series->rows, series->columns, &px,
                                 &me->err);
            if (st != SP_OK)
                break;
            open_path = sl->path;
        }
        st = spd_pixels_frame(px, sl->frame, sl->rescale_slope,
                              sl->rescale_intercept, job->data + k * job->plane,
                              &me->err);
    }
    spd_pixels_close(px);
    free(buf);
    me->status = st;
}

static void load_range(void *arg, size_t begin, size_t end)
{
    for (size_t c = begin; c < end; c++)
        load_chunk_run(arg, c);
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
                                                  : default_budget();
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
    /* Every voxel is written below (or the volume freed). */
    sp_status st = sp_pool_volume_alloc(vol, SP_VOXEL_F32, series->columns,
                                        series->rows, series->n_slices, 0,
                                        err);
    if (st != SP_OK)
        return st;
    float *data = sp_volume_f32(vol);
    load_job job = {series, data, plane, NULL, 0};
    size_t threads = (size_t)sp_parallel_threads();
    /* A multi-frame file is decoded whole by each chunk that opens it. */
    if (threads > series->n_slices)
        threads = series->n_slices;
    if (strcmp(first, series->slices[series->n_slices - 1].path) == 0)
        threads = 1;
    job.chunks = calloc(threads, sizeof *job.chunks);
    if (!job.chunks) {
        sp_pool_volume_free(vol);
        return sp_error_set(err, SP_NOMEM, "%s: out of memory", first);
    }
    job.n_chunks = threads;
    sp_parallel_for(threads, (int)threads, load_range, &job);
    /* Chunks are contiguous and in order: the first failing chunk holds
     * the first failing slice, the one a serial load would report. */
    for (size_t c = 0; c < job.n_chunks && st == SP_OK; c++)
        if (job.chunks[c].status != SP_OK) {
            st = job.chunks[c].status;
            if (err)
                *err = job.chunks[c].err;
        }
    free(job.chunks);
    if (st != SP_OK) {
        sp_pool_volume_free(vol);
        return st;
    }
    double m[4][4];
    series_geometry(series, m);
    sp_volume_set_geometry(vol, m);
    return SP_OK;
}
