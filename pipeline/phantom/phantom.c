/* Writing a phantom: the DICOM series, the label map and truth.json. */
#include "phantom/phantom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/output.h"
#include "phantom/rng.h"
#include "spinepipe/dicom.h"
#include "spinepipe/version.h"

/* A UID under the 2.25 root (PS3.5 B.2: a 128-bit number in decimal),
 * hashed from the seed and `what`, so regenerating gives the same UIDs. */
static void derived_uid(uint64_t seed, const char *what, char out[65])
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over `what` */
    for (const char *c = what; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
    uint64_t hi = ph_splitmix64(seed ^ ph_splitmix64(h));
    uint64_t lo = ph_splitmix64(hi ^ h);
    unsigned __int128 x = ((unsigned __int128)(hi | 1ULL << 63) << 64) | lo;
    char digits[48];
    int n = 0;
    while (x > 0) {
        digits[n++] = (char)('0' + (int)(x % 10));
        x /= 10;
    }
    int len = snprintf(out, 65, "2.25.");
    while (n > 0 && len < 64)
        out[len++] = digits[--n];
    out[len] = '\0';
}

static void fill_header(const sp_phantom_params *p, sp_dicom_header *h)
{
    static const char *const planes[] = {"axial", "sagittal", "oblique"};
    memset(h, 0, sizeof *h);
    int mr = p->modality == SP_PHANTOM_MR;
    snprintf(h->modality, sizeof h->modality, "%s", mr ? "MR" : "CT");
    snprintf(h->patient_name, sizeof h->patient_name, "PHANTOM^LUMBAR");
    snprintf(h->patient_id, sizeof h->patient_id, "SPINEPIPE-PHANTOM-%llu",
             (unsigned long long)p->seed);
    snprintf(h->study_id, sizeof h->study_id, "1");
    snprintf(h->study_date, sizeof h->study_date, "20250101");
    snprintf(h->study_description, sizeof h->study_description,
             "spinepipe synthetic lumbar spine phantom");
    char desc[65];
    if (p->plane == SP_PHANTOM_OBLIQUE)
        snprintf(desc, sizeof desc, "Phantom %s oblique %.1f deg %.2g mm",
                 mr ? "T2" : "CT", p->tilt_deg, p->slice_mm);
    else
        snprintf(desc, sizeof desc, "Phantom %s %s %.2g mm", mr ? "T2" : "CT",
                 planes[p->plane], p->slice_mm);
    snprintf(h->series_description, sizeof h->series_description, "%s", desc);
    snprintf(h->protocol_name, sizeof h->protocol_name, "%s", desc);
    h->series_number = p->series_number > 0 ? p->series_number : (mr ? 2 : 1);
    snprintf(h->body_part, sizeof h->body_part, "LSPINE");
    snprintf(h->manufacturer, sizeof h->manufacturer, "spinepipe phantom");
    snprintf(h->manufacturer_model, sizeof h->manufacturer_model,
             "spinepipe %s", SPINEPIPE_VERSION);
    if (mr) {
        snprintf(h->sequence_name, sizeof h->sequence_name, "SE");
        h->echo_time_ms = 100;
        h->repetition_time_ms = 4000;
        h->window_center = 500;
        h->window_width = 1000;
    } else {
        h->window_center = 50;
        h->window_width = 400;
    }
    h->has_window = 1;
    derived_uid(p->seed, "study", h->study_uid);
    derived_uid(p->seed, "frame of reference", h->frame_of_reference_uid);
    char what[160];
    snprintf(what, sizeof what, "series %s %d %.6g %zu %zu %.6g %.6g %.6g %.6g %.6g",
             h->modality, (int)p->plane, p->tilt_deg, p->matrix, p->slices,
             p->pixel_mm, p->slice_mm, p->center_lps[0], p->center_lps[1],
             p->center_lps[2]);
    derived_uid(p->seed, what, h->series_uid);
}

static sp_status write_json_atomically(json_t *j, const char *path,
                                       sp_error *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return sp_error_set(err, SP_NOMEM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sp_status st = sp_error_set(err, SP_CANTCREATE, "%s: cannot create: %s",
                                    path, strerror(errno));
        free(tmp);
        return st;
    }
    sp_status st = SP_OK;
    if (json_dumpfd(j, fd, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
        write(fd, "\n", 1) != 1)
        st = sp_error_set(err, SP_IO, "%s: cannot write", path);
    if (close(fd) != 0 && st == SP_OK)
        st = sp_error_set(err, SP_IO, "%s: cannot write: %s", path,
                          strerror(errno));
    if (st == SP_OK && rename(tmp, path) != 0)
        st = sp_error_set(err, SP_IO, "%s: cannot rename into place: %s", path,
                          strerror(errno));
    if (st != SP_OK)
        unlink(tmp);
    free(tmp);
    return st;
}

sp_status sp_phantom_write(const sp_phantom_params *p, const char *out_dir,
                           sp_error *err)
{
    sp_volume image, labels;
    sp_status st = sp_phantom_render(p, &image, &labels, err);
    json_t *truth = NULL;
    char *dicom = sp_path_joined(out_dir, "dicom");
    char *nifti = sp_path_joined(out_dir, "truth_labels.nii.gz");
    char *json = sp_path_joined(out_dir, "truth.json");
    if (st == SP_OK && (!dicom || !nifti || !json))
        st = sp_error_set(err, SP_NOMEM, "out of memory");
    if (st == SP_OK)
        st = sp_phantom_truth(p, &image, &truth, err);
    if (st == SP_OK) {
        sp_dicom_header h;
        fill_header(p, &h);
        /* The writer creates out_dir/dicom and its parents. */
        st = sp_dicom_write_series(&image, &h, dicom, err);
    }
    if (st == SP_OK)
        st = sp_nifti_write(&labels, nifti, err);
    if (st == SP_OK)
        st = write_json_atomically(truth, json, err);
    json_decref(truth);
    free(dicom);
    free(nifti);
    free(json);
    sp_volume_free(&image);
    sp_volume_free(&labels);
    return st;
}
