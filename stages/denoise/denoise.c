/* Stage `denoise`: 3D (or in-plane) median, separable Gaussian with sigma
 * in mm, edge-preserving gradient anisotropic diffusion, or non-local
 * means. Output
 * volume.denoised on the input's grid. The input stays untouched, except
 * that the in-plane 3x3 median and the Gaussian work in its own buffer
 * when the host lets the stage consume it (no later stage reads it: stage
 * ABI 1.3, artifact_take_volume); the voxels are the same either way.
 * Slices are split over the host's threads; output does not depend on
 * their number. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "spinepipe/stage.h"
#include "stage_input.h"
#include "denoise_kernels.h"

enum { M_MEDIAN, M_GAUSSIAN, M_DIFFUSION, M_NLM };
static const char *const method_names[] = {"median", "gaussian",
                                           "diffusion", "nlm", NULL};

typedef struct denoise_options {
    const char *input;
    int method;
    int radius;
    int in_plane;
    double sigma_mm;
    double conductance;
    int iterations;
    int patch_radius;
    int search_radius;
    double h;
} denoise_options;

static const sp_param params[] = {
    {"input", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "the float32 volume to denoise", offsetof(denoise_options, input)},
    {"method", SP_PARAM_ENUM, "median", 0, 0, NULL, method_names,
     "median (impulse noise), gaussian (sigma in mm), diffusion "
     "(edge-preserving, Perona-Malik), nlm (non-local means, e.g. for MR)",
     offsetof(denoise_options, method)},
    {"radius", SP_PARAM_INT, "1", 1, 3, "voxels", NULL,
     "median window half-size: 1 is 3x3(x3), 3 is 7x7(x7)",
     offsetof(denoise_options, radius)},
    {"in_plane", SP_PARAM_BOOL, "false", 0, 0, NULL, NULL,
     "filter each slice on its own (2D) instead of in 3D",
     offsetof(denoise_options, in_plane)},
    {"sigma", SP_PARAM_FLOAT, "1.0", 0.05, 20, "mm", NULL,
     "Gaussian standard deviation in millimetres (anisotropic voxels get "
     "per-axis kernels)",
     offsetof(denoise_options, sigma_mm)},
    {"conductance", SP_PARAM_FLOAT, "30", 0.01, 100000, "units/mm", NULL,
     "diffusion: gradients well above this (e.g. HU per mm) are edges and "
     "are kept",
     offsetof(denoise_options, conductance)},
    {"iterations", SP_PARAM_INT, "10", 1, 500, NULL, NULL,
     "diffusion: number of explicit steps",
     offsetof(denoise_options, iterations)},
    {"patch_radius", SP_PARAM_INT, "1", 1, 3, "voxels", NULL,
     "nlm: patch half-size: 1 compares 3x3(x3) patches",
     offsetof(denoise_options, patch_radius)},
    {"search_radius", SP_PARAM_INT, "3", 1, 10, "voxels", NULL,
     "nlm: search window half-size: 3 averages over 7x7(x7) candidates",
     offsetof(denoise_options, search_radius)},
    {"h", SP_PARAM_FLOAT, "0", 0, 1e9, "units", NULL,
     "nlm: filtering strength in image units (weights exp(-d2/h^2), d2 the "
     "mean squared patch difference); 0 takes the noise SD estimated from "
     "the image",
     offsetof(denoise_options, h)},
};

static const char *const requires_list[] = {NULL}; /* see `input` */
static const char *const provides_list[] = {"volume.denoised", NULL};

typedef struct denoise_state {
    const denoise_options *opt;
} denoise_state;

/* One kernel call on a slice range, for host->parallel_for. */
typedef struct pass {
    const denoise_options *opt;
    const sp_volume *src;
    sp_volume *dst;
    const float *taps[3];    /* Gaussian, per axis */
    int radius[3];           /* Gaussian */
    atomic_int out_of_memory; /* Gaussian: a chunk had no buffer */
    atomic_size_t next_slice; /* median in place: the next slice to take */
    double time_step;        /* diffusion */
    double h;                /* nlm, image units */
} pass;

static void run_median(void *arg, size_t k0, size_t k1)
{
    const pass *p = arg;
    denoise_median(p->src, p->dst, p->opt->radius, p->opt->in_plane, k0, k1);
}

/* Slices are taken one at a time from a shared counter (the chunks
 * parallel_for hands out are not used): a thread that gets less of the
 * CPU takes fewer slices. Each slice depends on itself alone, so the
 * result is the same on any threads. */
