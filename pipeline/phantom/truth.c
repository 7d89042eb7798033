/* The phantom's ground truth: the measurements the pipeline reports,
 * computed from the model (analytic where the shape allows, otherwise by
 * fine numerical integration independent of the image grid). */
#include "phantom/phantom.h"

#include <math.h>
#include <string.h>

#include "phantom/anatomy.h"
#include "spinepipe/labels.h"

/* Step of the centroid integration (mm) and of the canal area integration
 * when a herniation cuts into the ellipse. */
#define CENTROID_STEP 1.0
#define AREA_STEP 0.01

static json_t *vec3(const double v[3])
{
    json_t *a = json_array();
    for (int i = 0; i < 3; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Arc length of the offset curve at v between s0 and s1. */
static double offset_length(const ph_model *m, double v, double s0, double s1)
{
    const int n = 400;
    double h = (s1 - s0) / n, sum = 0;
    for (int i = 0; i < n; i++)
        sum += (1 - ph_curvature(m, s0 + (i + 0.5) * h) * v) * h;
    return sum;
}

/* Centroid (LPS) of every point labelled `label` inside the box that the
 * spine-coordinate ranges map to. */
static void label_centroid(const ph_model *m, int label, const double u[2],
                           const double v[2], const double s[2],
                           double out[3])
{
    double lo[3] = {INFINITY, INFINITY, INFINITY};
    double hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (int c = 0; c < 8; c++) {
        double p[3];
        ph_from_spine(m, u[c & 1], v[(c >> 1) & 1], s[(c >> 2) & 1], p);
        for (int r = 0; r < 3; r++) {
            lo[r] = fmin(lo[r], p[r] - 3);
            hi[r] = fmax(hi[r], p[r] + 3);
        }
    }
    double sum[3] = {0, 0, 0};
    double count = 0;
    for (double z = lo[2] + CENTROID_STEP / 2; z < hi[2]; z += CENTROID_STEP)
        for (double y = lo[1] + CENTROID_STEP / 2; y < hi[1];
             y += CENTROID_STEP)
            for (double x = lo[0] + CENTROID_STEP / 2; x < hi[0];
                 x += CENTROID_STEP) {
                double p[3] = {x, y, z};
                if (ph_code_label(ph_classify(m, p)) != label)
                    continue;
                sum[0] += x;
                sum[1] += y;
                sum[2] += z;
                count++;
            }
    for (int r = 0; r < 3; r++)
        out[r] = count > 0 ? sum[r] / count : NAN;
}

static json_t *vertebra_truth(const ph_model *m, int i)
{
    const ph_vertebra *b = &m->vert[i];
    double mid = (b->s_lo + b->s_hi) / 2, centre[3], centroid[3];
    ph_from_spine(m, 0, 0, mid, centre);
    double us[2] = {-80, 80}, vs[2] = {-b->b - 2, 80},
           ss[2] = {b->s_lo - 6, b->s_hi + 2};
    label_centroid(m, sp_phantom_vertebra_label(i), us, vs, ss, centroid);
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(sp_phantom_vertebra_name(i)));
    json_object_set_new(o, "label_value",
                        json_integer(sp_phantom_vertebra_label(i)));
    json_object_set_new(o, "centroid_mm", vec3(centroid));
    json_object_set_new(o, "body_centroid_mm", vec3(centre));
    json_object_set_new(o, "body_height_anterior_mm",
                        json_real(offset_length(m, -b->b, b->s_lo, b->s_hi)));
    json_object_set_new(o, "body_height_middle_mm",
                        json_real(b->s_hi - b->s_lo));
    json_object_set_new(o, "body_height_posterior_mm",
                        json_real(offset_length(m, b->b, b->s_lo, b->s_hi)));
    json_object_set_new(o, "body_width_mm", json_real(2 * b->a));
    json_object_set_new(o, "body_depth_mm", json_real(2 * b->b));
    return o;
}

static const char *side_name(sp_phantom_side side)
{
    switch (side) {
    case SP_PHANTOM_LEFT: return "left paracentral";
    case SP_PHANTOM_RIGHT: return "right paracentral";
    default: return "central";
    }
}

static json_t *level_truth(const sp_phantom_params *p, const ph_model *m,
                           int l)
{
    const ph_disc *d = &m->disc[l];
    double mid = (d->s_lo + d->s_hi) / 2;
    double front = ph_canal_front(m, mid);
    double ap = ph_canal_ap(m, mid);
    double cw = m->canal_half_width, ca = ap / 2, vc = front + ca;
    /* Canal AP along the midline: the herniation may push the front back. */
    double anterior = vc - ca;
    double area = M_PI * cw * ca;
    if (d->herniation > 0) {
        double q = pow(d->herniation_u / PH_HERNIATION_HALF_WIDTH, 2);
        if (q < 1)
            anterior = fmax(anterior, d->b + d->herniation * sqrt(1 - q));
        double n = 0;
        for (double v = vc - ca + AREA_STEP / 2; v < vc + ca; v += AREA_STEP)
            for (double u = -cw + AREA_STEP / 2; u < cw; u += AREA_STEP)
                if (pow(u / cw, 2) + pow((v - vc) / ca, 2) <= 1 &&
                    !ph_in_herniation(m, l, u, v, mid))
                    n++;
        area = n * AREA_STEP * AREA_STEP;
    }
    double centre[3], centroid[3];
    ph_from_spine(m, 0, 0, mid, centre);
    double us[2] = {-d->a - 2, d->a + 2},
           vs[2] = {-d->b - 2, d->b + d->herniation + 2},
           ss[2] = {d->s_lo - 1, d->s_hi + 1};
    label_centroid(m, sp_phantom_level_label(l), us, vs, ss, centroid);

    json_t *o = json_object();
    json_object_set_new(o, "level", json_string(sp_phantom_level_name(l)));
    json_object_set_new(o, "label_value",
                        json_integer(sp_phantom_level_label(l)));
    json_object_set_new(o, "disc_centroid_mm", vec3(centroid));
    json_object_set_new(o, "disc_centre_mm", vec3(centre));
    json_object_set_new(o, "disc_height_mm", json_real(d->s_hi - d->s_lo));
    json_object_set_new(o, "disc_height_anterior_mm",
                        json_real(offset_length(m, -d->b, d->s_lo, d->s_hi)));
    json_object_set_new(o, "disc_height_posterior_mm",
                        json_real(offset_length(m, d->b, d->s_lo, d->s_hi)));
    json_object_set_new(o, "canal_ap_mm", json_real(vc + ca - anterior));
    json_object_set_new(o, "canal_ap_nominal_mm", json_real(ap));
    json_object_set_new(o, "canal_width_mm", json_real(2 * cw));
    json_object_set_new(o, "canal_area_mm2", json_real(area));
    json_object_set_new(o, "posterior_displacement_mm",
                        json_real(d->herniation));
    json_object_set_new(o, "herniation_position",
                        d->herniation > 0
                            ? json_string(side_name(p->herniation_side[l]))
                            : json_null());
    return o;
}

static json_t *params_json(const sp_phantom_params *p, const sp_volume *grid)
{
    static const char *const planes[] = {"axial", "sagittal", "oblique"};
    json_t *o = json_object();
    json_object_set_new(o, "modality",
                        json_string(p->modality == SP_PHANTOM_MR ? "MR" : "CT"));
    json_object_set_new(o, "orientation", json_string(planes[p->plane]));
    json_object_set_new(o, "tilt_deg", json_real(p->tilt_deg));
    json_object_set_new(o, "matrix", json_integer((json_int_t)p->matrix));
    json_object_set_new(o, "slices", json_integer((json_int_t)grid->dim[2]));
    json_object_set_new(o, "pixel_mm", json_real(p->pixel_mm));
    json_object_set_new(o, "slice_mm", json_real(p->slice_mm));
    json_object_set_new(o, "center_lps_mm", vec3(p->center_lps));
    json_object_set_new(o, "noise_sd", json_real(p->noise_sd));
    json_object_set_new(o, "seed", json_integer((json_int_t)p->seed));
    json_object_set_new(o, "supersample", json_integer(p->supersample));
    json_object_set_new(o, "lordosis_mm", json_real(p->lordosis_mm));
    json_object_set_new(o, "canal_width_mm", json_real(p->canal_width_mm));
    json_object_set_new(o, "canal_ap_default_mm",
                        json_real(p->canal_ap_default_mm));
    json_t *ap = json_object(), *hern = json_array();
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++) {
        if (p->canal_ap_mm[l] > 0)
            json_object_set_new(ap, sp_phantom_level_name(l),
                                json_real(p->canal_ap_mm[l]));
        if (p->herniation_mm[l] > 0) {
            json_t *h = json_object();
            json_object_set_new(h, "level",
                                json_string(sp_phantom_level_name(l)));
            json_object_set_new(h, "displacement_mm",
                                json_real(p->herniation_mm[l]));
            json_object_set_new(h, "position",
                                json_string(side_name(p->herniation_side[l])));
            json_array_append_new(hern, h);
        }
    }
    json_object_set_new(o, "canal_ap_mm", ap);
    json_object_set_new(o, "herniations", hern);
    json_object_set_new(o, "cord", json_boolean(p->cord));
    return o;
}

