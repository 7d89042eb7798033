/* spinepipe — the stage plugin ABI.
 *
 * A stage is a shared module (meson `shared_module`, or `cc -shared`) that
 * exports exactly one symbol:
 *
 *     SP_STAGE_EXPORT const sp_stage_descriptor *
 *     spinepipe_stage_descriptor(void);
 *
 * (SP_STAGE_ENTRY(descriptor) below writes it.)
 *
 * Built-in stages are built and loaded exactly like third-party ones: the
 * core dlopen()s every module in the stage directories and calls that
 * function. A stage never links against the core: everything it needs from
 * the host (volumes, artifacts, logging, progress, scratch memory, errors,
 * PNG output) comes through the sp_host_api table in its context, plus the
 * static inline helpers of volume.h. Only this header, error.h, volume.h
 * and dicom.h (for the header struct) are needed to build a stage.
 *
 * Versioning. The descriptor carries the SP_STAGE_ABI_MAJOR/MINOR it was
 * built with. The host refuses a module built for another major, or for a
 * newer minor than its own, and says which. Within one major the ABI only
 * grows: new fields are appended to sp_stage_descriptor (taken from its
 * reserved[] space) and new functions are appended to sp_host_api, whose
 * `size` field tells a stage which functions exist.
 *
 * Parameters. A stage declares its parameters in one table (sp_param). The
 * host parses config values and --set overrides, checks type and range,
 * fills the stage's options struct at each row's `offset`, and generates
 * `spinepipe stages --describe`, the JSON listing and the docs from the
 * same rows. A stage never parses a parameter string itself.
 *
 * Lifecycle, per series:
 *   1. The host allocates and fills the options struct (options_size bytes,
 *      defaults first, then config values, then --set overrides).
 *   2. init(ctx, options, &state). The stage may allocate private state and
 *      store it in *state (it starts NULL). A failing init returns a status
 *      and reports the reason with host->fail().
 *   3. process(ctx, state), only if init succeeded.
 *   4. destroy(state) is ALWAYS called once after init, even if init failed
 *      (state is then whatever init left in *state, possibly NULL, possibly
 *      half built) and even if process failed. destroy may be NULL for
 *      stages that keep no state.
 * After process succeeds the host checks that every artifact named in
 * `provides` is in the store; a stage that does not deliver fails.
 *
 * Ownership.
 *   - The descriptor and everything it points to are static data of the
 *     module; the host copies nothing and unloads the module only after the
 *     last pipeline using it is freed.
 *   - options: owned by the host, valid from init until destroy returns.
 *     String parameters point into host memory with the same lifetime.
 *   - Artifacts: artifact_put*() transfers ownership of the volume or JSON
 *     value to the store (on failure too: the host frees it). Pointers from
 *     artifact_get*() are borrowed, read-only, and valid until the series
 *     is finished. A stage never frees them.
 *   - scratch_alloc() memory belongs to the host and is freed after the
 *     stage's destroy returns; the stage must not free it.
 *   - ctx and host are valid from init until destroy returns.
 *
 * Threading. One stage instance (init, process, destroy) runs on a single
 * thread. Different series run in parallel (`spinepipe run --jobs N`), so
 * several instances of the same stage may run at the same time on
 * different threads: keep no mutable global or static state. Every host
 * function is safe to call from the stage's own thread; fail,
 * volume_alloc, volume_free, patient_to_voxel and write_png are also safe
 * from the worker threads of parallel_for (the first failure's reason is
 * kept).
 */
#ifndef SPINEPIPE_STAGE_H
#define SPINEPIPE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/dicom.h"
#include "spinepipe/error.h"
#include "spinepipe/parallel.h"
#include "spinepipe/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_STAGE_ABI_MAJOR 1
#define SP_STAGE_ABI_MINOR 4

#define SP_STAGE_EXPORT __attribute__((visibility("default")))
#define SP_STAGE_SYMBOL "spinepipe_stage_descriptor"

/* Define the module's one exported entry point, returning `descriptor`
 * (a static sp_stage_descriptor). Write it once at the end of the stage:
 *     SP_STAGE_ENTRY(descriptor) */
#define SP_STAGE_ENTRY(descriptor)                                           \
    SP_STAGE_EXPORT const sp_stage_descriptor *spinepipe_stage_descriptor(   \
        void);                                                                \
    const sp_stage_descriptor *spinepipe_stage_descriptor(void)               \
    {                                                                         \
        return &(descriptor);                                                 \
    }

/* ---- parameters --------------------------------------------------------- */

