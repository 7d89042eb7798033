/* Fuzz target: one DICOM file through the reader. The input is written
 * to a file in memory (/dev/shm, see scratch.c) because the wrapper reads
 * through DCMTK's file API; then the header scan and grouping
 * (sp_dicom_scan_path), the volume load (sp_dicom_load_series, with a
 * small memory budget) and, for files the scan refuses, the pixel decoder
 * directly (spd_pixels_open/frame): uncompressed, deflate, RLE, JPEG,
 * JPEG-LS (DCMTK) and JPEG 2000/HTJ2K (OpenJPEG), whichever syntax the
 * input names. Only our own code is instrumented for coverage; DCMTK and
 * OpenJPEG run uninstrumented (Debian's builds), so the fuzzer is guided
 * by our wrapper's branches, not DCMTK's parser. */
#include <stdlib.h>

#include "dicom/dicom_internal.h"
#include "fuzz.h"

/* Enough for every seed; keeps a hostile header from costing gigabytes. */
#define FUZZ_MAX_BYTES ((size_t)64 << 20)
#define FUZZ_MAX_FRAMES 4u

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sp_error err;
    if (sp_dicom_init(&err) != SP_OK)
        abort();
    atexit(sp_dicom_cleanup);
    return 0;
}

static void decode_directly(const char *path)
{
    sp_error err;
    spd_pixels *px = NULL;
    if (spd_pixels_open(path, 0, 0, &px, &err) != SP_OK)
        return;
    uint32_t rows = 0, columns = 0, frames = 0;
    spd_pixels_size(px, &rows, &columns, &frames);
    size_t plane = (size_t)rows * columns;
    float *out = plane && plane * sizeof(float) <= FUZZ_MAX_BYTES
                     ? malloc(plane * sizeof(float))
                     : NULL;
    for (uint32_t f = 0; out && f < frames && f < FUZZ_MAX_FRAMES; f++)
        if (spd_pixels_frame(px, f, 1.0, 0.0, out, &err) != SP_OK)
            break;
    free(out);
    spd_pixels_close(px);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_write_file("input.dcm", data, size);
    if (!path)
        return 0;
    sp_error err;
    sp_dicom_scan *scan = NULL;
    if (sp_dicom_scan_path(path, NULL, &scan, &err) == SP_OK) {
        sp_dicom_load_options lo = {.max_bytes = FUZZ_MAX_BYTES};
        for (size_t i = 0; i < scan->n_series; i++) {
            sp_volume vol;
            if (sp_dicom_load_series(&scan->series[i], &lo, &vol, &err) ==
                SP_OK)
                sp_volume_free(&vol);
        }
        if (scan->n_series == 0)
            decode_directly(path);
        sp_dicom_scan_free(scan);
    }
    free(path);
    return 0;
}
