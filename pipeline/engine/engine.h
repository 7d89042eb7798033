/* The pipeline engine: stage registry and loader, parameter tables,
 * pipeline configs, the artifact store and the per-series runner.
 * Internal to spinepipe (the CLI and the tests use it); plugins see only
 * include/spinepipe/stage.h. */
#ifndef SPINEPIPE_ENGINE_H
#define SPINEPIPE_ENGINE_H

#include <stddef.h>

#include <jansson.h>

#include "spinepipe/stage.h"

/* ---- registry (registry.c) ---------------------------------------------- */

typedef struct sp_stage_module {
    const sp_stage_descriptor *desc;
    void *handle; /* dlopen handle */
    char *path;
} sp_stage_module;

/* A module that was found but refused, and why. */
typedef struct sp_stage_refusal {
    char *path;
    char *reason;
} sp_stage_refusal;

typedef struct sp_registry {
    sp_stage_module *modules;
    size_t n_modules;
    sp_stage_refusal *refused;
    size_t n_refused;
} sp_registry;

sp_status sp_registry_new(sp_registry **reg, sp_error *err);
void sp_registry_free(sp_registry *reg);

/* Load one module. A module that is not a stage, has another ABI major, a
 * newer minor, a malformed descriptor or a duplicate name fails with
 * SP_PLUGIN and a reason naming the file (and the ABI versions). */
sp_status sp_registry_load_module(sp_registry *reg, const char *path,
                                  sp_error *err);
/* Load every *.so in `dir` (and, with `depth` 1, in its subdirectories).
 * Refused modules are recorded in reg->refused and logged, not fatal. */
sp_status sp_registry_load_dir(sp_registry *reg, const char *dir, int depth,
                               sp_error *err);
/* SPINEPIPE_STAGE_PATH (colon-separated), then the build tree's stages/
 * when this executable runs from the build tree, then the install dir. */
sp_status sp_registry_load_default(sp_registry *reg, sp_error *err);

const sp_stage_module *sp_registry_find(const sp_registry *reg,
                                        const char *name);
/* The refusal recorded for a module file named <name>.so, or NULL. */
const sp_stage_refusal *sp_registry_refusal(const sp_registry *reg,
                                            const char *name);

/* Check a descriptor (ABI, names, parameter table, defaults). */
sp_status sp_descriptor_check(const sp_stage_descriptor *d, const char *path,
                              sp_error *err);

/* ---- parameter tables (params.c) ---------------------------------------- */

const char *sp_param_type_name(sp_param_type t);
/* Parse `text` as a value of `p` and store it into `options`. On failure
 * writes a reason ("'abc' is not an integer") into why. String values are
 * strdup'd; the previous string at that offset is freed. */
sp_status sp_param_set(const sp_param *p, const char *text, void *options,
                       char *why, size_t why_size);
/* Allocate an options struct filled with the defaults. */
sp_status sp_options_new(const sp_stage_descriptor *d, void **options,
                         sp_error *err);
void sp_options_free(const sp_stage_descriptor *d, void *options);
const sp_param *sp_param_find(const sp_stage_descriptor *d,
                              const char *name);
/* One row as JSON: name, type, default, min, max, unit, choices, help. */
json_t *sp_param_json(const sp_param *p);
/* The whole stage as JSON (name, version, description, abi, requires,
 * provides, parameters[], path). */
json_t *sp_stage_json(const sp_stage_module *m);
/* Current value of a parameter as JSON. */
json_t *sp_param_value_json(const sp_param *p, const void *options);

/* ---- pipelines (config.c) ------------------------------------------------ */

typedef struct sp_stage_instance {
    const sp_stage_module *module;
    void *options;
    int line; /* line of the [section] in the config file */
} sp_stage_instance;

typedef struct sp_pipeline {
    char *path;
    char *name;
    char *description;
    char *modality;     /* "CT", "MR", or "" for any */
    char *orientation;  /* "axial", "sagittal", ... or "" for any */
    sp_stage_instance *stages;
    size_t n_stages;
} sp_pipeline;

