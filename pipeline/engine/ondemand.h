/* The on-demand module, spinepipe-ondemand.so: the code that needs DCMTK's
 * network, TLS, SR and SEG libraries, cairo or FreeType (the C-STORE SCP
 * and SCU of `listen`, the DICOM result objects of --dicom-out, the
 * drawing layer behind the host's canvas functions). The core loads it on
 * first use, so a command that needs none of it (`run` of a filter
 * pipeline, `info`) never maps those libraries, and their load-time
 * relocations (Debian builds DCMTK with -z now) are not paid.
 *
 * Executables link the core with --export-dynamic (core_dep), so the
 * module's calls into the core bind to the executable's copy and there is
 * one copy of the core's state; what the executable does not hold comes
 * from the module's own static link of the core.
 * It is found at $SPINEPIPE_ONDEMAND_MODULE when set (a file path), else
 * beside the build's pipeline/ when the executable runs from the build
 * tree, else in <libdir>/spinepipe/. */
#ifndef SPINEPIPE_ONDEMAND_H
#define SPINEPIPE_ONDEMAND_H

#include <stddef.h>
#include <stdint.h>

#include "dicom/dicom_out.h"
#include "net/net.h"
#include "spinepipe/stage.h"

#define SP_ONDEMAND_FILE "spinepipe-ondemand.so"
#define SP_ONDEMAND_SYMBOL "sp_ondemand_table"
#define SP_ONDEMAND_ABI 1

typedef struct sp_ondemand_api {
    size_t size; /* sizeof(sp_ondemand_api) of the module's build */
    int abi;     /* SP_ONDEMAND_ABI */
    sp_status (*listen)(const sp_listen_options *o, sp_error *err);
    sp_status (*dicom_outputs_write)(const sp_dicom_series *src,
                                     const char *series_dir,
                                     const char *dicom_dir, int with_seg,
                                     sp_dicom_outputs *out, sp_error *err);
    sp_status (*canvas_new)(int width, int height, uint32_t background,
                            sp_canvas **out, sp_error *err);
    void (*canvas_free)(sp_canvas *c);
    int (*canvas_width)(const sp_canvas *c);
    int (*canvas_height)(const sp_canvas *c);
    void (*canvas_rgb)(const sp_canvas *c, uint8_t *out);
    void (*canvas_gray)(sp_canvas *c, const uint8_t *gray, int w, int h,
                        double x, double y, double scale, int smooth);
    void (*canvas_mask)(sp_canvas *c, const uint8_t *mask, int w, int h,
                        double x, double y, double scale, uint32_t fill,
                        uint32_t outline, double line_width);
    void (*canvas_line)(sp_canvas *c, double x0, double y0, double x1,
                        double y1, double width, uint32_t rgba);
    void (*canvas_rect)(sp_canvas *c, double x, double y, double w,
                        double h, uint32_t fill, uint32_t outline);
    void (*canvas_circle)(sp_canvas *c, double x, double y, double r,
                          uint32_t fill, uint32_t outline);
    double (*canvas_text)(sp_canvas *c, double x, double y, double size,
                          int align, uint32_t rgba, int halo,
                          const char *utf8);
    double (*canvas_text_width)(sp_canvas *c, double size,
                                const char *utf8);
    double (*canvas_header_height)(size_t n_lines, double size);
    void (*canvas_header)(sp_canvas *c, const char *const *lines,
                          size_t n_lines, double size);
    double (*canvas_legend)(sp_canvas *c, double x, double y,
                            double max_width, double size,
                            const char *title, const sp_legend_item *items,
                            size_t n_items, int measure_only);
} sp_ondemand_api;

/* The module's table, loading the module on the first call (thread-safe).
 * NULL with err naming the module file and why when it cannot be loaded;
 * a failed load is not retried. */
const sp_ondemand_api *sp_ondemand(sp_error *err);

/* The table when the module is loaded already, else NULL (never loads). */
const sp_ondemand_api *sp_ondemand_loaded(void);

#endif
