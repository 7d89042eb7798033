/* See dicom_module.h: the loader, and the core's functions that forward
 * to the module. */
#include "dicom_module.h"

#include "engine/module.h"

static sp_module module = SP_MODULE(
    "SPINEPIPE_DCMTK_MODULE", SPD_DCMTK_FILE, SPD_DCMTK_SYMBOL, SPD_DCMTK_ABI,
    spd_dcmtk_api, "DCMTK module",
    "DICOM files other than plain explicit VR little endian, the series "
    "writer",
    SP_CONFIG);

const spd_dcmtk_api *spd_dcmtk(sp_error *err)
{
    return sp_module_get(&module, err);
}

const spd_dcmtk_api *spd_dcmtk_loaded(void)
{
    return sp_module_loaded(&module);
}

sp_status spd_dictionary_ready(sp_error *err)
{
    const spd_dcmtk_api *t = spd_dcmtk(err);
    return t ? t->dictionary_ready(err) : SP_CONFIG;
}

sp_status spd_pixels_open(const char *file, uint32_t rows, uint32_t columns,
                          spd_pixels **px, sp_error *err)
{
    *px = NULL;
    const spd_dcmtk_api *t = spd_dcmtk(err);
    return t ? t->pixels_open(file, rows, columns, px, err) : SP_CONFIG;
}

/* An open spd_pixels exists only once the module is loaded. */
void spd_pixels_size(const spd_pixels *px, uint32_t *rows, uint32_t *columns,
                     uint32_t *frames)
{
    spd_dcmtk_loaded()->pixels_size(px, rows, columns, frames);
}

sp_status spd_pixels_frame(spd_pixels *px, uint32_t frame, double slope,
                           double intercept, float *out, sp_error *err)
{
    return spd_dcmtk_loaded()->pixels_frame(px, frame, slope, intercept, out,
                                            err);
}

void spd_pixels_close(spd_pixels *px)
{
    if (px)
        spd_dcmtk_loaded()->pixels_close(px);
}

sp_status sp_dicom_write_series(const sp_volume *vol,
                                const sp_dicom_header *header,
                                const char *dir, sp_error *err)
{
    const spd_dcmtk_api *t = spd_dcmtk(err);
    return t ? t->write_series(vol, header, dir, err) : SP_CONFIG;
}