static void run_median_in_place(void *arg, size_t k0, size_t k1)
{
    (void)k0;
    (void)k1;
    pass *p = arg;
    for (;;) {
        size_t k = atomic_fetch_add(&p->next_slice, 1);
        if (k >= p->dst->dim[2])
            return;
        if (!denoise_median3x3_in_place(p->dst, k, k + 1))
            atomic_store(&p->out_of_memory, 1);
    }
}

static void run_gaussian_plane(void *arg, size_t k0, size_t k1)
{
    pass *p = arg;
    if (!denoise_gaussian_plane(p->src, p->dst, p->taps[0], p->radius[0],
                                p->taps[1], p->radius[1], k0, k1))
        atomic_store(&p->out_of_memory, 1);
}

static void run_gaussian_k(void *arg, size_t j0, size_t j1)
{
    pass *p = arg;
    if (!denoise_gaussian_k(p->dst, p->taps[2], p->radius[2], j0, j1))
        atomic_store(&p->out_of_memory, 1);
}

static void run_diffusion(void *arg, size_t k0, size_t k1)
{
    const pass *p = arg;
    denoise_diffusion_step(p->src, p->dst, p->opt->conductance, p->time_step,
                           p->opt->in_plane, k0, k1);
}

static void run_nlm(void *arg, size_t k0, size_t k1)
{
    pass *p = arg;
    if (!denoise_nlm(p->src, p->dst, p->opt->patch_radius,
                     p->opt->search_radius, p->h, p->opt->in_plane, k0, k1))
        atomic_store(&p->out_of_memory, 1);
}

static sp_status denoise_init(sp_stage_context *ctx, const void *options,
                              void **state)
{
    denoise_state *s = ctx->host->scratch_alloc(ctx, sizeof *s);
    if (!s)
        return SP_NOMEM;
    s->opt = options;
    *state = s;
    return SP_OK;
}

/* Gaussian: i and j slice by slice into out, then k in place (skipped
 * in-plane), split over threads by slices, then by rows. */
static sp_status gaussian(sp_stage_context *ctx, const denoise_options *o,
                          const sp_volume *in, sp_volume *out)
{
    float taps[3][2 * DENOISE_GAUSS_MAX_RADIUS + 1];
    pass p = {.opt = o, .src = in, .dst = out};
    atomic_init(&p.out_of_memory, 0);
    for (int a = 0; a < 3; a++) {
        p.radius[a] = denoise_gaussian_taps(o->sigma_mm / in->spacing[a],
                                            taps[a]);
        p.taps[a] = taps[a];
    }
    ctx->host->parallel_for(ctx, in->dim[2], run_gaussian_plane, &p);
    ctx->host->progress(ctx, o->in_plane ? 1.0 : 0.67);
    if (!o->in_plane && !atomic_load(&p.out_of_memory))
        ctx->host->parallel_for(ctx, in->dim[1], run_gaussian_k, &p);
    if (atomic_load(&p.out_of_memory))
        return ctx->host->fail(ctx, SP_NOMEM,
                               "gaussian: no memory for the slice buffers "
                               "(%zu x %zu x %zu)",
                               in->dim[0], in->dim[1], in->dim[2]);
    return SP_OK;
}

/* Explicit diffusion is stable for a step below h_min^2 / 2^(dims + 1)
 * (mm^2); 0.9 of that leaves a margin for rounding. */
static sp_status diffusion(sp_stage_context *ctx, const denoise_options *o,
                           const sp_volume *in, sp_volume *out)
{
    int dims = o->in_plane ? 2 : 3;
    double h = in->spacing[0];
    for (int a = 1; a < dims; a++)
        if (in->spacing[a] < h)
            h = in->spacing[a];
    double step = 0.9 * h * h / (double)(1 << (dims + 1));
    sp_volume tmp;
    sp_status st = ctx->host->volume_alloc_like(ctx, &tmp, in, SP_VOXEL_F32);
    if (st != SP_OK)
        return st;
    /* Ping-pong so the last step lands in `out`. */
    sp_volume *bufs[2] = {out, &tmp};
    int first = o->iterations % 2 == 0 ? 1 : 0;
    const sp_volume *src = in;
    for (int it = 0; it < o->iterations; it++) {
        sp_volume *dst = bufs[(first + it) % 2];
        pass p = {.opt = o, .src = src, .dst = dst, .time_step = step};
        ctx->host->parallel_for(ctx, in->dim[2], run_diffusion, &p);
        src = dst;
        ctx->host->progress(ctx, (it + 1.0) / o->iterations);
    }
    ctx->host->volume_free(&tmp);
    return SP_OK;
}

