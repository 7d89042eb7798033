/* Where spinepipe finds its stages and shipped pipelines: environment
 * paths first, then the build tree (when this executable runs from it, so
 * the CLI works without an install step), then the install dirs. */
#ifndef SPINEPIPE_PATHS_H
#define SPINEPIPE_PATHS_H

#include <stddef.h>

/* Nonzero when the running executable lives inside the meson build dir. */
int sp_running_from_build_tree(void);
const char *sp_build_stage_dir(void);   /* <build>/stages */
const char *sp_source_config_dir(void); /* <source>/config */
const char *sp_install_stage_dir(void);
const char *sp_install_config_dir(void);

#endif
