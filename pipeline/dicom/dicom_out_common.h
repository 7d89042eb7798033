// Helpers shared by the DICOM result writers (C++ only, internal).
#ifndef SPINEPIPE_DICOM_OUT_COMMON_H
#define SPINEPIPE_DICOM_OUT_COMMON_H

#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"

#include "spinepipe/error.h"

namespace spd_out {

extern const char kDisclaimer[];

// Read a source instance without its pixel data.
sp_status load_header(const char *path, DcmFileFormat &ff, sp_error *err);

// Copy the patient and study attributes (and the character set they are
// encoded in) from a source dataset, byte for byte; absent ones become
// empty (type 2).
bool copy_patient_study(DcmItem &from, DcmItem &to);

// Series identity of a result object: our UIDs, number, description,
// manufacturer, content date and time now.
bool set_series(DcmItem &ds, const char *series_uid, const char *sop_uid,
                int series_number, int instance_number,
                const std::string &description);

// Printable ASCII without backslash, at most max_len bytes.
std::string clean_text(const char *s, size_t max_len);

// Save as explicit little endian under a hidden temporary name in the same
// folder, fsync, rename onto out_path.
sp_status save_atomic(DcmFileFormat &ff, const char *out_path, sp_error *err);

} // namespace spd_out

#endif
