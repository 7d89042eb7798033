/* Helpers for the convert tests: run a program, and compare two volumes
 * in patient space whatever their axis order. */
#ifndef SPINEPIPE_TEST_CONVERT_SUPPORT_H
#define SPINEPIPE_TEST_CONVERT_SUPPORT_H

#include <stddef.h>

#include "spinepipe/volume.h"

/* Run argv (argv[0] is a path or a name on PATH) with stdout and stderr
 * appended to `log`; returns the exit status, or -1 if it could not run
 * or died by a signal. */
int run_program(char *const argv[], const char *log);

/* How the axes of `a` lie in `b`: a's axis i runs along b's axis map[i]
 * with sign[i] (+1 same direction, -1 reversed). */
typedef struct grid_map {
    int map[3];
    int sign[3];
} grid_map;

/* 1 when a and b hold the same voxel centres: every axis of a has the
 * same step (within tol_mm) as some axis of b up to sign, the sizes
 * agree, and a's first voxel is a corner of b. With allow_permute 0 the
 * axes must keep their order (flips allowed). On 0, `why` says what
 * differs. */
int grid_same_lattice(const sp_volume *a, const sp_volume *b, double tol_mm,
                      int allow_permute, grid_map *gm, char *why,
                      size_t why_cap);

/* Compare every voxel of a with the voxel of b at the same patient
 * position; values must agree within abs_tol + rel_tol*|a|. Returns the
 * number of mismatches and the first one in `why`. */
size_t grid_compare_values(const sp_volume *a, const sp_volume *b,
                           double abs_tol, double rel_tol, char *why,
                           size_t why_cap);

/* Path of the only file in `dir` whose name starts with `prefix` and ends
 * with `suffix`, malloc'd; NULL (and a reason in `why`) when there is none
 * or more than one. */
char *find_single_file(const char *dir, const char *prefix,
                       const char *suffix, char *why, size_t why_cap);

#endif
