/* Fuzz target: the NIfTI-1 reader (sp_nifti_read), both as an image and
 * as a label map, on the input written to a file in memory (scratch.c):
 * as .nii, and, when the input starts with the gzip magic, as .nii.gz
 * (zlib inflates it). */
#include <stdlib.h>

#include "fuzz.h"
#include "spinepipe/volume.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    char *path = fuzz_write_file(gz ? "input.nii.gz" : "input.nii", data,
                                 size);
    if (!path)
        return 0;
    for (int labels = 0; labels < 2; labels++) {
        sp_error err;
        sp_volume vol;
        if (sp_nifti_read(path, labels, &vol, &err) == SP_OK)
            sp_volume_free(&vol);
    }
    free(path);
    return 0;
}
