/* See convert_support.h. */
#include "convert_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int run_program(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log,
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static double column_distance(const sp_volume *a, int ia, const sp_volume *b,
                              int ib, double sign)
{
    double d = 0;
    for (int r = 0; r < 3; r++)
        d = fmax(d, fabs(a->vox2lps[r][ia] - sign * b->vox2lps[r][ib]));
    return d;
}

int grid_same_lattice(const sp_volume *a, const sp_volume *b, double tol_mm,
                      int allow_permute, grid_map *gm, char *why,
                      size_t why_cap)
{
    int used[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        gm->map[i] = -1;
        for (int j = 0; j < 3 && gm->map[i] < 0; j++) {
            if (used[j] || (!allow_permute && j != i))
                continue;
            for (int s = 1; s >= -1; s -= 2) {
                if (column_distance(a, i, b, j, s) <= tol_mm) {
                    gm->map[i] = j;
                    gm->sign[i] = s;
                    used[j] = 1;
                    break;
                }
            }
        }
        if (gm->map[i] < 0) {
            snprintf(why, why_cap,
                     "axis %d step (%.4f, %.4f, %.4f) matches no axis of the "
                     "other grid",
                     i, a->vox2lps[0][i], a->vox2lps[1][i], a->vox2lps[2][i]);
            return 0;
        }
        if (a->dim[i] != b->dim[gm->map[i]]) {
            snprintf(why, why_cap, "axis %d has %zu voxels, its match %d has %zu",
                     i, a->dim[i], gm->map[i], b->dim[gm->map[i]]);
            return 0;
        }
    }
    /* a's first voxel must sit on b's corner chosen by the signs. */
    double origin[3] = {a->vox2lps[0][3], a->vox2lps[1][3], a->vox2lps[2][3]};
    double ijk[3];
    if (sp_volume_patient_to_voxel(b, origin, ijk) != SP_OK) {
        snprintf(why, why_cap, "the other grid is singular");
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        int j = gm->map[i];
        double want = gm->sign[i] > 0 ? 0.0 : (double)(b->dim[j] - 1);
        double off_mm = fabs(ijk[j] - want) * b->spacing[j];
        if (off_mm > tol_mm) {
            snprintf(why, why_cap,
                     "first voxel lands at index %.4f on axis %d, not %.0f "
                     "(%.4f mm off)",
                     ijk[j], j, want, off_mm);
            return 0;
        }
    }
    return 1;
}

static double value_at(const sp_volume *v, size_t idx)
{
    switch (v->type) {
    case SP_VOXEL_F32: return ((const float *)v->data)[idx];
    case SP_VOXEL_U8: return ((const uint8_t *)v->data)[idx];
    case SP_VOXEL_U16: return ((const uint16_t *)v->data)[idx];
    }
    return NAN;
}

size_t grid_compare_values(const sp_volume *a, const sp_volume *b,
                           double abs_tol, double rel_tol, char *why,
                           size_t why_cap)
{
    size_t bad = 0;
    why[0] = '\0';
    for (size_t k = 0; k < a->dim[2]; k++)
        for (size_t j = 0; j < a->dim[1]; j++)
            for (size_t i = 0; i < a->dim[0]; i++) {
                double ijk[3] = {(double)i, (double)j, (double)k}, lps[3],
                       other[3];
                sp_volume_voxel_to_patient(a, ijk, lps);
                if (sp_volume_patient_to_voxel(b, lps, other) != SP_OK)
                    return (size_t)-1;
                size_t at[3];
                int inside = 1;
                for (int d = 0; d < 3; d++) {
                    double r = floor(other[d] + 0.5);
                    if (fabs(other[d] - r) > 1e-3 || r < 0 ||
                        r >= (double)b->dim[d])
                        inside = 0;
                    else
                        at[d] = (size_t)r;
                }
                double va = value_at(a, sp_volume_index(a, i, j, k));
                double vb = inside ? value_at(b, sp_volume_index(b, at[0],
                                                                 at[1], at[2]))
                                   : NAN;
                if (!inside || !(fabs(va - vb) <= abs_tol + rel_tol * fabs(va))) {
                    if (bad++ == 0)
                        snprintf(why, why_cap,
                                 "voxel (%zu, %zu, %zu) at LPS (%.3f, %.3f, "
                                 "%.3f): %g vs %s%g",
                                 i, j, k, lps[0], lps[1], lps[2], va,
                                 inside ? "" : "outside the other grid ", vb);
                }
            }
    return bad;
}

char *find_single_file(const char *dir, const char *prefix,
                       const char *suffix, char *why, size_t why_cap)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, why_cap, "cannot open %s", dir);
        return NULL;
    }
    char *found = NULL;
    int count = 0;
    struct dirent *e;
    size_t np = strlen(prefix), ns = strlen(suffix);
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < np + ns || strncmp(e->d_name, prefix, np) != 0 ||
            strcmp(e->d_name + n - ns, suffix) != 0)
            continue;
        if (count++ == 0) {
            size_t len = strlen(dir) + n + 2;
            found = malloc(len);
            snprintf(found, len, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (count != 1) {
        snprintf(why, why_cap, "%d files %s*%s in %s, expected 1", count,
                 prefix, suffix, dir);
        free(found);
        return NULL;
    }
    return found;
}
