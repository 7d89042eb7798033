/* Heights, disc and canal values along the centre line. */
#include "measure_kernels.h"

#include <math.h>
#include <string.h>

#include "spinepipe/labels.h"

#define EDGE_FRACTION 0.75 /* anterior/posterior heights this far out */
#define CANAL_MEAN_MM 2.0  /* canal values averaged over +-2 mm */

/* Body height along the curve at anterior offset v: from the first to
 * the last column-bone sample within the vertebra's disc limits (the
 * endplates are cortical bone even where the marrow is not in the mask). */
static double height_at(const sp_volume *spine, const spine_curve *c,
                        const spine_vertebra *vv, double v)
{
    double first = NAN, last = NAN;
    for (double s = vv->s_lo; s <= vv->s_hi; s += c->step_mm) {
        size_t q = spine_curve_at(c, s);
        double g[3];
        for (int d = 0; d < 3; d++)
            g[d] = c->p[q][d] + v * c->a[q][d];
        if (!spine_mask_at(spine, g))
            continue;
        if (isnan(first))
            first = s;
        last = s;
    }
    return isnan(first) ? 0 : last - first + c->step_mm;
}

/* Anterior border (largest v) of the canal on the mid-line, averaged over
 * the planes within CANAL_MEAN_MM of s; NAN when none. */
static double canal_front(const canal_result *r, const spine_curve *c,
                          double s)
{
    double sum = 0, n = 0;
    for (double t = s - CANAL_MEAN_MM; t <= s + CANAL_MEAN_MM; t += c->step_mm) {
        size_t q = spine_curve_at(c, t);
        if (q >= r->n || !r->sec[q].found)
            continue;
        const canal_section *cs = &r->sec[q];
        int x = (int)lround(cs->centre_u / CANAL_PIXEL_MM) + CANAL_GRID / 2;
        for (int y = 0; y < CANAL_GRID && x >= 0 && x < CANAL_GRID; y++)
            if (cs->mask[y * CANAL_GRID + x]) {
                sum += cs->grid_v0 - y * CANAL_PIXEL_MM;
                n++;
                break;
            }
    }
    return n > 0 ? sum / n : NAN;
}

sp_status measure_spine(const sp_volume *grid, const sp_volume *spine,
                        const spine_model *model, const canal_result *canal,
                        measure_result *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!sp_volume_u8(spine))
        return sp_error_set(err, SP_INTERNAL, "measure: the column must be U8");
    const spine_curve *c = &model->curve;
    out->n_vert = model->n_vert;
    for (size_t v = 0; v < model->n_vert; v++) {
        const spine_vertebra *vv = &model->vert[v];
        measure_vertebra *mv = &out->vert[v];
        mv->label = vv->label;
        mv->complete = vv->lo_is_disc && vv->hi_is_disc;
        spine_grid_mm_to_lps(grid, vv->centroid, mv->centroid_lps);
        mv->height_middle_mm = height_at(spine, c, vv, 0);
        mv->height_anterior_mm =
            height_at(spine, c, vv, EDGE_FRACTION * vv->body_depth_mm);
        mv->height_posterior_mm =
            height_at(spine, c, vv, -EDGE_FRACTION * vv->body_depth_mm);
    }
    for (size_t v = 0; v + 1 < model->n_vert; v++) {
        const spine_vertebra *lo = &model->vert[v], *hi = &model->vert[v + 1];
        measure_level *ml = &out->level[out->n_levels++];
        /* name upper first: the upper one is towards the head */
        const spine_vertebra *up = model->cranial_sign >= 0 ? hi : lo;
        const spine_vertebra *down = model->cranial_sign >= 0 ? lo : hi;
        ml->upper_label = up->label, ml->lower_label = down->label;
        if (up->label)
            sp_label_disc_level_name(up->label, down->label == SP_LABEL_L6,
                                     ml->name, sizeof ml->name);
        ml->disc_height_mm = hi->body_lo - lo->body_hi;
        if (lo->lo_is_disc && hi->hi_is_disc) {
            double mean = 0.5 * (out->vert[v].height_middle_mm +
                                 out->vert[v + 1].height_middle_mm);
            ml->disc_height_index = mean > 0 ? ml->disc_height_mm / mean : 0;
        }
        double s_disc = 0.5 * (lo->s_hi + hi->s_lo);
        size_t q = spine_curve_at(c, s_disc);
        if (canal && q < canal->n && canal->sec[q].found) {
            ml->canal_found = 1;
            ml->canal_ap_mm = canal->sec[q].ap_mm;
            ml->canal_area_mm2 = canal->sec[q].area_mm2;
            double wall_lo = canal_front(canal, c,
                                         0.5 * (lo->body_lo + lo->body_hi));
            double wall_hi = canal_front(canal, c,
                                         0.5 * (hi->body_lo + hi->body_hi));
            double disc = canal_front(canal, c, s_disc);
            if (!isnan(wall_lo) && !isnan(wall_hi) && !isnan(disc)) {
                ml->posterior_displacement_mm =
                    0.5 * (wall_lo + wall_hi) - disc;
                ml->displacement_u_mm =
                    (double)lround(canal->sec[q].centre_u / CANAL_PIXEL_MM) *
                    CANAL_PIXEL_MM;
                ml->displacement_wall_v = 0.5 * (wall_lo + wall_hi);
                ml->displacement_disc_v = disc;
            }
        }
    }
    return SP_OK;
}
