/* Label values and level names (the contract in docs/labels.md). */
#include "spinepipe/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const vertebra_names[SP_LABEL_VERTEBRA_MAX + 1] = {
    NULL, "C1", "C2", "C3", "C4", "C5", "C6", "C7",
    "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12",
    "L1", "L2", "L3", "L4", "L5", "L6", "S1"};

int sp_label_vertebra_from_name(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "sacrum") == 0)
        return SP_LABEL_SACRUM;
    for (int v = 1; v <= SP_LABEL_VERTEBRA_MAX; v++)
        if (strcmp(name, vertebra_names[v]) == 0)
            return v;
    return 0;
}

const char *sp_label_vertebra_name(int label)
{
    if (label < 1 || label > SP_LABEL_VERTEBRA_MAX)
        return NULL;
    return vertebra_names[label];
}

int sp_label_disc_below(int vertebra_label)
{
    if (vertebra_label < 1 || vertebra_label >= SP_LABEL_SACRUM)
        return 0;
    return SP_LABEL_DISC_BASE + vertebra_label;
}

const char *sp_label_disc_level_name(int vertebra_label, int has_l6,
                                     char *buf, size_t size)
{
    if (!sp_label_disc_below(vertebra_label))
        return NULL;
    if (vertebra_label == SP_LABEL_L6 && !has_l6)
        return NULL;
    int below = vertebra_label + 1;
    if (below == SP_LABEL_L6 && !has_l6)
        below = SP_LABEL_SACRUM;
    snprintf(buf, size, "%s-%s", vertebra_names[vertebra_label],
             vertebra_names[below]);
    return buf;
}

const char *sp_label_describe(int label, char *buf, size_t size)
{
    if (sp_label_vertebra_name(label)) {
        snprintf(buf, size, "%s", sp_label_vertebra_name(label));
        return buf;
    }
    if (label == SP_LABEL_CANAL) {
        snprintf(buf, size, "spinal canal");
        return buf;
    }
    if (label == SP_LABEL_CORD) {
        snprintf(buf, size, "spinal cord");
        return buf;
    }
    int upper = label - SP_LABEL_DISC_BASE;
    char level[16];
    if (label > SP_LABEL_DISC_BASE &&
        sp_label_disc_level_name(upper, upper == SP_LABEL_L6, level,
                                 sizeof level)) {
        snprintf(buf, size, "%s disc", level);
        return buf;
    }
    return NULL;
}
