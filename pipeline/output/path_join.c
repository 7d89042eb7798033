/* See output.h. A truncated path names a different file (perhaps one that
 * exists), so a join that does not fit is an error, never a shorter path. */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sp_path_join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

char *sp_path_joined(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *out = malloc(size);
    if (out)
        snprintf(out, size, "%s/%s", dir, name);
    return out;
}