typedef enum sp_param_type {
    SP_PARAM_INT,    /* stored as int */
    SP_PARAM_FLOAT,  /* stored as double */
    SP_PARAM_BOOL,   /* stored as int 0/1; config: true/false/yes/no/1/0 */
    SP_PARAM_ENUM,   /* stored as int: index into `choices` */
    SP_PARAM_STRING, /* stored as const char *, owned by the host */
    SP_PARAM_ARTIFACT /* since 1.1: an artifact name the stage reads,
                         stored like STRING; the host checks before the
                         run that the series or an earlier stage provides
                         it, as for `requires` */
} sp_param_type;

typedef struct sp_param {
    const char *name;          /* [a-z0-9_]+, unique within the stage */
    sp_param_type type;
    const char *default_value; /* text, parsed like a config value */
    double min, max;           /* inclusive range for INT/FLOAT */
    const char *unit;          /* "HU", "mm", "%", or NULL */
    const char *const *choices;/* ENUM: NULL-terminated list of names */
    const char *help;          /* one sentence */
    size_t offset;             /* offsetof(options struct, field) */
} sp_param;

/* ---- artifacts ---------------------------------------------------------- */

/* Named artifacts a pipeline passes between stages. Names are dotted
 * lower-case words: "volume.hu" (the series as F32; HU for CT), "view.u8"
 * (8-bit display view), "mask.bone", "labels.vertebrae", "canal.profile",
 * "findings". */
typedef enum sp_artifact_kind {
    SP_ARTIFACT_VOLUME = 0, /* sp_volume, F32 image or U8 view */
    SP_ARTIFACT_MASK = 1,   /* sp_volume, U8 0/1 */
    SP_ARTIFACT_LABELS = 2, /* sp_volume, U16 label values (CONTRACTS.md) */
    SP_ARTIFACT_TABLE = 3,  /* JSON value (jansson json_t *): measurements */
    SP_ARTIFACT_IMAGE = 4   /* sp_volume U8 with dim[2] == 1: key image */
} sp_artifact_kind;

/* ---- what the host gives a stage --------------------------------------- */

typedef enum sp_log_level {
    SP_LOG_ERROR = 0,
    SP_LOG_WARN = 1,
    SP_LOG_INFO = 2,
    SP_LOG_DEBUG = 3
} sp_log_level;

typedef struct sp_stage_context sp_stage_context;

/* A text chunk for a PNG (keyword up to 79 Latin-1 characters). */
typedef struct sp_png_text {
    const char *key;
    const char *value;
} sp_png_text;

/* ABI 1.2: drawing. A canvas is an RGB image the host draws on with cairo
 * and one fixed font (DejaVu Sans, loaded from its file path, so output
 * does not depend on the machine's fonts). Coordinates are pixels, x right
 * and y down, (0, 0) the top left corner of the top left pixel. Colours
 * are 0xRRGGBBAA; alpha below 0xff blends with what is under. */
typedef struct sp_canvas sp_canvas;

enum { SP_ALIGN_LEFT = 0, SP_ALIGN_CENTER = 1, SP_ALIGN_RIGHT = 2 };

/* One row of a legend: a colour swatch and its text. */
typedef struct sp_legend_item {
    uint32_t rgba;
    const char *text;
} sp_legend_item;

/* ABI 1.2: run-wide flags in sp_stage_context.run_flags. */
enum {
    /* Leave patient and study identifiers (patient ID and name, study
     * date, UIDs) out of every image, text chunk and file. */
    SP_RUN_ANONYMIZE = 1u << 0
};

/* Host functions. Append-only: a stage may use a function only if
 * offsetof(sp_host_api, fn) < host->size. */