static json_t *grid_json(const sp_volume *g)
{
    json_t *o = json_object(), *dim = json_array(), *sp = json_array(),
           *m = json_array();
    for (int a = 0; a < 3; a++) {
        json_array_append_new(dim, json_integer((json_int_t)g->dim[a]));
        json_array_append_new(sp, json_real(g->spacing[a]));
    }
    for (int r = 0; r < 4; r++) {
        json_t *row = json_array();
        for (int c = 0; c < 4; c++)
            json_array_append_new(row, json_real(g->vox2lps[r][c]));
        json_array_append_new(m, row);
    }
    json_object_set_new(o, "dim", dim);
    json_object_set_new(o, "spacing_mm", sp);
    json_object_set_new(o, "vox2lps", m);
    json_object_set_new(o, "orientation",
                        json_string(sp_orientation_name(sp_volume_orientation(g))));
    return o;
}

sp_status sp_phantom_truth(const sp_phantom_params *p, const sp_volume *grid,
                           json_t **truth, sp_error *err)
{
    *truth = NULL;
    sp_status st = sp_phantom_validate(p, err);
    if (st != SP_OK)
        return st;
    ph_model m;
    ph_model_build(p, &m);
    json_t *o = json_object();
    json_object_set_new(o, "phantom",
                        json_string("spinepipe synthetic lumbar spine"));
    json_object_set_new(o, "parameters", params_json(p, grid));
    json_object_set_new(o, "grid", grid_json(grid));
    json_t *labels = json_object();
    for (int v = 0; v < SP_PHANTOM_VERTEBRAE; v++)
        json_object_set_new(labels, sp_phantom_vertebra_name(v),
                            json_integer(sp_phantom_vertebra_label(v)));
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++)
        json_object_set_new(labels, sp_phantom_level_name(l),
                            json_integer(sp_phantom_level_label(l)));
    json_object_set_new(labels, "canal", json_integer(SP_LABEL_CANAL));
    json_object_set_new(labels, "cord", json_integer(SP_LABEL_CORD));
    json_object_set_new(o, "labels", labels);
    json_t *tissues = json_object();
    for (int t = 0; t < PH_TISSUE_COUNT; t++)
        json_object_set_new(tissues, ph_tissue_name((ph_tissue)t),
                            json_real(ph_tissue_value((ph_tissue)t,
                                                      p->modality)));
    json_object_set_new(o, "tissue_values", tissues);
    json_t *verts = json_array(), *levels = json_array();
    for (int v = 0; v < SP_PHANTOM_VERTEBRAE; v++)
        json_array_append_new(verts, vertebra_truth(&m, v));
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++)
        json_array_append_new(levels, level_truth(p, &m, l));
    json_object_set_new(o, "vertebrae", verts);
    json_object_set_new(o, "levels", levels);
    *truth = o;
    return SP_OK;
}
