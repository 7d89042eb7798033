/* The DCMTK module's one exported symbol (dicom_module.h). */
#include "dicom_module.h"

/* Found by dlsym only; declared here for -Wmissing-variable-declarations. */
extern const spd_dcmtk_api spd_dcmtk_table;

const spd_dcmtk_api spd_dcmtk_table = {
    .size = sizeof(spd_dcmtk_api),
    .abi = SPD_DCMTK_ABI,
    .dictionary_ready = spd_dcmtk_dictionary_ready,
    .cleanup = spd_dcmtk_cleanup,
    .read_header = spd_dcmtk_read_header,
    .pixels_open = spd_dcmtk_pixels_open,
    .pixels_size = spd_dcmtk_pixels_size,
    .pixels_frame = spd_dcmtk_pixels_frame,
    .pixels_close = spd_dcmtk_pixels_close,
    .write_series = spd_dcmtk_write_series,
};
