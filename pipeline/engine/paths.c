/* Search paths compiled in by meson (see pipeline/meson.build). */
#include "paths.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sp_running_from_build_tree(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char root[PATH_MAX];
    if (!realpath(SP_BUILD_ROOT, root))
        return 0;
    size_t len = strlen(root);
    return strncmp(exe, root, len) == 0 && exe[len] == '/';
}

const char *sp_build_stage_dir(void) { return SP_BUILD_ROOT "/stages"; }
const char *sp_source_config_dir(void) { return SP_SOURCE_ROOT "/config"; }
const char *sp_install_stage_dir(void) { return SP_STAGE_INSTALL_DIR; }
const char *sp_install_config_dir(void) { return SP_CONFIG_INSTALL_DIR; }
