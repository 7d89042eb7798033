/* evaluate-mr: run the MR sagittal T2 kernels on the shared real series
 * and print what they get right against the reference segmentations, and
 * the per-level measurements. The numbers in docs/accuracy.md ("## MR")
 * come from this command:
 *
 *   build/tools/evaluate-mr/evaluate-mr [--data DIR] [--png DIR]
 *
 * --data: the shared data folder (default: ../shared/data beside the
 * source tree); --phantom DIR: also score an MR phantom made by
 * `spinepipe phantom --modality MR --output DIR` (branch phantom; DIR holds
 * dicom/ and truth.json, or give sample_dicom/mr-t2-sagittal and its
 * sample_truth folder as DIR:TRUTHDIR); --png: write a mid-sagittal picture of each series there
 * (default /tmp). Exit status 0 when every series ran, 1 otherwise. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_tools.h"
#include "mr_chain.h"
#include "output/output.h"
#include "spinepipe/labels.h"

/* Load a series and run the chain; prints and returns 0 on failure. */
static int run(const char *data, const char *series, const char *lowest,
               int cervical, sp_volume *raw, mr_chain *c)
{
    char *dir = sp_path_joined(data, series);
    sp_error err;
    int ok = dir && analysis_load_series(dir, raw, &err) == SP_OK &&
             mr_chain_run(raw, lowest, cervical, c, &err) == SP_OK;
    if (!ok)
        printf("%-28s FAILED: %s\n", series, dir ? err.message : "no memory");
    free(dir);
    return ok;
}

/* Reference labels brought to the chain's canonical layout */
static int reference(const char *data, const char *rel, const mr_chain *c,
                     sp_volume *ref)
{
    char *p = sp_path_joined(data, rel);
    sp_volume r = {0};
    sp_error err;
    int ok = p && sp_nifti_read(p, 1, &r, &err) == SP_OK &&
             analysis_reorient(&r, &c->axes, ref, &err) == SP_OK;
    if (!ok)
        printf("  reference %s: %s\n", rel, p ? err.message : "no memory");
    free(p);
    sp_volume_free(&r);
    return ok;
}

/* The series' slices (file layout, k) that were acquired rather than
 * interpolated between their neighbours */
static void acquired_planes(const sp_volume *raw)
{
    size_t nz = raw->dim[2], n = 0;
    uint8_t *acq = malloc(nz ? nz : 1);
    sp_error err;
    if (!acq || mr_acquired_planes(raw, acq, &n, &err) != SP_OK) {
        printf("  acquired planes: failed\n");
        free(acq);
        return;
    }
    printf("  acquired slices %zu of %zu", n, nz);
    if (n < nz) {
        printf(" (the others linear interpolations):");
        for (size_t k = 0; k < nz; k++)
            if (acq[k])
                printf(" %zu", k);
    }
    printf("\n");
    free(acq);
}

static void picture(const mr_chain *c, const char *png, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/evaluate-mr-%s.png", png, name);
    sp_error err;
    if (analysis_debug_png(&c->t2, &c->labels, c->info.mid_i, 250, 500,
                           path, &err) == SP_OK)
        printf("  picture: %s\n", path);
    else
        printf("  picture: %s\n", err.message);
}

static void levels_table(const mr_chain *c)
{
    printf("  %-8s %8s %8s %6s %9s %5s %8s\n", "level", "canalAP", "discH",
           "DHI", "disc/CSF", "grade", "displ");
    for (size_t q = c->spine.n_disc; q-- > 0;) {
        const mrlevel_measure *m = &c->level[q];
        char name[32] = "?";
        if (m->vert_above)
            sp_label_disc_level_name(m->vert_above, 0, name, sizeof name);
        printf("  %-8s %6.1fmm %6.1fmm %6.2f %9.2f %5d %6.1fmm %s\n", name,
               m->canal_ap_mm, m->disc_height_mm, m->dhi, m->disc_csf_ratio,
               m->grade, m->displacement_mm, m->displacement_position);
    }
}

/* Axial series: canal area and AP per slice (not assigned to levels:
 * the slab is too short to find discs in) */
