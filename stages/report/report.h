/* Stage `report`: shared pieces of the overview image, the key images and
 * report.json. */
#ifndef SPINEPIPE_REPORT_H
#define SPINEPIPE_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "reslice.h"
#include "spinepipe/stage.h"

typedef struct report_options {
    int min_size;      /* longer side of the image area, pixels */
    double font_size;  /* pixels */
    int key_images;    /* one key image per level with a disc position */
    double key_fov_mm; /* field of view of the key images */
} report_options;

/* What the report draws from: the view, and what analysis stages left. */
typedef struct report_input {
    const sp_volume *view;    /* view.u8 */
    const sp_volume *labels;  /* labels.spine or NULL */
    const json_t *table;      /* measurements or NULL */
    const json_t *window;     /* view.window or NULL */
    int anonymize;
} report_input;

/* Colours (0xRRGGBBAA). */
#define COL_VERTEBRA_FILL 0x4f8cff22u
#define COL_VERTEBRA_LINE 0xc8d2e6b0u
#define COL_DISC_FILL 0x2ee6c040u
#define COL_DISC_LINE 0x2ee6c0d0u
#define COL_CANAL_LINE 0xa77bffffu
#define COL_CALIPER 0xff00ffffu
#define COL_DISPLACED 0xff7a00a0u
#define COL_DISP_CALIPER 0xffd000ffu
#define COL_TEXT 0xffffffffu

/* Worst severity of a level's findings: 0 normal, 1 relative / mild,
 * 2 moderate, 3 absolute / severe; -1 when the level has no finding, or
 * when nothing abnormal was found but its measured canal was not judged
 * (level_canal_unjudged): grey, never the green of "normal". */
int level_severity(const json_t *level);
/* 1 when the findings stage marked the level's measured canal as judged
 * by no rule (`canal_judged`: false). */
int level_canal_unjudged(const json_t *level);
uint32_t severity_colour(int severity);
/* Label of the disc of a level like "L4-L5" (100 + upper vertebra), or 0
 * when the name is not a level. */
int disc_label_of_level(const char *level);
/* The level's abnormal findings in words (sp_finding_text: "disc
 * herniation left paracentral; canal AP stenosis"), and "canal not
 * judged" when so; "" when it has none. */
void level_flags(const json_t *level, char *out, size_t size);

/* The header strip's lines for an image (at most 4; the last one is the
 * disclaimer). `what` names the image, `values` its measurements (may be
 * NULL). Lines are written into buf[4][200]. */
size_t header_lines(sp_stage_context *ctx, const report_input *in,
                    const char *what, const char *values, char buf[][200],
                    const char *lines[]);

/* Width in pixels the header strip needs for its lines. */
double header_width(sp_stage_context *ctx, const char *const *lines,
                    size_t n, double font_size);

/* Height of the legend band for a canvas `width` pixels wide. */
double legend_height(sp_stage_context *ctx, double width, double size,
                     const sp_legend_item *items, size_t n);

/* Nearest-neighbour label slice on a plane grid at offset n_mm. */
sp_status label_slice(sp_stage_context *ctx, const sp_volume *labels,
                      const plane_grid *g, double n_mm, uint16_t *out);
/* 1 where the labels lo..hi cover at least half of the plane pixel's
 * trilinear neighbourhood: outlines drawn from it follow the structure
 * rather than the staircase of thick voxels. */
sp_status label_mask(sp_stage_context *ctx, const sp_volume *labels,
                     const plane_grid *g, double n_mm, int lo, int hi,
                     uint8_t *out);
/* Regions and holes of a mask smaller than min_mm2 flipped (label_mask
 * does it to its masks at 4 mm2). */
sp_status mask_despeckle(sp_stage_context *ctx, uint8_t *mask,
                         const plane_grid *g, double min_mm2);

/* 1 in `out` inside the closed polygon of LPS points `points` projected
 * onto the plane at offset n_mm; *drawn says whether any pixel is. An
 * array of fewer than 3 points, or not of points, gives an empty mask. */
