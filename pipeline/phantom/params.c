/* Phantom parameters: names, defaults and range checks. */
#include "phantom/phantom.h"
#include "spinepipe/labels.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The phantom's vertebrae, top to bottom; names, disc labels and level
 * names all come from spinepipe/labels.h. */
static const int vertebra_labels[SP_PHANTOM_VERTEBRAE] = {
    SP_LABEL_T1 + 11, SP_LABEL_L1,     SP_LABEL_L1 + 1, SP_LABEL_L1 + 2,
    SP_LABEL_L1 + 3,  SP_LABEL_L1 + 4, SP_LABEL_SACRUM};

static char level_names[SP_PHANTOM_LEVELS][16];
static pthread_once_t level_names_once = PTHREAD_ONCE_INIT;

static void make_level_names(void)
{
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++)
        sp_label_disc_level_name(vertebra_labels[l], 0, level_names[l],
                                 sizeof level_names[l]);
}

const char *sp_phantom_vertebra_name(int v)
{
    const char *name = v >= 0 && v < SP_PHANTOM_VERTEBRAE
                           ? sp_label_vertebra_name(vertebra_labels[v])
                           : NULL;
    return name ? name : "?";
}

int sp_phantom_vertebra_label(int v)
{
    return v >= 0 && v < SP_PHANTOM_VERTEBRAE ? vertebra_labels[v] : 0;
}

const char *sp_phantom_level_name(int l)
{
    if (l < 0 || l >= SP_PHANTOM_LEVELS)
        return "?";
    pthread_once(&level_names_once, make_level_names);
    return level_names[l];
}

int sp_phantom_level_label(int l)
{
    return l >= 0 && l < SP_PHANTOM_LEVELS
               ? sp_label_disc_below(vertebra_labels[l])
               : 0;
}

int sp_phantom_level_index(const char *name)
{
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++)
        if (strcmp(name, sp_phantom_level_name(l)) == 0)
            return l;
    return -1;
}

void sp_phantom_defaults(sp_phantom_params *p, sp_phantom_modality modality)
{
    memset(p, 0, sizeof *p);
    p->modality = modality;
    p->center_lps[1] = 20.0;
    p->seed = 1;
    p->supersample = 3;
    p->lordosis_mm = 12.0;
    p->canal_ap_default_mm = 15.0;
    p->canal_width_mm = 22.0;
    p->cord = 1;
    if (modality == SP_PHANTOM_MR) {
        p->plane = SP_PHANTOM_SAGITTAL;
        p->matrix = 256;
        p->pixel_mm = 1.0;
        p->slice_mm = 4.0;
        p->noise_sd = 20.0;
    } else {
        p->plane = SP_PHANTOM_AXIAL;
        p->matrix = 256;
        p->pixel_mm = 0.75;
        p->slice_mm = 2.0;
        p->noise_sd = 15.0;
    }
}

static sp_status out_of_range(sp_error *err, const char *name, double value,
                              double lo, double hi)
{
    return sp_error_set(err, SP_USAGE,
                        "phantom parameter %s = %g is out of range [%g, %g]",
                        name, value, lo, hi);
}

#define CHECK(name, value, lo, hi)                                            \
    do {                                                                      \
        double v_ = (double)(value);                                          \
        if (!(v_ >= (lo) && v_ <= (hi)))                                      \
            return out_of_range(err, name, v_, lo, hi);                       \
    } while (0)

sp_status sp_phantom_validate(const sp_phantom_params *p, sp_error *err)
{
    if (p->modality != SP_PHANTOM_CT && p->modality != SP_PHANTOM_MR)
        return sp_error_set(err, SP_USAGE, "phantom modality must be CT or MR");
    if (p->plane != SP_PHANTOM_AXIAL && p->plane != SP_PHANTOM_SAGITTAL &&
        p->plane != SP_PHANTOM_OBLIQUE)
        return sp_error_set(err, SP_USAGE,
                            "phantom orientation must be axial, sagittal or "
                            "oblique");
    CHECK("tilt (degrees)", p->tilt_deg, -45, 45);
    CHECK("matrix", p->matrix, 16, 2048);
    CHECK("slices", p->slices, 0, 4000);
    CHECK("pixel size (mm)", p->pixel_mm, 0.05, 5);
    CHECK("slice thickness (mm)", p->slice_mm, 0.1, 20);
    for (int a = 0; a < 3; a++)
        CHECK("centre (mm)", p->center_lps[a], -500, 500);
    CHECK("noise SD", p->noise_sd, 0, 500);
    CHECK("supersample", p->supersample, 1, 8);
    CHECK("threads", p->threads, 0, 256);
    CHECK("lordosis (mm)", p->lordosis_mm, 0, 40);
    CHECK("canal AP default (mm)", p->canal_ap_default_mm, 4, 30);
    CHECK("canal width (mm)", p->canal_width_mm, 10, 34);
    CHECK("series number", p->series_number, 0, 99999);
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++) {
        char name[64];
        if (p->canal_ap_mm[l] != 0) {
            snprintf(name, sizeof name, "canal AP at %s (mm)",
                     sp_phantom_level_name(l));
            CHECK(name, p->canal_ap_mm[l], 4, 30);
        }
        snprintf(name, sizeof name, "herniation at %s (mm)",
                 sp_phantom_level_name(l));
        CHECK(name, p->herniation_mm[l], 0, 12);
        if (p->herniation_side[l] != SP_PHANTOM_CENTRAL &&
            p->herniation_side[l] != SP_PHANTOM_LEFT &&
            p->herniation_side[l] != SP_PHANTOM_RIGHT)
            return sp_error_set(err, SP_USAGE,
                                "herniation side at %s must be central, left "
                                "or right",
                                sp_phantom_level_name(l));
    }
    size_t slices = p->slices ? p->slices : 1;
    double voxels = (double)p->matrix * (double)p->matrix * (double)slices;
    if (voxels > 2.0e9)
        return sp_error_set(err, SP_LIMIT,
                            "phantom of %zu x %zu x %zu voxels is too large "
                            "(limit 2e9 voxels)",
                            p->matrix, p->matrix, slices);
    return SP_OK;
}