static void sections(const mr_chain *c)
{
    size_t nz = c->canal.dim[2];
    double *area = malloc(nz * sizeof *area), *ap = malloc(nz * sizeof *ap);
    sp_error err;
    if (!area || !ap || mr_canal_sections(&c->canal, &c->t2, c->info.csf_level, area,
                                       ap, &err) != SP_OK) {
        printf("  sections: failed\n");
    } else {
        printf("  per slice (feet to head): area mm2 / AP mm\n  ");
        for (size_t k = 0; k < nz; k++)
            printf("%.0f/%.0f%s", area[k], ap[k],
                   k + 1 < nz ? (k % 8 == 7 ? "\n  " : "  ") : "\n");
    }
    free(area), free(ap);
}

/* Fraction of reference voxels equal to `lab` (any nonzero when < 0)
 * inside the canal */
static double inside(const sp_volume *ref, int lab, const sp_volume *canal,
                     size_t *count)
{
    const uint16_t *r = ref->data;
    const uint8_t *m = canal->data;
    size_t in = 0, n = 0;
    for (size_t t = 0; t < sp_volume_count(ref); t++)
        if (lab < 0 ? r[t] != 0 : r[t] == lab) {
            n++;
            in += m[t];
        }
    *count = n;
    return n ? (double)in / (double)n : -1;
}

/* The reference dural sac (canal CSF 61 and cord 60 of seg-subreg) AP
 * where we measured each level: its longest run along j in our slice and
 * plane */
static void reference_ap(const mr_chain *c, const sp_volume *sub)
{
    const uint16_t *r = sub->data;
    for (size_t q = c->spine.n_disc; q-- > 0;) {
        const mrlevel_measure *m = &c->level[q];
        size_t i = (size_t)m->ap_i, k = (size_t)m->ap_k, run = 0, best = 0;
        if (i >= sub->dim[0] || k >= sub->dim[2])
            continue;
        for (size_t j = 0; j < sub->dim[1]; j++) {
            uint16_t v = r[sp_volume_index(sub, i, j, k)];
            run = v == 60 || v == 61 ? run + 1 : 0;
            best = run > best ? run : best;
        }
        char name[32] = "?";
        if (m->vert_above)
            sp_label_disc_level_name(m->vert_above, 0, name, sizeof name);
        printf("  %s canal AP %.1f mm, reference (labels 60+61) %.1f mm "
               "in the same slice and plane\n", name, m->canal_ap_mm,
               (double)best * sub->spacing[1]);
    }
}

/* Dice of our sac (canal 201 and what the AP takes in behind it, 202)
 * against the reference sac (seg-subreg: cord 60, canal CSF 61) */
static double sac_dice(const sp_volume *ours, const sp_volume *sub)
{
    const uint16_t *a = ours->data, *b = sub->data;
    size_t na = 0, nb = 0, both = 0;
    for (size_t t = 0; t < sp_volume_count(ours); t++) {
        int x = a[t] == SP_LABEL_CANAL || a[t] == SP_LABEL_CORD;
        int y = b[t] == 60 || b[t] == 61;
        na += (size_t)x, nb += (size_t)y, both += (size_t)(x && y);
    }
    return na + nb ? 2.0 * (double)both / (double)(na + nb) : 0;
}

static int crop_c5_c7(const char *data, const char *png)
{
    const char *s = "spine/mr-cervical-c5-c7-sag-crop";
    sp_volume raw = {0}, sub = {0}, vert = {0};
    mr_chain c;
    char path[256];
    snprintf(path, sizeof path, "%s/dicom", s);
    if (!run(data, path, "C6", 1, &raw, &c))
        return 0;
    printf("%s (lowest vertebra given: C6)\n", s);
    acquired_planes(&raw);
    int ok = reference(data, "spine/mr-cervical-c5-c7-sag-crop/labels/"
                       "sub-mri_seg-subreg_label-6_msk.nii.gz", &c, &sub) &&
             reference(data, "spine/mr-cervical-c5-c7-sag-crop/labels/"
                       "sub-mri_seg-vert_label-6_msk.nii.gz", &c, &vert);
    if (ok) {
        double d = analysis_dice_labels(&c.labels, SP_LABEL_CANAL, &sub, 61);
        printf("  canal Dice vs label 61          %.3f   (target >= 0.80)\n",
               d);
        printf("  sac (canal 201 + cord/roots behind it 202) Dice vs "
               "labels 60 + 61  %.3f\n", sac_dice(&c.labels, &sub));
        static const int disc[2] = {105, 106};
        for (int q = 0; q < 2; q++)
            printf("  disc %s Dice vs seg-vert %d  %.3f   (target >= 0.70)\n",
                   q ? "C6-C7" : "C5-C6", disc[q],
                   analysis_dice_labels(&c.labels, disc[q], &vert, disc[q]));
        for (int v = 5; v <= 7; v++)
            printf("  C%d body Dice vs whole vertebra  %.3f\n", v,
                   analysis_dice_labels(&c.labels, v, &vert, v));
        levels_table(&c);
        reference_ap(&c, &sub);
        picture(&c, png, "c5-c7");
    }
    /* the C2 cue must not name a crop that shows no C2 */
    sp_volume raw2 = {0};
    mr_chain c2;
    if (ok && run(data, path, NULL, 1, &raw2, &c2)) {
        printf("  without the lowest vertebra: %s\n",
               c2.labelled ? "levels named (wrongly: no C2 in the crop)"
                           : c2.label_note);
        ok = !c2.labelled;
        mr_chain_free(&c2);
    }
    sp_volume_free(&raw2);
    sp_volume_free(&raw), sp_volume_free(&sub), sp_volume_free(&vert);
    mr_chain_free(&c);
    return ok;
}

