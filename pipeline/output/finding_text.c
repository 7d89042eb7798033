/* See finding_text.h. */
#include "finding_text.h"

#include <stdio.h>
#include <string.h>

int sp_severity_rank(const char *severity)
{
    static const struct { const char *name; int rank; } table[] = {
        {"normal", 0}, {"relative", 1}, {"mild", 1}, {"moderate", 2},
        {"absolute", 3}, {"severe", 3},
    };
    for (size_t i = 0; severity && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(severity, table[i].name) == 0)
            return table[i].rank;
    return -1;
}

int sp_level_worst_rank(const json_t *level)
{
    int worst = -1;
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(level, "findings"), i, f) {
        int r = sp_severity_rank(
            json_string_value(json_object_get(f, "severity")));
        if (r > worst)
            worst = r;
    }
    return worst;
}

const char *sp_severity_words(int rank)
{
    static const char *const w[] = {"normal", "relative / mild", "moderate",
                                    "absolute / severe"};
    return rank >= 0 && rank <= 3 ? w[rank] : "not assessed";
}

/* Append " word" unless it says nothing ("undetermined", "unclassified"). */
static size_t append_word(char *out, size_t n, size_t size, const char *word)
{
    if (!word || !strcmp(word, "undetermined") ||
        !strcmp(word, "unclassified"))
        return n;
    int w = snprintf(out + n, size - n, " %s", word);
    return w < 0 || (size_t)w >= size - n ? size - 1 : n + (size_t)w;
}

void sp_finding_text(const json_t *finding, char *out, size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    const char *code = json_string_value(json_object_get(finding, "code"));
    if (!code)
        return;
    /* "canal_ap_stenosis" -> "canal AP stenosis" */
    snprintf(out, size, "%s", code);
    for (char *c = out; *c; c++)
        if (*c == '_')
            *c = ' ';
    char *ap = strstr(out, " ap ");
    if (ap)
        ap[1] = 'A', ap[2] = 'P';
    size_t n = strlen(out);
    static const char *const extra[] = {"type", "position", "side"};
    for (size_t e = 0; e < 3; e++)
        n = append_word(out, n, size,
                        json_string_value(json_object_get(finding, extra[e])));
}
