/* Rendering the phantom on a voxel grid.
 *
 * A voxel whose eight corners fall in the same material takes that
 * material's value: every structure is an intersection of convex sets in
 * spine coordinates, so a voxel with all corners inside lies inside (the
 * background is the complement of structures far larger than a voxel). Other voxels - edges - are
 * supersampled on an ss^3 lattice: the value is the mean, the label the
 * majority. Cortical bone is always supersampled: its shell can lie
 * between the sample points. Threads take chunks of slices; every voxel
 * depends only on its position and the seed, so the output does not
 * depend on the thread count. */
#include "phantom/phantom.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phantom/anatomy.h"
#include "phantom/rng.h"

#define CHUNK_SLICES 4
#define MAX_THREADS 64
#define MAX_LABELS 16

typedef struct render_job {
    const sp_phantom_params *p;
    ph_model model;
    double origin[3];
    double axis[3][3]; /* voxel steps along i, j, k in LPS mm */
    size_t nx, ny, nz;
    float *image;
    uint16_t *labels;
    atomic_size_t next_chunk;
    atomic_int failed;
} render_job;

static void grid_geometry(const sp_phantom_params *p, const ph_model *m,
                          double vox2lps[4][4], size_t dim[3])
{
    double row[3], col[3], nrm[3];
    if (p->plane == SP_PHANTOM_SAGITTAL) {
        /* Rows run posterior, columns to the feet; slices to the right. */
        double r[3] = {0, 1, 0}, c[3] = {0, 0, -1}, n[3] = {-1, 0, 0};
        memcpy(row, r, sizeof row);
        memcpy(col, c, sizeof col);
        memcpy(nrm, n, sizeof nrm);
    } else {
        double t = p->plane == SP_PHANTOM_OBLIQUE ? p->tilt_deg * M_PI / 180
                                                  : 0.0;
        double r[3] = {1, 0, 0}, c[3] = {0, cos(t), sin(t)},
               n[3] = {0, -sin(t), cos(t)};
        memcpy(row, r, sizeof row);
        memcpy(col, c, sizeof col);
        memcpy(nrm, n, sizeof nrm);
    }
    size_t nk = p->slices;
    if (nk == 0) {
        double cover = p->plane == SP_PHANTOM_SAGITTAL
                           ? 64.0
                           : m->vert[0].s_hi -
                                 m->vert[SP_PHANTOM_VERTEBRAE - 1].s_lo + 16;
        nk = (size_t)ceil(cover / p->slice_mm);
    }
    dim[0] = dim[1] = p->matrix;
    dim[2] = nk;
    double half_ij = (double)(p->matrix - 1) / 2 * p->pixel_mm;
    double half_k = (double)(nk - 1) / 2 * p->slice_mm;
    memset(vox2lps, 0, 16 * sizeof(double));
    for (int r = 0; r < 3; r++) {
        vox2lps[r][0] = row[r] * p->pixel_mm;
        vox2lps[r][1] = col[r] * p->pixel_mm;
        vox2lps[r][2] = nrm[r] * p->slice_mm;
        vox2lps[r][3] = p->center_lps[r] - (row[r] + col[r]) * half_ij -
                        nrm[r] * half_k;
    }
    vox2lps[3][3] = 1;
}

static uint16_t classify_at(const render_job *job, double i, double j,
                            double k)
{
    double pt[3];
    for (int r = 0; r < 3; r++)
        pt[r] = job->origin[r] + job->axis[0][r] * i + job->axis[1][r] * j +
                job->axis[2][r] * k;
    return ph_classify(&job->model, pt);
}

/* Codes of n points from (i, j, k) in steps of di along i. Rows along
 * LPS x (axial and oblique grids) share one projection per row. */
static void classify_line(const render_job *job, double i, double j, double k,
                          double di, size_t n, uint16_t *out)
{
    const double *ax = job->axis[0];
    if (ax[1] == 0 && ax[2] == 0) {
        double p0[3];
        for (int r = 0; r < 3; r++)
            p0[r] = job->origin[r] + ax[r] * i + job->axis[1][r] * j +
                    job->axis[2][r] * k;
        ph_classify_row(&job->model, p0, ax[0] * di, n, out);
        return;
    }
    for (size_t x = 0; x < n; x++)
        out[x] = classify_at(job, i + di * (double)x, j, k);
}

/* Material codes at the voxel corners of the plane k + 0.5. */
static void corner_plane(const render_job *job, double k, uint16_t *plane)
{
    for (size_t j = 0; j <= job->ny; j++)
        classify_line(job, -0.5, (double)j - 0.5, k, 1.0, job->nx + 1,
                      plane + j * (job->nx + 1));
}

static void supersample(const render_job *job, size_t i, size_t j, size_t k,
                        double *value, int *label)
{
    int ss = job->p->supersample;
    int labels[MAX_LABELS], counts[MAX_LABELS], n_labels = 0;
    double sum = 0;
    uint16_t line[8];
    for (int c = 0; c < ss; c++)
        for (int b = 0; b < ss; b++) {
            classify_line(job, (double)i + 0.5 / ss - 0.5,
                          (double)j + (b + 0.5) / ss - 0.5,
                          (double)k + (c + 0.5) / ss - 0.5, 1.0 / ss,
                          (size_t)ss, line);
            for (int a = 0; a < ss; a++) {
                uint16_t code = line[a];
                sum += ph_tissue_value(ph_code_tissue(code), job->p->modality);
                int lab = ph_code_label(code);
                int x = 0;
                while (x < n_labels && labels[x] != lab)
                    x++;
                if (x == n_labels && n_labels < MAX_LABELS) {
                    labels[n_labels] = lab;
                    counts[n_labels++] = 0;
                }
                if (x < n_labels)
                    counts[x]++;
            }
        }
    int best = 0;
    for (int x = 1; x < n_labels; x++)
        if (counts[x] > counts[best])
            best = x;
    *value = sum / (ss * ss * ss);
    *label = labels[best];
}

