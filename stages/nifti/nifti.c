/* Stage `nifti`: writes named volume, mask or label artifacts as NIfTI-1
 * files in the series folder through the host (geometry in RAS qform and
 * sform). `artifacts` lists "name:file" items; an item without ":file"
 * is written as <name with '.' -> '_'>.nii.gz. An artifact the pipeline
 * did not produce is a warning, or an error with missing = fail. */
#include <stdio.h>
#include <string.h>

#include "spinepipe/stage.h"

enum { MISSING_WARN, MISSING_FAIL };
static const char *const missing_names[] = {"warn", "fail", NULL};

typedef struct nifti_options {
    const char *artifacts;
    int missing;
} nifti_options;

static const sp_param params[] = {
    {"artifacts", SP_PARAM_STRING, "labels.spine:segmentation.nii.gz", 0, 0,
     NULL, NULL,
     "space-separated NAME[:FILE] items, e.g. "
     "'labels.spine:segmentation.nii.gz volume.hu'",
     offsetof(nifti_options, artifacts)},
    {"missing", SP_PARAM_ENUM, "warn", 0, 0, NULL, missing_names,
     "what an artifact the pipeline did not produce is: a warning or an "
     "error", offsetof(nifti_options, missing)},
};

static const char *const requires_list[] = {NULL};
static const char *const provides_list[] = {NULL};

static sp_status nifti_init(sp_stage_context *ctx, const void *options,
                            void **state)
{
    const nifti_options *o = options;
    if (!o->artifacts || !o->artifacts[strspn(o->artifacts, " \t,")])
        return ctx->host->fail(ctx, SP_CONFIG,
                               "parameter 'artifacts' is empty: nothing to "
                               "write");
    *state = (void *)o;
    return SP_OK;
}

static const sp_volume *find_volume(sp_stage_context *ctx, const char *name)
{
    static const sp_artifact_kind kinds[] = {
        SP_ARTIFACT_LABELS, SP_ARTIFACT_MASK, SP_ARTIFACT_VOLUME};
    for (size_t i = 0; i < 3; i++) {
        const sp_volume *v = ctx->host->artifact_volume(ctx, name, kinds[i]);
        if (v)
            return v;
    }
    return NULL;
}

/* Write one "name[:file]" item of `len` characters. */
static sp_status write_item(sp_stage_context *ctx, const nifti_options *o,
                            const char *item, size_t len)
{
    char name[128], file[160];
    const char *colon = memchr(item, ':', len);
    size_t nlen = colon ? (size_t)(colon - item) : len;
    if (nlen == 0 || nlen >= sizeof name ||
        (colon && len - nlen - 1 >= sizeof file))
        return ctx->host->fail(ctx, SP_CONFIG,
                               "parameter 'artifacts': item '%.*s' is "
                               "malformed",
                               (int)(len > 200 ? 200 : len), item);
    memcpy(name, item, nlen);
    name[nlen] = 0;
    if (colon) {
        memcpy(file, colon + 1, len - nlen - 1);
        file[len - nlen - 1] = 0;
    } else {
        snprintf(file, sizeof file, "%s.nii.gz", name);
        for (char *c = file; c < file + nlen; c++)
            if (*c == '.')
                *c = '_';
    }
    const sp_volume *v = find_volume(ctx, name);
    if (!v) {
        if (o->missing == MISSING_FAIL)
            return ctx->host->fail(ctx, SP_STAGE,
                                   "no volume, mask or label artifact '%s' "
                                   "to write",
                                   name);
        ctx->host->log(ctx, SP_LOG_WARN,
                       "no artifact '%s' in this pipeline: %s not written",
                       name, file);
        return SP_OK;
    }
    return ctx->host->nifti_write(ctx, file, v);
}

/* The names `artifacts` lists are the only volumes the stage reads
 * (stage ABI 1.4), so an earlier stage may work in place on any other. */
static int nifti_reads_volume(const void *options, const char *name)
{
    const nifti_options *o = options;
    const char *p = o->artifacts ? o->artifacts : "";
    size_t want = strlen(name);
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        const char *colon = memchr(p, ':', len);
        size_t nlen = colon ? (size_t)(colon - p) : len;
        if (len > 0 && nlen == want && memcmp(p, name, want) == 0)
            return 1;
        p += len;
    }
    return 0;
}

static sp_status nifti_process(sp_stage_context *ctx, void *state)
{
    const nifti_options *o = state;
    const char *p = o->artifacts;
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        sp_status st = write_item(ctx, o, p, len);
        if (st != SP_OK)
            return st;
        p += len;
    }
    return SP_OK;
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "nifti",
    .version = "1.1.0",
    .description = "named volume, mask or label artifacts (e.g. the "
                   "segmentation) as NIfTI-1 files",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(nifti_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = nifti_init,
    .process = nifti_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
    .reads_volume = nifti_reads_volume,
};

SP_STAGE_ENTRY(descriptor)
