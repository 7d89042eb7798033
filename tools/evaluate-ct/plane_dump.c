/* A level's measuring plane against the phantom's truth (see
 * plane_dump.h): what the canal outline was traced on, and where the
 * phantom's canal really is in that same plane. A debugging aid of the
 * evaluation, not part of the product. */
#include "plane_dump.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"
#include "phantom/anatomy.h"

#define HALF_MM 20.0   /* the picture spans the canal centre +- this */
#define PX_MM 0.1
#define N_PX ((int)(2 * HALF_MM / PX_MM))
#define LO_HU -60.0    /* grey window: fat black, CSF dark, soft tissue, */
#define HI_HU 120.0    /* ligament and disc in steps, bone white */

static int point(const json_t *a, double p[3])
{
    if (json_array_size(a) != 3)
        return 0;
    for (size_t k = 0; k < 3; k++)
        p[k] = json_number_value(json_array_get(a, k));
    return 1;
}

/* Trilinear HU at an LPS point; NAN outside. */
static double hu_at(const sp_volume *vol, const double lps[3])
{
    double ijk[3];
    if (sp_volume_patient_to_voxel(vol, lps, ijk) != SP_OK)
        return NAN;
    long i0[3];
    double f[3];
    for (int d = 0; d < 3; d++) {
        double x = floor(ijk[d]);
        if (x < 0 || x + 1 >= (double)vol->dim[d])
            return NAN;
        i0[d] = (long)x, f[d] = ijk[d] - x;
    }
    const float *v = sp_volume_f32(vol);
    double s = 0;
    for (int c = 0; c < 8; c++) {
        size_t i = (size_t)i0[0] + (c & 1), j = (size_t)i0[1] + (c >> 1 & 1),
               k = (size_t)i0[2] + (c >> 2 & 1);
        double w = (c & 1 ? f[0] : 1 - f[0]) *
                   (c >> 1 & 1 ? f[1] : 1 - f[1]) *
                   (c >> 2 & 1 ? f[2] : 1 - f[2]);
        s += w * v[sp_volume_index(vol, i, j, k)];
    }
    return s;
}

static int is_canal(uint16_t code)
{
    ph_tissue t = ph_code_tissue(code);
    return t == PH_CSF || t == PH_CORD;
}

/* The outline's centre (LPS) and the plane's axes; 0 when missing. */
static int plane_frame(const json_t *lv, double c[3], double lat[3],
                       double ant[3])
{
    const json_t *outline = json_object_get(lv, "canal_outline_mm");
    const json_t *pl = json_object_get(lv, "canal_plane");
    size_t n = json_array_size(outline);
    if (n < 3 || !point(json_object_get(pl, "lateral"), lat) ||
        !point(json_object_get(pl, "anterior"), ant))
        return 0;
    c[0] = c[1] = c[2] = 0;
    for (size_t i = 0; i < n; i++) {
        double q[3];
        point(json_array_get(outline, i), q);
        for (int d = 0; d < 3; d++)
            c[d] += q[d] / (double)n;
    }
    return 1;
}

static void axis_of(const ph_model *m, const double c[3], const double lat[3],
                    const double ant[3], plane_axis *pa)
{
    double qu, qv, qs, au, av, as, q[3];
    ph_to_spine(m, c, &pa->u, &pa->v, &pa->s);
    for (int d = 0; d < 3; d++)
        q[d] = c[d] + lat[d];
    ph_to_spine(m, q, &qu, &qv, &qs);
    for (int d = 0; d < 3; d++)
        q[d] = c[d] + ant[d];
    ph_to_spine(m, q, &au, &av, &as);
    pa->ds_lat = qs - pa->s, pa->ds_ant = as - pa->s;
    int near = 0;
    for (int l = 1; l < SP_PHANTOM_LEVELS; l++)
        if (fabs(pa->s - (m->disc[l].s_lo + m->disc[l].s_hi) / 2) <
            fabs(pa->s - (m->disc[near].s_lo + m->disc[near].s_hi) / 2))
            near = l;
    pa->disc_lo = m->disc[near].s_lo, pa->disc_hi = m->disc[near].s_hi;
}

int plane_on_axis(const sp_phantom_params *p, const json_t *lv,
                  plane_axis *pa)
{
    double c[3], lat[3], ant[3];
    if (!plane_frame(lv, c, lat, ant))
        return 0;
    ph_model *m = malloc(sizeof *m);
    if (!m)
        return 0;
    ph_model_build(p, m);
    axis_of(m, c, lat, ant, pa);
    free(m);
    return 1;
}

