/* Safe file and folder names from hostile strings (UIDs, descriptions). */
#include "output.h"

#include <string.h>

static int safe_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

void sp_safe_name(const char *in, const char *fallback, char *out,
                  size_t out_size)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)(in ? in : "");
         *c && n + 1 < out_size; c++) {
        char ch = safe_char(*c) ? (char)*c : '_';
        if (n == 0 && (ch == '.' || ch == '_'))
            continue; /* no leading dot: ".", ".." and hidden names */
        if (ch == '_' && n > 0 && out[n - 1] == '_')
            continue;
        out[n++] = ch;
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    if (n == 0)
        sp_safe_name(fallback && *fallback ? fallback : "unnamed", "unnamed",
                     out, out_size);
}

int sp_is_safe_name(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 255)
        return 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (!safe_char(*c))
            return 0;
    return 1;
}
