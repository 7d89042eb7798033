/* The on-demand module's one exported symbol (engine/ondemand.h). */
#include "draw/draw.h"
#include "engine/ondemand.h"

/* Found by dlsym only; declared here for -Wmissing-variable-declarations. */
extern const sp_ondemand_api sp_ondemand_table;

const sp_ondemand_api sp_ondemand_table = {
    .size = sizeof(sp_ondemand_api),
    .abi = SP_ONDEMAND_ABI,
    .listen = sp_listen,
    .dicom_outputs_write = sp_dicom_outputs_write,
    .canvas_new = sp_canvas_new,
    .canvas_free = sp_canvas_free,
    .canvas_width = sp_canvas_width,
    .canvas_height = sp_canvas_height,
    .canvas_rgb = sp_canvas_rgb,
    .canvas_gray = sp_canvas_gray,
    .canvas_mask = sp_canvas_mask,
    .canvas_line = sp_canvas_line,
    .canvas_rect = sp_canvas_rect,
    .canvas_circle = sp_canvas_circle,
    .canvas_text = sp_canvas_text,
    .canvas_text_width = sp_canvas_text_width,
    .canvas_header_height = sp_canvas_header_height,
    .canvas_header = sp_canvas_header,
    .canvas_legend = sp_canvas_legend,
};