/* Axial series: the discs our sagittal disc finder sees along the slab
 * against the manual disc points (labels-disc-manual: value 3 is the
 * C2-C3 disc, the Spinal Cord Toolbox convention) */
static void axial_discs(const char *data, const char *s, const mr_chain *c)
{
    char path[256];
    snprintf(path, sizeof path, "%s/labels/sub-unf01_T2w_labels-disc-manual"
             ".nii.gz", s);
    sp_volume ref = {0};
    if (!reference(data, path, c, &ref))
        return;
    const uint16_t *r = ref.data;
    for (size_t t = 0; t < sp_volume_count(&ref); t++)
        if (r[t])
            printf("  reference disc point %u at plane %zu of %zu\n", r[t],
                   t / (ref.dim[0] * ref.dim[1]), ref.dim[2]);
    printf("  our discs along the slab (level spacing %.0f mm):",
           c->spine.level_mm);
    for (size_t q = 0; q < c->spine.n_disc; q++)
        printf(" plane %.1f", c->spine.disc[q].k);
    printf("%s\n", c->spine.n_disc ? "" : " none");
    /* what an axial disc finder would have to go on: the signal 6-14 mm
     * in front of the canal's front wall (mid-line +-4 mm) in each
     * acquired slice */
    size_t nz = c->t2.dim[2], n;
    uint8_t *acq = malloc(nz);
    sp_error err;
    if (acq && mr_acquired_planes(&c->t2, acq, &n, &err) == SP_OK) {
        const float *im = c->t2.data;
        const uint8_t *m = c->canal.data;
        long hs = lround(4.0 / c->t2.spacing[0]);
        long j0 = lround(6.0 / c->t2.spacing[1]),
             j1 = lround(14.0 / c->t2.spacing[1]);
        printf("  signal 6-14 mm in front of the canal, acquired slices:");
        for (size_t k = 0; k < nz; k++) {
            long wall = -1;
            for (size_t j = 0; j < c->t2.dim[1] && wall < 0; j++)
                if (m[sp_volume_index(&c->canal, c->info.mid_i, j, k)])
                    wall = (long)j;
            if (!acq[k] || wall < 0)
                continue;
            double sum = 0;
            int cnt = 0;
            for (long di = -hs; di <= hs; di++)
                for (long dj = j0; dj <= j1; dj++) {
                    long i = (long)c->info.mid_i + di, j = wall - dj;
                    if (i < 0 || j < 0 || i >= (long)c->t2.dim[0])
                        continue;
                    sum += im[sp_volume_index(&c->t2, (size_t)i, (size_t)j,
                                              k)];
                    cnt++;
                }
            printf(" %zu: %.0f", k, cnt ? sum / cnt : 0.0);
        }
        printf("\n");
    }
    free(acq);
    sp_volume_free(&ref);
}

/* Cord labelled by vertebral level (value = vertebra, C2 = 2): the
 * boundary between levels v and v + 1 (mid-way between the lowest plane
 * of v and the highest of v + 1, canonical k) against our disc below v. */
