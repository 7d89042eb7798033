// sp_dicom_scan_path: walk, read headers, group.
#include "dicom_internal.h"

namespace {

sp_status visit(const char *file, void *ctx)
{
    return spd_read_header(file, static_cast<spd_collect *>(ctx));
}

} // namespace

extern "C" sp_status sp_dicom_scan_path(const char *path,
                                        const sp_dicom_scan_options *options,
                                        sp_dicom_scan **scan, sp_error *err)
{
    if (!scan)
        return sp_error_set(err, SP_INTERNAL, "sp_dicom_scan_path: no result "
                                              "pointer");
    *scan = nullptr;
    if (!path || !*path)
        return sp_error_set(err, SP_USAGE, "no DICOM path given");
    if (!spd_initialised())
        return sp_error_set(err, SP_INTERNAL,
                            "sp_dicom_init was not called before scanning %s",
                            path);
    spd_collect c = {};
    sp_status st;
    try {
        st = spd_walk(path, options, &c, visit, &c, err);
    } catch (...) {
        st = sp_error_set(err, SP_INTERNAL, "%s: unexpected error while "
                                            "scanning",
                          path);
    }
    if (st != SP_OK) {
        spd_collect_free(&c);
        return st;
    }
    return spd_group(&c, scan, err);
}
