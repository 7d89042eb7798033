/* Which stages of a pipeline may read which volume artifacts: the rule
 * that decides whether a stage may consume its input in place
 * (artifact_take_volume, stage ABI 1.3). */
#include "engine.h"

#include <string.h>

int sp_stage_names_artifact(const sp_stage_instance *inst, const char *name)
{
    const sp_stage_descriptor *d = inst->module->desc;
    for (size_t r = 0; d->requires && d->requires[r]; r++)
        if (strcmp(d->requires[r], name) == 0)
            return 1;
    for (size_t k = 0; k < d->n_params; k++) {
        if (d->params[k].type != SP_PARAM_ARTIFACT)
            continue;
        const char *value = *(char *const *)((const char *)inst->options +
                                             d->params[k].offset);
        if (value && strcmp(value, name) == 0)
            return 1;
    }
    return d->abi_minor >= 4 && d->reads_volume &&
           d->reads_volume(inst->options, name);
}

/* A module built before 1.3 has no flags: it may read anything, through
 * ctx->volume or by a name it never declared. */
static int declares_volume_reads(const sp_stage_descriptor *d)
{
    return d->abi_minor >= 3 &&
           (d->flags & SP_STAGE_VOLUME_READS_DECLARED) != 0;
}

int sp_pipeline_read_after(const sp_pipeline *p, size_t i, const char *name)
{
    for (size_t j = i + 1; j < p->n_stages; j++)
        if (!declares_volume_reads(p->stages[j].module->desc) ||
            sp_stage_names_artifact(&p->stages[j], name))
            return 1;
    return 0;
}