typedef struct sp_host_api {
    size_t size;          /* sizeof(sp_host_api) of the host */
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Logging and progress (fraction 0..1 of this stage's work). */
    void (*log)(sp_stage_context *ctx, sp_log_level level, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
    void (*progress)(sp_stage_context *ctx, double fraction);

    /* Report why the stage fails; returns `code` so a stage can write
     * `return ctx->host->fail(ctx, SP_STAGE, "...", ...);`. */
    sp_status (*fail)(sp_stage_context *ctx, sp_status code, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

    /* Zeroed memory that lives until the stage's destroy returns; NULL
     * (and a failure already reported) when out of memory. */
    void *(*scratch_alloc)(sp_stage_context *ctx, size_t bytes);

    /* Volumes (see volume.h for the semantics). */
    sp_status (*volume_alloc)(sp_stage_context *ctx, sp_volume *vol,
                              sp_voxel_type type, size_t nx, size_t ny,
                              size_t nz);
    sp_status (*volume_alloc_like)(sp_stage_context *ctx, sp_volume *vol,
                                   const sp_volume *like, sp_voxel_type type);
    void (*volume_free)(sp_volume *vol);
    /* Patient LPS mm -> fractional voxel index (SP_GEOMETRY when the
     * volume's matrix is singular); the inverse of vox2lps. */
    sp_status (*patient_to_voxel)(const sp_volume *vol, const double lps[3],
                                  double ijk[3]);

    /* The artifact store. get returns NULL when absent or of another kind
     * (and does not fail the stage); put fails on a duplicate name. */
    const sp_volume *(*artifact_volume)(sp_stage_context *ctx,
                                        const char *name,
                                        sp_artifact_kind kind);
    sp_status (*artifact_put_volume)(sp_stage_context *ctx, const char *name,
                                     sp_artifact_kind kind, sp_volume *vol);
    const void *(*artifact_table)(sp_stage_context *ctx, const char *name);
    sp_status (*artifact_put_table)(sp_stage_context *ctx, const char *name,
                                    void *json);

    /* Write a PNG into the series output folder, atomically (temporary
     * file, then rename). `file` is a plain file name ([A-Za-z0-9._-], no
     * directory). `image` is U8 with dim[2] == 1: gray, i right, j down. */
    sp_status (*write_png)(sp_stage_context *ctx, const char *file,
                           const sp_volume *image, const sp_png_text *text,
                           size_t n_text);

    /* Since 1.1. Run fn over [0, n) cut into contiguous chunks on the
     * host's worker threads (SPINEPIPE_THREADS, default all CPUs), and
     * return when all chunks are done. fn may run on other threads than
     * the stage's: it must write only the outputs of its own chunk, so the
     * result is the same for any thread count (see parallel.h). */
    void (*parallel_for)(sp_stage_context *ctx, size_t n, sp_range_fn fn,
                         void *arg);

    /* ---- Since 1.2: files, drawing ---- */

    /* NIfTI-1 I/O (volume.h: sp_nifti_write, sp_nifti_read). write puts
     * `file` (a plain safe name ending .nii or .nii.gz) in the series
     * output folder; read takes any path and fills *vol, which the stage
     * frees with volume_free or hands to artifact_put_volume. */
    sp_status (*nifti_write)(sp_stage_context *ctx, const char *file,
                             const sp_volume *vol);
    sp_status (*nifti_read)(sp_stage_context *ctx, const char *path,
                            int as_labels, sp_volume *vol);

    /* Drawing. canvas_new fails (NULL, reason reported) when out of
     * memory or when the font file is missing. Every drawing function
     * accepts a NULL canvas and then does nothing. */
    sp_canvas *(*canvas_new)(sp_stage_context *ctx, int width, int height,
                             uint32_t background);
    void (*canvas_free)(sp_canvas *c);
    /* An 8-bit gray image (w x h, rows top down), scaled by `scale` with
     * its top left corner at (x, y); `smooth` chooses bilinear over
     * nearest. */
    void (*canvas_gray)(sp_canvas *c, const uint8_t *gray, int w, int h,
                        double x, double y, double scale, int smooth);
    /* A mask (w x h, nonzero = inside) placed like canvas_gray: inside
     * tinted with `fill`, the boundary between inside and outside pixels
     * drawn as a line of `line_width` in `outline` (alpha 0: none). */
    void (*canvas_mask)(sp_canvas *c, const uint8_t *mask, int w, int h,
                        double x, double y, double scale, uint32_t fill,
                        uint32_t outline, double line_width);
    void (*canvas_line)(sp_canvas *c, double x0, double y0, double x1,
                        double y1, double width, uint32_t rgba);
    void (*canvas_rect)(sp_canvas *c, double x, double y, double w, double h,
                        uint32_t fill, uint32_t outline);
    void (*canvas_circle)(sp_canvas *c, double x, double y, double r,
                          uint32_t fill, uint32_t outline);
    /* Text (UTF-8) of `size` pixels (the font's em) with its baseline at
     * y, aligned on x; `halo` draws a dark outline around the glyphs so
     * the text stays legible on any background. Returns the advance
     * width in pixels. */
    double (*canvas_text)(sp_canvas *c, double x, double y, double size,
                          int align, uint32_t rgba, int halo,
                          const char *utf8);
    double (*canvas_text_width)(sp_canvas *c, double size, const char *utf8);
    /* The header strip: a dark band across the top of `height` pixels
     * with the lines in white, the last one (the disclaimer) in yellow.
     * canvas_header_height gives the height for n lines of `size`. */
    double (*canvas_header_height)(size_t n_lines, double size);
    void (*canvas_header)(sp_canvas *c, const char *const *lines,
                          size_t n_lines, double size);
    /* A legend band with its top left corner at (x, y): the title, then
     * swatch and text items flowing left to right, wrapping at
     * max_width. Returns its height; with measure_only nothing is drawn
     * (to size a canvas first). */
    double (*canvas_legend)(sp_canvas *c, double x, double y,
                            double max_width, double size,
                            const char *title, const sp_legend_item *items,
                            size_t n_items, int measure_only);
    /* Write the canvas as an 8-bit RGB PNG, like write_png. */
    sp_status (*write_canvas_png)(sp_stage_context *ctx, const char *file,
                                  const sp_canvas *c,
                                  const sp_png_text *text, size_t n_text);
    /* Write a jansson value as indented JSON into the series output
     * folder, atomically; `file` as for write_png. */
    sp_status (*write_json)(sp_stage_context *ctx, const char *file,
                            const void *json);

    /* ---- Since 1.3: working in place ---- */

    /* Move the volume artifact `name` out of the store into *vol, for a
     * stage that overwrites its input instead of writing a new volume.
     * Returns 1 when moved: the stage owns *vol (it hands it to
     * artifact_put_volume under its output name, or frees it); the store
     * keeps the name (run.json lists it as consumed by this stage), get
     * returns NULL for it, and ctx->volume is NULL for later stages when
     * `name` is "volume.hu". Returns 0, *vol zeroed and the stage not
     * failed, when it must stay: this stage does not name it (requires or
     * an SP_PARAM_ARTIFACT value), a later stage of the pipeline names it,
     * or a later stage lacks SP_STAGE_VOLUME_READS_DECLARED (and may read
     * anything). The stage then writes a new volume as before, so output
     * never depends on which way it went. */
    int (*artifact_take_volume)(sp_stage_context *ctx, const char *name,
                                sp_artifact_kind kind, sp_volume *vol);
} sp_host_api;

/* What a stage sees while it runs. Read-only for the stage. */
struct sp_stage_context {
    const sp_host_api *host;
    const sp_volume *volume;       /* the series (artifact "volume.hu");
                                      NULL once an earlier stage consumed
                                      it (artifact_take_volume, 1.3) */
    const sp_dicom_header *header; /* header fields of the series */
    const char *output_dir;        /* OUT/<study>/<series>/, exists */
    const char *stage_name;
    void *host_private;            /* the host's; do not touch */
    uint32_t run_flags;            /* since 1.2: SP_RUN_* */
};

/* ---- the descriptor ----------------------------------------------------- */

typedef sp_status (*sp_stage_init_fn)(sp_stage_context *ctx,
                                      const void *options, void **state);
typedef sp_status (*sp_stage_process_fn)(sp_stage_context *ctx, void *state);
typedef void (*sp_stage_destroy_fn)(void *state);

typedef struct sp_stage_descriptor {
    uint32_t abi_major;       /* SP_STAGE_ABI_MAJOR */
    uint32_t abi_minor;       /* SP_STAGE_ABI_MINOR */
    const char *name;         /* [a-z0-9_]+, unique among loaded stages */
    const char *version;      /* the stage's own version, e.g. "1.0.0" */
    const char *description;  /* one line */
    const sp_param *params;   /* n_params rows */
    size_t n_params;
    size_t options_size;      /* sizeof the options struct */
    const char *const *requires;  /* NULL-terminated artifact names */
    const char *const *provides;  /* NULL-terminated artifact names */
    sp_stage_init_fn init;
    sp_stage_process_fn process;
    sp_stage_destroy_fn destroy; /* may be NULL */
    uintptr_t flags;          /* since 1.3: SP_STAGE_* below; 0 before */
    /* Since 1.4, may be NULL: with SP_STAGE_VOLUME_READS_DECLARED, the
     * volume artifacts the stage may read besides `requires` and its
     * SP_PARAM_ARTIFACT values: 1 when, with these options, it may read
     * `name` (one it reads when present, or one its string parameters
     * list). Called by the host before the run, on any thread; pure. */
    int (*reads_volume)(const void *options, const char *name);
    void *reserved[6];        /* zero; room for minor-version growth */
} sp_stage_descriptor;

/* Descriptor flags (since 1.3). */
enum {
    /* Every volume-kind artifact the stage reads (volume, mask, labels,
     * image; tables do not count) is named in `requires` or by one of its
     * SP_PARAM_ARTIFACT parameters or accepted by its `reads_volume`
     * (1.4), and it reads ctx->volume only when it names "volume.hu"
     * there. A stage without this flag, and every module
     * built for ABI 1.0-1.2, is taken to read any volume, so no earlier
     * stage can consume one (artifact_take_volume). */
    SP_STAGE_VOLUME_READS_DECLARED = 1u << 0
};

typedef const sp_stage_descriptor *(*sp_stage_entry_fn)(void);

/* Convenience for parameter tables. */
#define SP_PARAM_COUNT(table) (sizeof(table) / sizeof((table)[0]))

#ifdef __cplusplus
}
#endif

#endif
