/* index.html of a run: one page listing every series with its thumbnail,
 * its table of levels and flags, and links to its images. Plain HTML and
 * CSS (no script, no network), every text escaped, relative links. */
#ifndef SPINEPIPE_RUN_INDEX_H
#define SPINEPIPE_RUN_INDEX_H

#include <stddef.h>
#include <stdio.h>

#include "spinepipe/error.h"

/* Write "<out_dir>/index.html" atomically for the series folders `dirs`
 * (relative to out_dir: "<study>/<series>"). */
sp_status sp_run_index_write(const char *out_dir, const char *const *dirs,
                             size_t n_dirs, sp_error *err);

/* Write `s` with &, <, >, " and ' as character references, and control
 * characters and invalid UTF-8 bytes as U+FFFD. */
void sp_html_escape(FILE *out, const char *s);

#endif