static double add_noise(const sp_phantom_params *p, size_t index, double v)
{
    if (p->noise_sd <= 0)
        return v;
    double g[2];
    ph_gauss2(p->seed, index, g);
    if (p->modality == SP_PHANTOM_MR) {
        /* Magnitude images: Rician noise. */
        double re = v + p->noise_sd * g[0], im = p->noise_sd * g[1];
        return sqrt(re * re + im * im);
    }
    return v + p->noise_sd * g[0];
}

static void render_slice(render_job *job, size_t k, const uint16_t *lo,
                         const uint16_t *hi)
{
    size_t nx = job->nx, stride = nx + 1;
    for (size_t j = 0; j < job->ny; j++) {
        for (size_t i = 0; i < nx; i++) {
            size_t c0 = j * stride + i, c1 = c0 + stride;
            uint16_t centre = lo[c0];
            int uniform = ph_code_tissue(centre) != PH_CORTEX &&
                          lo[c0 + 1] == centre && lo[c1] == centre &&
                          lo[c1 + 1] == centre && hi[c0] == centre &&
                          hi[c0 + 1] == centre && hi[c1] == centre &&
                          hi[c1 + 1] == centre;
            double value;
            int label;
            if (uniform) {
                value = ph_tissue_value(ph_code_tissue(centre),
                                        job->p->modality);
                label = ph_code_label(centre);
            } else {
                supersample(job, i, j, k, &value, &label);
            }
            size_t idx = i + nx * (j + job->ny * k);
            job->image[idx] = (float)add_noise(job->p, idx, value);
            job->labels[idx] = (uint16_t)label;
        }
    }
}

static void *render_worker(void *arg)
{
    render_job *job = arg;
    size_t plane_n = (job->nx + 1) * (job->ny + 1);
    uint16_t *lo = malloc(plane_n * sizeof *lo);
    uint16_t *hi = malloc(plane_n * sizeof *hi);
    if (!lo || !hi) {
        atomic_store(&job->failed, 1);
        free(lo);
        free(hi);
        return NULL;
    }
    size_t n_chunks = (job->nz + CHUNK_SLICES - 1) / CHUNK_SLICES;
    for (;;) {
        size_t chunk = atomic_fetch_add(&job->next_chunk, 1);
        if (chunk >= n_chunks || atomic_load(&job->failed))
            break;
        size_t k0 = chunk * CHUNK_SLICES;
        size_t k1 = k0 + CHUNK_SLICES < job->nz ? k0 + CHUNK_SLICES : job->nz;
        corner_plane(job, (double)k0 - 0.5, lo);
        for (size_t k = k0; k < k1; k++) {
            corner_plane(job, (double)k + 0.5, hi);
            render_slice(job, k, lo, hi);
            uint16_t *t = lo;
            lo = hi;
            hi = t;
        }
    }
    free(lo);
    free(hi);
    return NULL;
}

sp_status sp_phantom_render(const sp_phantom_params *p, sp_volume *image,
                            sp_volume *labels, sp_error *err)
{
    memset(image, 0, sizeof *image);
    memset(labels, 0, sizeof *labels);
    sp_status st = sp_phantom_validate(p, err);
    if (st != SP_OK)
        return st;
    render_job *job = calloc(1, sizeof *job);
    if (!job)
        return sp_error_set(err, SP_NOMEM, "out of memory for the phantom");
    job->p = p;
    ph_model_build(p, &job->model);
    double m[4][4];
    size_t dim[3];
    grid_geometry(p, &job->model, m, dim);
    st = sp_volume_alloc(image, SP_VOXEL_F32, dim[0], dim[1], dim[2], err);
    if (st == SP_OK)
        st = sp_volume_alloc(labels, SP_VOXEL_U16, dim[0], dim[1], dim[2],
                             err);
    if (st != SP_OK) {
        free(job);
        return st;
    }
    sp_volume_set_geometry(image, m);
    sp_volume_set_geometry(labels, m);
    for (int r = 0; r < 3; r++) {
        job->origin[r] = m[r][3];
        for (int a = 0; a < 3; a++)
            job->axis[a][r] = m[r][a];
    }
    job->nx = dim[0];
    job->ny = dim[1];
    job->nz = dim[2];
    job->image = sp_volume_f32(image);
    job->labels = sp_volume_u16(labels);
    atomic_init(&job->next_chunk, 0);
    atomic_init(&job->failed, 0);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = p->threads > 0 ? p->threads : (cpus > 0 ? (int)cpus : 1);
    size_t n_chunks = (dim[2] + CHUNK_SLICES - 1) / CHUNK_SLICES;
    if ((size_t)n > n_chunks)
        n = (int)n_chunks;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    pthread_t tid[MAX_THREADS];
    int started = 0;
    for (int t = 1; t < n; t++) {
        if (pthread_create(&tid[started], NULL, render_worker, job) != 0)
            break;
        started++;
    }
    render_worker(job); /* the calling thread works too */
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    int failed = atomic_load(&job->failed);
    free(job);
    if (failed)
        return sp_error_set(err, SP_NOMEM,
                            "out of memory while rendering the phantom");
    return SP_OK;
}
