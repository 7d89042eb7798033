/* The DCMTK module, spinepipe-dcmtk.so: every part of the DICOM reader and
 * writer that calls DCMTK's libraries (dcmdata, its codecs, oflog). A
 * plain series (explicit VR little endian, one frame per file, values the
 * pre-scan reads with certainty) is scanned and decoded without it
 * (dicom_header.cc, dicom_direct.c), so a process that reads only such
 * series never maps DCMTK nor the libraries DCMTK pulls in (libxml2, ICU),
 * and does not pay their load-time relocations. Everything else
 * (compressed and implicit VR files, enhanced multi-frame, DICOMDIR
 * fallbacks, the series writer) loads it on first use through the core's
 * functions of the same names (dicom_module.c).
 * Found at $SPINEPIPE_DCMTK_MODULE when set (a file path), else like the
 * on-demand module (engine/module.h). */
#ifndef SPINEPIPE_DICOM_MODULE_H
#define SPINEPIPE_DICOM_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "dicom_internal.h"
#include "dicom_prescan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPD_DCMTK_FILE "spinepipe-dcmtk.so"
#define SPD_DCMTK_SYMBOL "spd_dcmtk_table"
#define SPD_DCMTK_ABI 1

typedef struct spd_dcmtk_api {
    size_t size; /* sizeof(spd_dcmtk_api) of the module's build */
    int abi;     /* SPD_DCMTK_ABI */
    sp_status (*dictionary_ready)(sp_error *err);
    void (*cleanup)(void);
    int (*read_header)(const char *file, const spd_pixel_loc *loc,
                       spd_collect *c, spd_skip *skip);
    sp_status (*pixels_open)(const char *path, uint32_t rows,
                             uint32_t columns, spd_pixels **px,
                             sp_error *err);
    void (*pixels_size)(const spd_pixels *px, uint32_t *rows,
                        uint32_t *columns, uint32_t *frames);
    sp_status (*pixels_frame)(spd_pixels *px, uint32_t frame, double slope,
                              double intercept, float *out, sp_error *err);
    void (*pixels_close)(spd_pixels *px);
    sp_status (*write_series)(const sp_volume *vol,
                              const sp_dicom_header *header,
                              const char *dir, sp_error *err);
} spd_dcmtk_api;

/* The module's table, loading it on the first call (thread-safe). NULL
 * with err naming the module file and why when it cannot be loaded; a
 * failed load is not retried. */
const spd_dcmtk_api *spd_dcmtk(sp_error *err);

/* The table when the module is loaded already, else NULL (never loads). */
const spd_dcmtk_api *spd_dcmtk_loaded(void);

/* The module's side (dicom_dcmtk_*.cc, dicom_decode.cc, dicom_write.cc).
 * spd_dcmtk_dictionary_ready also switches DCMTK's logging off and
 * registers its decoders (again after spd_dcmtk_cleanup). */
sp_status spd_dcmtk_dictionary_ready(sp_error *err);
void spd_dcmtk_cleanup(void);
/* The header of a file the pre-scan could not read alone (loc: what its
 * walk found): 1 with the records collected, else 0 with `skip` filled. */
int spd_dcmtk_read_header(const char *file, const spd_pixel_loc *loc,
                          spd_collect *c, spd_skip *skip);
sp_status spd_dcmtk_pixels_open(const char *path, uint32_t rows,
                                uint32_t columns, spd_pixels **px,
                                sp_error *err);
void spd_dcmtk_pixels_size(const spd_pixels *px, uint32_t *rows,
                           uint32_t *columns, uint32_t *frames);
sp_status spd_dcmtk_pixels_frame(spd_pixels *px, uint32_t frame,
                                 double slope, double intercept, float *out,
                                 sp_error *err);
void spd_dcmtk_pixels_close(spd_pixels *px);
sp_status spd_dcmtk_write_series(const sp_volume *vol,
                                 const sp_dicom_header *header,
                                 const char *dir, sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