sp_status polygon_mask(sp_stage_context *ctx, const plane_grid *g,
                       double n_mm, const json_t *points, uint8_t *out,
                       int *drawn);

/* LPS point -> pixel coordinates (x, y, in pixel units with (0,0) the top
 * left corner of pixel 0) on the plane at offset n_mm; returns the
 * distance from the plane in mm. */
double plane_project(const plane_grid *g, double n_mm, const double p[3],
                     double *x, double *y);

/* Read a [x, y, z] array; 0 when it is not three numbers. */
int json_point(const json_t *a, double p[3]);

/* Canvas areas already drawn on, which the orientation letters keep
 * clear of; each with its kind: 't' a label, 'm' a marker line or
 * caliper, 'l' a leader line from a label to its caliper (the box of
 * its ends), 'o' an orientation letter, 's' the scale bar and its label. */
typedef struct occupied {
    double box[96][4]; /* x0, y0, x1, y1 */
    char kind[96];
    size_t n;
} occupied;
void occupied_add(occupied *o, double x0, double y0, double x1, double y1);
void occupied_add_kind(occupied *o, char kind, double x0, double y0,
                       double x1, double y1);
/* The box of text drawn at baseline (x, y) with `align` (kind 't'). */
void occupied_add_text(occupied *o, sp_stage_context *ctx, sp_canvas *c,
                       double x, double y, double size, int align,
                       const char *text);

/* Pixels of an image area (w x h) a label must not cover: `hard` marks
 * (measured outlines, calipers) and soft ones (other outlines, covered
 * only where no clear place is near). label_place.c. */
typedef struct clear_map {
    size_t w, h;
    uint8_t *mark[2];  /* hard, soft */
    uint32_t *sum[2];  /* their summed-area tables */
} clear_map;
sp_status clear_map_make(sp_stage_context *ctx, size_t w, size_t h,
                         clear_map *m);
/* The boundary of `mask` (w x h), as hard or soft marks. */
void clear_map_edges(clear_map *m, const uint8_t *mask, int hard);
/* A hard line between two points of the image area (its pixel units). */
void clear_map_line(clear_map *m, double ax, double ay, double bx,
                    double by, double half_width);
/* Call once all marks are in, before clear_map_place. */
void clear_map_finish(clear_map *m);
/* A box of bw x bh canvas pixels inside the image area (drawn at x0, top
 * on the canvas), its top left corner moved from (*left, *upper) to the
 * nearest place that covers no hard mark and no box of `used` other than
 * markers, and as few soft marks as it can. */
void clear_map_place(const clear_map *m, const occupied *used, double x0,
                     double top, double bw, double bh, double *left,
                     double *upper);

/* Orientation letters on the four edges of an image area, each at the
 * place along its edge nearest the middle that keeps a clearance of one
 * and a half letter heights from everything in `used` (labels, markers, the scale bar, the
 * letters placed before it), or the clearest place when none does; and a
 * scale bar in the lower left corner. The letters and the bar are added
 * to `used`. */
void draw_orientation(sp_stage_context *ctx, sp_canvas *c, double x0,
                      double y0, double w, double h, const char *letters,
                      double pixel_mm, double font_size, occupied *used);

/* Fill the text chunks shared by every report image. */
typedef struct report_text {
    sp_png_text items[24];
    char values[24][200];
    char layout[8192];
    size_t n;
} report_text;
void report_text_add(report_text *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void report_text_common(sp_stage_context *ctx, const report_input *in,
                        report_text *t);
void report_text_plane(report_text *t, const plane_grid *g, double n_mm,
                       double image_x, double image_y);
/* spinepipe:layout: the boxes of `used`, "KIND X0 Y0 X1 Y1" joined by
 * ";" (canvas pixels), so a test can check that nothing crowds. */
void report_text_layout(report_text *t, const occupied *used);

/* The overview and the key images; each appends its file name to
 * `images`. */
sp_status draw_overview(sp_stage_context *ctx, const report_options *o,
                        const report_input *in, json_t *images);
sp_status draw_key_images(sp_stage_context *ctx, const report_options *o,
                          const report_input *in, json_t *images);

#endif