static void level_agreement(const char *data, const char *rel,
                            const mr_chain *c)
{
    sp_volume ref = {0};
    if (!reference(data, rel, c, &ref))
        return;
    const uint16_t *r = ref.data;
    long lo[32], hi[32];
    for (int v = 0; v < 32; v++)
        lo[v] = LONG_MAX, hi[v] = -1;
    for (size_t t = 0; t < sp_volume_count(&ref); t++)
        if (r[t] > 0 && r[t] < 32) {
            long k = (long)(t / (ref.dim[0] * ref.dim[1]));
            lo[r[t]] = k < lo[r[t]] ? k : lo[r[t]];
            hi[r[t]] = k > hi[r[t]] ? k : hi[r[t]];
        }
    for (size_t q = 0; q < c->spine.n_disc; q++) {
        int va = c->spine.disc[q].vert_above;
        int v = va - SP_LABEL_C1 + 1; /* labels.h C1 = 1 */
        if (!va || v < 1 || v >= 31 || hi[v] < 0 || hi[v + 1] < 0)
            continue;
        double b = 0.5 * ((double)lo[v] + (double)hi[v + 1]);
        char name[32];
        sp_label_disc_level_name(va, 0, name, sizeof name);
        printf("  %s: our disc %.1f mm from the labelled cord's level "
               "boundary\n", name,
               fabs(c->spine.disc[q].k - b) * c->t2.spacing[2]);
    }
    sp_volume_free(&ref);
}

static int cord_series(const char *data, const char *png, const char *s,
                       const char *cord, const char *name)
{
    sp_volume raw = {0}, ref = {0};
    mr_chain c;
    char path[256];
    snprintf(path, sizeof path, "%s/dicom", s);
    if (!run(data, path, NULL, 1, &raw, &c))
        return 0;
    printf("%s (%s)\n", s, sp_orientation_name(sp_volume_orientation(&raw)));
    acquired_planes(&raw);
    snprintf(path, sizeof path, "%s/labels/%s", s, cord);
    int ok = reference(data, path, &c, &ref);
    if (ok) {
        size_t n;
        double f = inside(&ref, -1, &c.canal, &n);
        printf("  manual cord inside our canal    %.3f of %zu voxels "
               "(target >= 0.95)\n", f, n);
        if (sp_volume_orientation(&raw) == SP_ORIENT_AXIAL) {
            sections(&c);
            axial_discs(data, s, &c);
        } else {
            if (!c.labelled)
                printf("  levels not named: %s\n", c.label_note);
            else
                printf("  levels %s\n", c.label_note);
            levels_table(&c);
            snprintf(path, sizeof path, "%s/labels/t2_seg-manual_labeled.nii.gz",
                     s);
            if (c.labelled && strstr(s, "cervical-t2-sag"))
                level_agreement(data, path, &c);
        }
        picture(&c, png, name);
    }
    sp_volume_free(&raw), sp_volume_free(&ref);
    mr_chain_free(&c);
    return ok;
}