/* Parse and validate a pipeline file: unknown stage or parameter, wrong
 * type, value out of range, and artifacts required but not provided earlier
 * each fail with SP_CONFIG and "FILE:LINE: stage 'S', parameter 'P': ...".
 * `overrides` are "stage.param=value" strings (--set), applied after the
 * file and checked the same way. */
sp_status sp_pipeline_load(const char *path, const sp_registry *reg,
                           const char *const *overrides, size_t n_overrides,
                           sp_pipeline **out, sp_error *err);
void sp_pipeline_free(sp_pipeline *p);
json_t *sp_pipeline_json(const sp_pipeline *p);

/* Who reads what (reads.c). Whether `inst` names artifact `name` in its
 * requires or in an SP_PARAM_ARTIFACT value; whether any stage after
 * index i may read volume artifact `name` (names it, or does not declare
 * its volume reads: SP_STAGE_VOLUME_READS_DECLARED, stage.h). */
int sp_stage_names_artifact(const sp_stage_instance *inst, const char *name);
int sp_pipeline_read_after(const sp_pipeline *p, size_t i, const char *name);

/* Directories searched for shipped pipelines: SPINEPIPE_CONFIG_PATH, then
 * the source tree's config/ when running from the build tree, then the
 * install data dir. Picks the file whose [pipeline] modality and
 * orientation match best (exact orientation beats "any"). Writes the path
 * into `path` (PATH_MAX bytes). */
sp_status sp_pipeline_choose_default(const char *modality,
                                     const char *orientation, char *path,
                                     size_t path_size, sp_error *err);

/* ---- artifact store (store.c) -------------------------------------------- */

typedef struct sp_store sp_store;

sp_status sp_store_new(sp_store **store, sp_error *err);
void sp_store_free(sp_store *store);
/* Takes ownership of *vol (zeroes it) even on failure. */
sp_status sp_store_put_volume(sp_store *s, const char *name,
                              sp_artifact_kind kind, sp_volume *vol,
                              sp_error *err);
/* Takes the caller's reference to json even on failure. */
sp_status sp_store_put_table(sp_store *s, const char *name, json_t *json,
                             sp_error *err);
const sp_volume *sp_store_volume(const sp_store *s, const char *name,
                                 sp_artifact_kind kind);
const json_t *sp_store_table(const sp_store *s, const char *name);
int sp_store_has(const sp_store *s, const char *name);
/* Move volume `name` out of the store into *out (1), or leave it (0, *out
 * zeroed): absent, a table, or already taken. The entry stays, marked
 * consumed by `by` (run.json), and sp_store_volume no longer finds it. */
int sp_store_take_volume(sp_store *s, const char *name,
                         sp_artifact_kind kind, const char *by,
                         sp_volume *out);
/* Names and kinds, as a JSON array of {name, kind, ...}. */
json_t *sp_store_json(const sp_store *s);
const char *sp_artifact_kind_name(sp_artifact_kind k);

/* ---- running one series (runner.c) --------------------------------------- */

typedef struct sp_run_hooks {
    /* Called when a stage starts (fraction 0) and on stage progress. */
    void (*on_stage)(void *user, size_t index, const char *stage,
                     double fraction);
    void *user;
    const char *label; /* names the series in stage log messages */
    uint32_t flags;    /* SP_RUN_* (stage.h), handed to every stage */
} sp_run_hooks;

/* Run the pipeline on one series. `volume` is moved into the store as
 * "volume.hu" (zeroed on return). Outputs go to output_dir, which must
 * exist. The store is returned in *store_out when not NULL (for tests);
 * otherwise freed. `report` receives a JSON object with per-stage status
 * and timing (always set, also on failure). */
sp_status sp_pipeline_run(const sp_pipeline *p, sp_volume *volume,
                          const sp_dicom_header *header,
                          const char *output_dir, const sp_run_hooks *hooks,
                          sp_store **store_out, json_t **report,
                          sp_error *err);

/* The host function table handed to stages. */
const sp_host_api *sp_host_api_get(void);

#endif