sp_status plane_dump(const sp_phantom_params *p, const sp_volume *vol,
                     const json_t *lv, const char *path, sp_error *err)
{
    const json_t *outline = json_object_get(lv, "canal_outline_mm");
    double lat[3], ant[3], c[3];
    size_t n = json_array_size(outline);
    if (vol->type != SP_VOXEL_F32 || !plane_frame(lv, c, lat, ant))
        return SP_OK;
    double *ou = malloc(2 * n * sizeof *ou);
    ph_model *m = malloc(sizeof *m);
    uint8_t *rgb = malloc((size_t)N_PX * N_PX * 3);
    uint16_t *code = malloc((size_t)N_PX * N_PX * sizeof *code);
    uint8_t *in = malloc((size_t)N_PX * N_PX);
    sp_status st = SP_OK;
    if (!ou || !m || !rgb || !code || !in) {
        st = sp_error_set(err, SP_NOMEM, "evaluate-ct: out of memory");
        goto done;
    }
    double *ov = ou + n;
    for (size_t i = 0; i < n; i++) {
        double q[3];
        point(json_array_get(outline, i), q);
        ou[i] = ov[i] = 0;
        for (int d = 0; d < 3; d++)
            ou[i] += (q[d] - c[d]) * lat[d], ov[i] += (q[d] - c[d]) * ant[d];
    }
    ph_model_build(p, m);
    /* where the plane lies on the phantom's own axis: its centre's
       height s against the nearest disc's, the true canal there, and the
       plane's tilt from the axis (the AP and lateral directions moved a
       millimetre along the plane, in axis coordinates) */
    plane_axis pa;
    axis_of(m, c, lat, ant, &pa);
    double mid = (pa.disc_lo + pa.disc_hi) / 2;
    printf("    plane centre on the axis: s %.2f (disc %.2f..%.2f, mid "
           "%.2f), u %.2f, v %.2f from the canal front %.2f; true AP "
           "here %.2f (at the disc mid %.2f); ds per mm lateral %.3f, "
           "per mm anterior %.3f\n",
           pa.s, pa.disc_lo, pa.disc_hi, mid, pa.u,
           pa.v - ph_canal_front(m, pa.s), ph_canal_front(m, pa.s),
           ph_canal_ap(m, pa.s), ph_canal_ap(m, mid), pa.ds_lat, pa.ds_ant);
    /* the measured AP's two ends against the canal ellipse's front and
       back walls at their own height (positive: the AP reads longer
       there; at a herniated level the front is the dome, not the wall) */
    const json_t *ends = json_object_get(lv, "canal_ap_endpoints_mm");
    double e0[3], e1[3];
    if (json_array_size(ends) == 2 && point(json_array_get(ends, 0), e0) &&
        point(json_array_get(ends, 1), e1)) {
        double u0, v0, s0, u1, v1, s1;
        ph_to_spine(m, e0, &u0, &v0, &s0);
        ph_to_spine(m, e1, &u1, &v1, &s1);
        if (v0 > v1) { /* v is posterior positive: e0 the front */
            double t[3] = {u0, v0, s0};
            u0 = u1, v0 = v1, s0 = s1, u1 = t[0], v1 = t[1], s1 = t[2];
        }
        printf("    AP ends: front %+.2f mm (u %.2f, s %.2f), back %+.2f "
               "mm (u %.2f, s %.2f)\n", ph_canal_front(m, s0) - v0, u0, s0,
               v1 - ph_canal_front(m, s1) - ph_canal_ap(m, s1), u1, s1);
    }
    size_t truth_px = 0, traced_px = 0, both_px = 0;
    /* where the traced outline and the truth differ: by the phantom's
       tissue there, and by band across the plane (|u| < 4, 4-8, 8-12,
       >= 12 mm), in front of or behind the outline's centre */
    size_t over[PH_TISSUE_COUNT][4][2] = {{{0}}};
    size_t miss[4][2] = {{0}};
    for (int y = 0; y < N_PX; y++)
        for (int x = 0; x < N_PX; x++) {
            double u = -HALF_MM + (x + 0.5) * PX_MM;
            double v = HALF_MM - (y + 0.5) * PX_MM, g[3];
            for (int d = 0; d < 3; d++)
                g[d] = c[d] + u * lat[d] + v * ant[d];
            size_t i = (size_t)y * N_PX + (size_t)x;
            code[i] = ph_classify(m, g);
            double h = hu_at(vol, g);
            double t = isnan(h) ? 0 : (h - LO_HU) / (HI_HU - LO_HU);
            uint8_t grey = (uint8_t)lrint(255 * fmin(1, fmax(0, t)));
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey;
            /* even-odd point in polygon */
            int inside = 0;
            for (size_t a = 0, b = n - 1; a < n; b = a++)
                if ((ov[a] > v) != (ov[b] > v) &&
                    u < ou[b] + (v - ov[b]) * (ou[a] - ou[b]) / (ov[a] - ov[b]))
                    inside = !inside;
            in[i] = (uint8_t)inside;
            truth_px += is_canal(code[i]);
            traced_px += inside;
            int band = fabs(u) < 4 ? 0 : fabs(u) < 8 ? 1 : fabs(u) < 12 ? 2 : 3;
            if (inside && !is_canal(code[i]))
                over[ph_code_tissue(code[i])][band][v > 0]++;
            if (!inside && is_canal(code[i]))
                miss[band][v > 0]++;
            both_px += inside && is_canal(code[i]);
        }
    /* edges: any tissue change blue, the true canal green, the traced
       outline red (drawn last) */
    for (int y = 1; y + 1 < N_PX; y++)
        for (int x = 1; x + 1 < N_PX; x++) {
            size_t i = (size_t)y * N_PX + (size_t)x;
            size_t nb[2] = {i + 1, i + N_PX};
            uint8_t *o = &rgb[3 * i];
            for (int k = 0; k < 2; k++) {
                if (ph_code_tissue(code[i]) != ph_code_tissue(code[nb[k]]))
                    o[0] = 40, o[1] = 90, o[2] = 255;
                if (is_canal(code[i]) != is_canal(code[nb[k]]))
                    o[0] = 0, o[1] = 230, o[2] = 0;
            }
            for (int k = 0; k < 2; k++)
                if (in[i] != in[nb[k]])
                    o[0] = 255, o[1] = 30, o[2] = 30;
        }
    /* the measured outline's points in yellow */
    for (size_t a = 0; a < n; a++) {
        int x = (int)lrint((ou[a] + HALF_MM) / PX_MM - 0.5);
        int y = (int)lrint((HALF_MM - ov[a]) / PX_MM - 0.5);
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++)
                if (x + dx >= 0 && y + dy >= 0 && x + dx < N_PX &&
                    y + dy < N_PX) {
                    uint8_t *o = &rgb[3 * ((size_t)(y + dy) * N_PX +
                                           (size_t)(x + dx))];
                    o[0] = 255, o[1] = 220, o[2] = 0;
                }
    }
    double a2 = PX_MM * PX_MM;
    printf("    dump %s: true canal in this plane %.1f mm2, traced %.1f mm2, "
           "traced outside the truth %.1f, truth missed %.1f\n", path,
           (double)truth_px * a2, (double)traced_px * a2,
           (double)(traced_px - both_px) * a2,
           (double)(truth_px - both_px) * a2);
    static const char *bands[4] = {"|u|<4", "4-8", "8-12", ">=12"};
    printf("    traced outside the truth, mm2 (tissue: band front/back):");
    for (int t = 0; t < PH_TISSUE_COUNT; t++) {
        size_t sum = 0;
        for (int b = 0; b < 4; b++)
            sum += over[t][b][0] + over[t][b][1];
        if (sum * a2 < 0.05)
            continue;
        printf("\n      %-10s", ph_tissue_name((ph_tissue)t));
        for (int b = 0; b < 4; b++)
            printf(" %s %.1f/%.1f", bands[b], over[t][b][1] * a2,
                   over[t][b][0] * a2);
    }
    printf("\n      missed    ");
    for (int b = 0; b < 4; b++)
        printf(" %s %.1f/%.1f", bands[b], miss[b][1] * a2, miss[b][0] * a2);
    printf("\n");
    /* traced against true radius from the outline's centre, every 15
       degrees (0 = lateral +u, 90 = anterior) */
    printf("    ray deg: traced / true mm:");
    for (int k = 0; k < 24; k++) {
        double t = k * 15 * M_PI / 180, du = cos(t), dv = sin(t);
        double traced = NAN, truth = NAN;
        for (double r = 0; r < HALF_MM - 0.2; r += 0.05) {
            int x = (int)((r * du + HALF_MM) / PX_MM);
            int y = (int)((HALF_MM - r * dv) / PX_MM);
            size_t i = (size_t)y * N_PX + (size_t)x;
            if (isnan(traced) && !in[i])
                traced = r;
            if (isnan(truth) && !is_canal(code[i]))
                truth = r;
        }
        printf("%s %d: %.1f/%.1f", k % 8 ? "," : "\n     ", k * 15, traced,
               truth);
    }
    printf("\n");
    st = sp_png_write_rgb8(path, rgb, N_PX, N_PX, NULL, 0, err);
done:
    free(ou), free(m), free(rgb), free(code), free(in);
    return st;
}