/* Non-local means, with h from the noise estimate when it is 0. */
static sp_status nlm(sp_stage_context *ctx, const denoise_options *o,
                     const sp_volume *in, sp_volume *out)
{
    pass p = {.opt = o, .src = in, .dst = out, .h = o->h};
    atomic_init(&p.out_of_memory, 0);
    if (p.h <= 0) {
        p.h = denoise_noise_sd(in);
        if (p.h < 0)
            return ctx->host->fail(ctx, SP_NOMEM,
                                   "nlm: no memory to estimate the noise");
        if (!(p.h > 0) || !isfinite(p.h))
            return ctx->host->fail(ctx, SP_STAGE,
                                   "nlm: %s has no measurable noise (flat "
                                   "or too small); set denoise.h",
                                   o->input);
        ctx->host->log(ctx, SP_LOG_INFO,
                       "nlm: h = %.4g (noise SD estimated from %s)", p.h,
                       o->input);
    }
    ctx->host->parallel_for(ctx, in->dim[2], run_nlm, &p);
    if (atomic_load(&p.out_of_memory))
        return ctx->host->fail(ctx, SP_NOMEM,
                               "nlm: no memory for the slice buffers "
                               "(%zu x %zu)",
                               in->dim[0], in->dim[1]);
    return SP_OK;
}

static int works_in_place(const denoise_options *o)
{
    return (o->method == M_MEDIAN && o->radius == 1 && o->in_plane) ||
           o->method == M_GAUSSIAN;
}

/* The input's own buffer when the host gives it up, else a new volume.
 * *in points at the one the kernels read. */
static sp_status output_volume(sp_stage_context *ctx,
                               const denoise_options *o,
                               const sp_volume **in, sp_volume *out,
                               int *in_place)
{
    const sp_host_api *H = ctx->host;
    *in_place = works_in_place(o) &&
                H->size > offsetof(sp_host_api, artifact_take_volume) &&
                H->artifact_take_volume(ctx, o->input, SP_ARTIFACT_VOLUME,
                                        out);
    if (*in_place) {
        *in = out;
        return SP_OK;
    }
    return H->volume_alloc_like(ctx, out, *in, SP_VOXEL_F32);
}

static sp_status median_in_place(sp_stage_context *ctx, sp_volume *vol)
{
    pass p = {.dst = vol};
    atomic_init(&p.out_of_memory, 0);
    atomic_init(&p.next_slice, 0);
    ctx->host->parallel_for(ctx, vol->dim[2], run_median_in_place, &p);
    if (atomic_load(&p.out_of_memory))
        return ctx->host->fail(ctx, SP_NOMEM,
                               "median: no memory for the row buffers "
                               "(%zu wide)",
                               vol->dim[0]);
    return SP_OK;
}

static sp_status denoise_process(sp_stage_context *ctx, void *state)
{
    const denoise_options *o = ((denoise_state *)state)->opt;
    const sp_volume *in;
    if (stage_input_f32(ctx, o->input, &in) != SP_OK)
        return SP_STAGE;
    sp_volume out;
    int in_place;
    sp_status st = output_volume(ctx, o, &in, &out, &in_place);
    if (st != SP_OK)
        return st;
    if (in_place && o->method == M_MEDIAN) {
        st = median_in_place(ctx, &out);
    } else if (o->method == M_MEDIAN) {
        pass p = {.opt = o, .src = in, .dst = &out};
        ctx->host->parallel_for(ctx, in->dim[2], run_median, &p);
    } else if (o->method == M_GAUSSIAN) {
        st = gaussian(ctx, o, in, &out);
    } else if (o->method == M_DIFFUSION) {
        st = diffusion(ctx, o, in, &out);
    } else {
        st = nlm(ctx, o, in, &out);
    }
    if (st != SP_OK) {
        ctx->host->volume_free(&out);
        return st;
    }
    ctx->host->log(ctx, SP_LOG_INFO, "%s on %s (%zu x %zu x %zu)%s",
                   method_names[o->method], o->input, out.dim[0], out.dim[1],
                   out.dim[2], in_place ? ", in place" : "");
    return ctx->host->artifact_put_volume(ctx, "volume.denoised",
                                         SP_ARTIFACT_VOLUME, &out);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "denoise",
    .version = "1.2.0",
    .description = "3D or in-plane median, Gaussian (sigma in mm), "
                   "edge-preserving anisotropic diffusion or non-local "
                   "means",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(denoise_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = denoise_init,
    .process = denoise_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
