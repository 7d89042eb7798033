/* Safe output names for `spinepipe convert` (see convert_names.h). */
#include "convert_names.h"

#include <stdio.h>
#include <string.h>

static int safe_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

void convert_sanitise(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    int pending_gap = 0;
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        if (!safe_char(*p)) {
            pending_gap = 1;
            continue;
        }
        if (n == 0 && (*p == '.' || *p == '-' || *p == '_'))
            continue;
        if (*p == '.' && n > 0 && out[n - 1] == '.' && !pending_gap)
            continue; /* no ".." anywhere, even inside a name */
        if (pending_gap && n > 0 && n + 1 < cap && out[n - 1] != '_')
            out[n++] = '_';
        pending_gap = 0;
        if (n + 1 >= cap)
            break;
        out[n++] = (char)*p;
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
}

void convert_series_name(int number, const char *description, int part,
                         char *out, size_t cap)
{
    char desc[CONVERT_NAME_MAX_DESCRIPTION + 1];
    convert_sanitise(description, desc, sizeof desc);
    if (!desc[0])
        snprintf(desc, sizeof desc, "series");
    /* A leading '-' would read as an option in shell commands. */
    if (number < 0)
        number = 0;
    if (part > 0)
        snprintf(out, cap, "%d_%s_part%d", number, desc, part);
    else
        snprintf(out, cap, "%d_%s", number, desc);
}
