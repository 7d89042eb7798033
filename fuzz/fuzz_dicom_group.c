/* Fuzz target: series grouping and sorting (spd_group) on records built
 * from the input, without files: each record takes its study, series,
 * orientation, position, spacing, matrix, acquisition/echo/temporal and
 * instance numbers from the bytes. Numbers are either small exact values
 * (so records collide, repeat and split the way real series do) or raw
 * doubles (NaN, infinities, denormals, huge values). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dicom/dicom_internal.h"
#include "fuzz.h"

#define MAX_RECORDS 512

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static uint8_t byte(reader *r)
{
    if (!r->left)
        return 0;
    r->left--;
    return *r->p++;
}

static double number(reader *r)
{
    uint8_t mode = byte(r);
    if (mode < 200)
        return ((double)(int8_t)byte(r)) * 0.5 + (mode % 4) * 0.01;
    double d = 0;
    uint8_t raw[8] = {0};
    for (int i = 0; i < 8; i++)
        raw[i] = byte(r);
    memcpy(&d, raw, sizeof d);
    return d;
}

/* Axial, sagittal, coronal, slightly tilted, or raw numbers. */
static void orientation(reader *r, double o[6])
{
    static const double known[4][6] = {{1, 0, 0, 0, 1, 0},
                                       {0, 1, 0, 0, 0, -1},
                                       {1, 0, 0, 0, 0, -1},
                                       {1, 0, 0, 0, 0.9998, -0.0175}};
    uint8_t k = byte(r);
    if (k < 240) {
        memcpy(o, known[k % 4], sizeof known[0]);
        return;
    }
    for (int i = 0; i < 6; i++)
        o[i] = number(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    spd_collect c;
    memset(&c, 0, sizeof c);
    for (int n = 0; r.left && n < MAX_RECORDS; n++) {
        spd_record rec;
        memset(&rec, 0, sizeof rec);
        uint8_t ids = byte(&r);
        snprintf(rec.header.study_uid, sizeof rec.header.study_uid,
                 "1.2.3.%u", ids & 1u);
        snprintf(rec.header.series_uid, sizeof rec.header.series_uid,
                 "1.2.3.%u.%u", ids & 1u, (ids >> 1) & 3u);
        rec.header.series_number = (ids >> 3) & 3;
        snprintf(rec.header.modality, sizeof rec.header.modality, "%s",
                 (ids & 0x20) ? "MR" : "CT");
        char path[32];
        snprintf(path, sizeof path, "f%04d.dcm", n);
        rec.path = path;
        uint8_t flags = byte(&r);
        rec.frame = flags & 3u;
        for (int i = 0; i < 3; i++)
            rec.position[i] = number(&r);
        orientation(&r, rec.orientation);
        rec.pixel_spacing[0] = (flags & 4) ? number(&r) : 0.5;
        rec.pixel_spacing[1] = (flags & 4) ? number(&r) : 0.5;
        rec.slice_thickness = (flags & 8) ? number(&r) : 0;
        rec.rows = 1u + byte(&r) % 4;
        rec.columns = 1u + byte(&r) % 4;
        rec.bits_allocated = (flags & 16) ? 8 : 16;
        rec.samples_per_pixel = 1;
        rec.rescale_slope = 1;
        rec.rescale_intercept = (flags & 32) ? number(&r) : -1024;
        uint8_t split = byte(&r);
        rec.acquisition = (split & 3) == 3 ? -1 : (int)(split & 3);
        rec.echo = ((split >> 2) & 3) == 3 ? -1 : (int)((split >> 2) & 3);
        rec.temporal = ((split >> 4) & 3) == 3 ? -1 : (int)((split >> 4) & 3);
        rec.instance = (flags & 64) ? (int)(int8_t)byte(&r) : n + 1;
        snprintf(rec.transfer_syntax, sizeof rec.transfer_syntax,
                 "1.2.840.10008.1.2.1");
        if (spd_collect_record(&c, &rec) != SP_OK)
            break;
    }
    sp_error err;
    sp_dicom_scan *scan = NULL;
    if (spd_group(&c, &scan, &err) == SP_OK)
        sp_dicom_scan_free(scan);
    return 0;
}
