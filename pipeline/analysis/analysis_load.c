/* Load the largest series of a folder: what tests and the evaluation tool
 * need before any stage exists. */
#include "analysis_tools.h"

#include "spinepipe/dicom.h"

sp_status analysis_load_series(const char *dir, sp_volume *vol,
                               sp_error *err)
{
    sp_status st = sp_dicom_init(err);
    if (st != SP_OK)
        return st;
    sp_dicom_scan *scan = NULL;
    st = sp_dicom_scan_path(dir, NULL, &scan, err);
    if (st == SP_OK) {
        size_t best = 0;
        for (size_t s = 1; s < scan->n_series; s++)
            if (scan->series[s].n_slices > scan->series[best].n_slices)
                best = s;
        if (scan->n_series == 0)
            st = sp_error_set(err, SP_NOINPUT,
                              "%s: no DICOM image series found", dir);
        else
            st = sp_dicom_load_series(&scan->series[best], NULL, vol, err);
        sp_dicom_scan_free(scan);
    }
    sp_dicom_cleanup();
    return st;
}