static int lumbar(const char *data, const char *png)
{
    const char *s = "spine/mr-lumbar-t2-sag/dicom";
    sp_volume raw = {0};
    mr_chain c;
    if (!run(data, s, NULL, 0, &raw, &c))
        return 0;
    printf("spine/mr-lumbar-t2-sag (no reference: check the picture)\n");
    acquired_planes(&raw);
    printf("  %zu discs, level spacing %.0f mm, %s\n", c.spine.n_disc,
           c.spine.level_mm,
           c.labelled ? "counted up from the sacrum" : c.label_note);
    levels_table(&c);
    picture(&c, png, "lumbar");
    sp_volume_free(&raw);
    mr_chain_free(&c);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Our disc nearest (head-feet) to each truth level; canal AP error. */
static int phantom(const char *arg, const char *png)
{
    char dicom[1024], truth[1024];
    const char *colon = strchr(arg, ':');
    if (colon) {
        snprintf(dicom, sizeof dicom, "%.*s", (int)(colon - arg), arg);
        snprintf(truth, sizeof truth, "%s/truth.json", colon + 1);
    } else {
        snprintf(dicom, sizeof dicom, "%s/dicom", arg);
        snprintf(truth, sizeof truth, "%s/truth.json", arg);
    }
    sp_volume raw = {0};
    mr_chain c;
    sp_error err;
    if (analysis_load_series(dicom, &raw, &err) != SP_OK ||
        mr_chain_run(&raw, NULL, 0, &c, &err) != SP_OK) {
        printf("phantom %s FAILED: %s\n", dicom, err.message);
        sp_volume_free(&raw);
        return 0;
    }
    json_error_t jerr;
    json_t *root = json_load_file(truth, 0, &jerr);
    json_t *levels = root ? json_object_get(root, "levels") : NULL;
    if (!json_is_array(levels)) {
        printf("phantom %s: no levels (%s)\n", truth, jerr.text);
        json_decref(root);
        sp_volume_free(&raw);
        mr_chain_free(&c);
        return 0;
    }
    printf("MR phantom %s (%zu discs found, %s)\n", dicom, c.spine.n_disc,
           c.labelled ? "counted from the sacrum" : c.label_note);
    printf("  %-8s %8s %8s %8s %8s %8s %9s %9s\n", "level", "truthAP",
           "ourAP", "error", "truthH", "ourH", "truthDsp", "ourDsp");
    size_t n = json_array_size(levels), ne = 0;
    double *errs = calloc(n ? n : 1, sizeof *errs);
    for (size_t q = 0; errs && q < n; q++) {
        json_t *l = json_array_get(levels, q);
        json_t *cen = json_object_get(l, "disc_centre_mm");
        const char *name = json_string_value(json_object_get(l, "level"));
        double ap = json_number_value(json_object_get(l, "canal_ap_mm"));
        double h = json_number_value(json_object_get(l, "disc_height_mm"));
        double dsp = json_number_value(
            json_object_get(l, "posterior_displacement_mm"));
        const char *where =
            json_string_value(json_object_get(l, "herniation_position"));
        if (json_array_size(cen) != 3 || !name)
            continue;
        double lps[3], ijk[3];
        for (int a = 0; a < 3; a++)
            lps[a] = json_number_value(json_array_get(cen, (size_t)a));
        if (sp_volume_patient_to_voxel(&c.t2, lps, ijk) != SP_OK)
            continue;
        size_t best = SIZE_MAX;
        double bd = 1e9;
        for (size_t d = 0; d < c.spine.n_disc; d++) {
            double dist = fabs(c.spine.disc[d].k - ijk[2]) * c.t2.spacing[2];
            if (dist < bd)
                bd = dist, best = d;
        }
        if (best == SIZE_MAX || bd > 10) {
            printf("  %-8s %6.1fmm   not found\n", name, ap);
            continue;
        }
        const mrlevel_measure *m = &c.level[best];
        char ours[32] = "?";
        if (m->vert_above)
            sp_label_disc_level_name(m->vert_above, 0, ours, sizeof ours);
        errs[ne++] = fabs(m->canal_ap_mm - ap);
        printf("  %-8s %6.1fmm %6.1fmm %6.1fmm %6.1fmm %6.1fmm %7.1fmm "
               "%7.1fmm  (ours: %s, %.1f mm away)\n", name, ap,
               m->canal_ap_mm, m->canal_ap_mm - ap, h, m->disc_height_mm,
               dsp, m->displacement_mm, ours, bd);
        if (where || m->displacement_position[0])
            printf("  %-8s displacement position: truth %s, ours %s\n", "",
                   where ? where : "none",
                   m->displacement_position[0] ? m->displacement_position
                                               : "none");
    }
    if (ne) {
        qsort(errs, ne, sizeof *errs, cmp_double);
        printf("  canal AP |error| median %.2f mm over %zu levels (target "
               "<= 0.5 mm)\n", ne % 2 ? errs[ne / 2]
                                    : 0.5 * (errs[ne / 2 - 1] + errs[ne / 2]),
               ne);
    }
    picture(&c, png, "phantom");
    free(errs);
    json_decref(root);
    sp_volume_free(&raw);
    mr_chain_free(&c);
    return ne > 0;
}

int main(int argc, char **argv)
{
    const char *data = SPINEPIPE_DEFAULT_DATA, *png = "/tmp", *ph = NULL;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--data") && a + 1 < argc)
            data = argv[++a];
        else if (!strcmp(argv[a], "--phantom") && a + 1 < argc)
            ph = argv[++a];
        else if (!strcmp(argv[a], "--png") && a + 1 < argc)
            png = argv[++a];
        else {
            fprintf(stderr, "usage: evaluate-mr [--data DIR] [--png DIR] "
                            "[--phantom DIR|DICOMDIR:TRUTHDIR]\n");
            return 2;
        }
    }
    int ok = crop_c5_c7(data, png);
    ok &= cord_series(data, png, "spine/mr-cervical-t2-sag",
                      "t2_seg-manual.nii.gz", "cervical-sag");
    ok &= cord_series(data, png, "spine/mr-cervical-t2-axial",
                      "sub-unf01_T2w_seg-manual.nii.gz", "cervical-axial");
    ok &= lumbar(data, png);
    if (ph)
        ok &= phantom(ph, png);
    return ok ? 0 : 1;
}
