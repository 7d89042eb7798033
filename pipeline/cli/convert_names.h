/* File names for `spinepipe convert` outputs, made from DICOM strings.
 * DICOM text is hostile: only [A-Za-z0-9._-] survives, so no value can
 * climb out of the output folder, hide a file or look like an option. */
#ifndef SPINEPIPE_CONVERT_NAMES_H
#define SPINEPIPE_CONVERT_NAMES_H

#include <stddef.h>

/* Longest sanitised description kept in a file name. */
#define CONVERT_NAME_MAX_DESCRIPTION 48

/* Copy `text` into out (cap bytes, cap >= 2) keeping [A-Za-z0-9._-];
 * every other run of bytes becomes one '_' and runs of '.' one '.'. Leading '.', '-' and '_' and
 * trailing '_' are dropped. Gives "" when nothing is left. */
void convert_sanitise(const char *text, char *out, size_t cap);

/* "<number>_<description>[_part<p>]" (description sanitised and capped;
 * "series" when empty). Always a non-empty safe name without extension. */
void convert_series_name(int number, const char *description, int part,
                         char *out, size_t cap);

#endif
