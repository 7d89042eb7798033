/* Grouping header records into volumes, sorting slices along the normal
 * and checking the stack: duplicates, gaps, uneven spacing, gantry tilt.
 * Plain C: no DCMTK needed here. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom_internal.h"

#define ORIENT_TOL 1e-3      /* cosines that differ less are one plane */
#define SPACING_REL_TOL 1e-3 /* pixel spacings that differ less are equal */
#define DUPLICATE_TOL 0.01   /* mm along the normal */
#define GAP_FACTOR 1.5       /* a step above 1.5 x median is missing slices */
#define UNEVEN_TOL 0.05      /* mm (or 1 % of the median, if larger) */
#define TILT_WARN_DEG 0.05

static void normal_of(const double o[6], double n[3])
{
    n[0] = o[1] * o[5] - o[2] * o[4];
    n[1] = o[2] * o[3] - o[0] * o[5];
    n[2] = o[0] * o[4] - o[1] * o[3];
    double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (len > 0)
        for (int i = 0; i < 3; i++)
            n[i] /= len;
}

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Records sorted by study, series and series number form blocks. */
static int compare_series_key(const void *pa, const void *pb)
{
    const spd_record *a = pa, *b = pb;
    int c = strcmp(a->header.study_uid, b->header.study_uid);
    if (c)
        return c;
    if ((c = strcmp(a->header.series_uid, b->header.series_uid)))
        return c;
    if (a->header.series_number != b->header.series_number)
        return a->header.series_number < b->header.series_number ? -1 : 1;
    if ((c = strcmp(a->path, b->path)))
        return c;
    return a->frame < b->frame ? -1 : a->frame > b->frame;
}

static int same_series_key(const spd_record *a, const spd_record *b)
{
    return !strcmp(a->header.study_uid, b->header.study_uid) &&
           !strcmp(a->header.series_uid, b->header.series_uid) &&
           a->header.series_number == b->header.series_number;
}

static int rel_equal(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(fabs(a), fabs(b));
}

/* Slices of one volume share plane, matrix, pixel size and sample layout. */
static int same_volume(const spd_record *a, const spd_record *b)
{
    for (int i = 0; i < 6; i++)
        if (fabs(a->orientation[i] - b->orientation[i]) > ORIENT_TOL)
            return 0;
    return a->rows == b->rows && a->columns == b->columns &&
           a->bits_allocated == b->bits_allocated &&
           a->samples_per_pixel == b->samples_per_pixel &&
           rel_equal(a->pixel_spacing[0], b->pixel_spacing[0],
                     SPACING_REL_TOL) &&
           rel_equal(a->pixel_spacing[1], b->pixel_spacing[1],
                     SPACING_REL_TOL);
}

static int same_subkey(const spd_record *a, const spd_record *b)
{
    return a->acquisition == b->acquisition && a->echo == b->echo &&
           a->temporal == b->temporal;
}

/* One volume being assembled: indices into the record array. */
typedef struct group {
    size_t *idx;
    size_t n, cap;
    size_t block; /* series-key block it came from */
} group;

typedef struct grouping {
    spd_record *rec;
    double *along;
    group *groups;
    size_t n_groups, cap_groups;
} grouping;

static group *new_group(grouping *g, size_t block)
{
    if (g->n_groups == g->cap_groups) {
        size_t nc = g->cap_groups ? g->cap_groups * 2 : 16;
        group *ng = realloc(g->groups, nc * sizeof *ng);
        if (!ng)
            return NULL;
        g->groups = ng;
        g->cap_groups = nc;
    }
    group *gr = &g->groups[g->n_groups++];
    memset(gr, 0, sizeof *gr);
    gr->block = block;
    return gr;
}

static sp_status group_add(group *gr, size_t i)
{
    if (gr->n == gr->cap) {
        size_t nc = gr->cap ? gr->cap * 2 : 32;
        size_t *ni = realloc(gr->idx, nc * sizeof *ni);
        if (!ni)
            return SP_NOMEM;
        gr->idx = ni;
        gr->cap = nc;
    }
    gr->idx[gr->n++] = i;
    return SP_OK;
}

/* qsort has no context argument; the sort runs on one thread at a time
 * per grouping call, so the along-normal values ride in a thread-local. */
static _Thread_local const double *sort_along;
static _Thread_local const spd_record *sort_rec;

static int compare_along(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    if (sort_along[a] != sort_along[b])
        return sort_along[a] < sort_along[b] ? -1 : 1;
    int c = strcmp(sort_rec[a].path, sort_rec[b].path);
    if (c)
        return c;
    return sort_rec[a].frame < sort_rec[b].frame ? -1
                                                  : sort_rec[a].frame >
                                                        sort_rec[b].frame;
}

static void sort_group(const grouping *g, group *gr)
{
    sort_along = g->along;
    sort_rec = g->rec;
    qsort(gr->idx, gr->n, sizeof *gr->idx, compare_along);
}

static int has_duplicates(const grouping *g, const group *gr)
{
    for (size_t k = 1; k < gr->n; k++)
        if (g->along[gr->idx[k]] - g->along[gr->idx[k - 1]] < DUPLICATE_TOL)
            return 1;
    return 0;
}

static int compare_subkey(const void *pa, const void *pb)
{
    const spd_record *a = &sort_rec[*(const size_t *)pa];
    const spd_record *b = &sort_rec[*(const size_t *)pb];
    if (a->acquisition != b->acquisition)
        return a->acquisition < b->acquisition ? -1 : 1;
    if (a->echo != b->echo)
        return a->echo < b->echo ? -1 : 1;
    if (a->temporal != b->temporal)
        return a->temporal < b->temporal ? -1 : 1;
    return 0;
}

/* A split by acquisition, echo or time is right only when it yields
 * stacks: sequential CT often gives every slice its own acquisition
 * number, and a single stray duplicate must not shatter that series.
 * Returns 1 to split, 0 not to, -1 when out of memory. */
static int subkey_split_helps(const grouping *g, const group *gr)
{
    size_t *order = malloc(gr->n * sizeof *order);
    if (!order)
        return -1;
    memcpy(order, gr->idx, gr->n * sizeof *order);
    sort_rec = g->rec;
    qsort(order, gr->n, sizeof *order, compare_subkey);
    size_t values = 0, run = 0;
    int helps = 1;
    for (size_t k = 0; k < gr->n && helps; k++) {
        run++;
        if (k + 1 == gr->n ||
            !same_subkey(&g->rec[order[k]], &g->rec[order[k + 1]])) {
            helps = run >= 2;
            values++;
            run = 0;
        }
    }
    free(order);
    return helps && values > 1;
}

/* When positions repeat and the records differ in acquisition, echo or
 * time, each of those is its own volume: split the group (in place, new
 * groups appended). */
static sp_status split_by_subkey(grouping *g, size_t gi)
{
    if (!has_duplicates(g, &g->groups[gi]))
        return SP_OK;
    int helps = subkey_split_helps(g, &g->groups[gi]);
    if (helps < 0)
        return SP_NOMEM;
    if (!helps)
        return SP_OK;
    group whole = g->groups[gi];
    size_t start = g->n_groups;
    g->groups[gi].idx = NULL;
    g->groups[gi].n = g->groups[gi].cap = 0;
    sp_status st = SP_OK;
    for (size_t k = 0; k < whole.n && st == SP_OK; k++) {
        const spd_record *r = &g->rec[whole.idx[k]];
        group *target = NULL;
        if (same_subkey(r, &g->rec[whole.idx[0]]))
            target = &g->groups[gi];
        for (size_t j = start; j < g->n_groups && !target; j++)
            if (same_subkey(r, &g->rec[g->groups[j].idx[0]]))
                target = &g->groups[j];
        if (!target)
            target = new_group(g, whole.block);
        st = target ? group_add(target, whole.idx[k]) : SP_NOMEM;
    }
    free(whole.idx);
    return st;
}

static sp_status add_warning(sp_dicom_series *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sp_status add_warning(sp_dicom_series *s, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char **w = realloc(s->warnings, (s->n_warnings + 1) * sizeof *w);
    if (!w)
        return SP_NOMEM;
    s->warnings = w;
    if (!(w[s->n_warnings] = strdup(text)))
        return SP_NOMEM;
    s->n_warnings++;
    return SP_OK;
}

static sp_status add_syntax(sp_dicom_series *s, const char *uid)
{
    for (size_t i = 0; i < s->n_transfer_syntaxes; i++)
        if (!strcmp(s->transfer_syntaxes[i], uid))
            return SP_OK;
    char **t = realloc(s->transfer_syntaxes,
                       (s->n_transfer_syntaxes + 1) * sizeof *t);
    if (!t)
        return SP_NOMEM;
    s->transfer_syntaxes = t;
    if (!(t[s->n_transfer_syntaxes] = strdup(uid)))
        return SP_NOMEM;
    s->n_transfer_syntaxes++;
    return SP_OK;
}

static int compare_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* Spacing, gaps, unevenness and tilt of a sorted, duplicate-free stack. */
static sp_status check_stack(sp_dicom_series *s, double slice_thickness)
{
    size_t n = s->n_slices;
    if (n < 2) {
        s->slice_spacing = slice_thickness;
        if (slice_thickness <= 0)
            return add_warning(s, "single slice without SliceThickness; "
                                  "slice spacing set to 1 mm");
        return SP_OK;
    }
    double *d = malloc((n - 1) * sizeof *d);
    double *sorted = malloc((n - 1) * sizeof *sorted);
    if (!d || !sorted) {
        free(d);
        free(sorted);
        return SP_NOMEM;
    }
    for (size_t k = 1; k < n; k++)
        d[k - 1] = sorted[k - 1] =
            s->slices[k].along_normal - s->slices[k - 1].along_normal;
    qsort(sorted, n - 1, sizeof *sorted, compare_double);
    double median = (n - 1) % 2 ? sorted[(n - 1) / 2]
                                : 0.5 * (sorted[(n - 1) / 2 - 1] +
                                         sorted[(n - 1) / 2]);
    s->slice_spacing = median;
    sp_status st = SP_OK;
    size_t gaps = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k + 1 < n && st == SP_OK; k++) {
        if (d[k] > GAP_FACTOR * median) {
            if (gaps++ < 5)
                st = add_warning(s,
                                 "missing slices: a gap of %.2f mm between "
                                 "positions %.2f and %.2f mm along the "
                                 "normal (median spacing %.2f mm)",
                                 d[k], s->slices[k].along_normal,
                                 s->slices[k + 1].along_normal, median);
        } else {
            lo = fmin(lo, d[k]);
            hi = fmax(hi, d[k]);
        }
    }
    if (st == SP_OK && gaps > 5)
        st = add_warning(s, "missing slices: %zu gaps in all", gaps);
    if (st == SP_OK && hi - lo > fmax(UNEVEN_TOL, 0.01 * median))
        st = add_warning(s,
                         "non-uniform slice spacing: steps from %.3f to "
                         "%.3f mm (median %.3f mm)",
                         lo, hi, median);
    free(d);
    free(sorted);
    const double *p0 = s->slices[0].position;
    const double *p1 = s->slices[n - 1].position;
    double stack[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]};
    double len = sqrt(dot3(stack, stack));
    if (len > 0) {
        double c = fabs(dot3(stack, s->slice_normal)) / len;
        s->gantry_tilt_deg = acos(fmin(1.0, c)) * 180.0 / M_PI;
    }
    if (st == SP_OK && s->gantry_tilt_deg > TILT_WARN_DEG)
        st = add_warning(s,
                         "gantry tilt or sheared stack: slices step %.2f "
                         "degrees off the slice normal; the volume geometry "
                         "follows the actual stack direction",
                         s->gantry_tilt_deg);
    return st;
}

/* Reverse the stack when every instance number falls along the normal. */
static void follow_instance_order(sp_dicom_series *s, const int *instance)
{
    size_t n = s->n_slices;
    if (n < 2)
        return;
    for (size_t k = 0; k < n; k++)
        if (instance[k] < 0 || (k > 0 && instance[k] >= instance[k - 1]))
            return;
    for (size_t a = 0, b = n - 1; a < b; a++, b--) {
        sp_dicom_slice t = s->slices[a];
        s->slices[a] = s->slices[b];
        s->slices[b] = t;
    }
}

/* Build one series from a sorted group; duplicates go to `c->skipped`. */
static sp_status build_series(grouping *g, group *gr, int part,
                              sp_dicom_series *s, spd_collect *c)
{
    const spd_record *first = &g->rec[gr->idx[0]];
    memset(s, 0, sizeof *s);
    s->header = first->header;
    s->part = part;
    s->rows = first->rows;
    s->columns = first->columns;
    s->bits_allocated = first->bits_allocated;
    s->samples_per_pixel = first->samples_per_pixel;
    memcpy(s->pixel_spacing, first->pixel_spacing, sizeof s->pixel_spacing);
    memcpy(s->orientation, first->orientation, sizeof s->orientation);
    normal_of(first->orientation, s->slice_normal);
    s->slices = calloc(gr->n, sizeof *s->slices);
    int *instance = malloc(gr->n * sizeof *instance);
    if (!s->slices || !instance) {
        free(instance);
        return SP_NOMEM;
    }
    sp_status st = SP_OK;
    size_t dups = 0;
    for (size_t k = 0; k < gr->n && st == SP_OK; k++) {
        spd_record *r = &g->rec[gr->idx[k]];
        double along = g->along[gr->idx[k]];
        if (s->n_slices > 0 &&
            along - s->slices[s->n_slices - 1].along_normal < DUPLICATE_TOL) {
            char reason[300];
            snprintf(reason, sizeof reason,
                     "duplicate slice position (%.3f mm along the normal, "
                     "frame %u) in series %d; the first one was kept",
                     along, (unsigned)r->frame, s->header.series_number);
            st = spd_collect_skip(c, r->path, SP_FORMAT, reason);
            dups++;
            continue;
        }
        instance[s->n_slices] = r->instance;
        sp_dicom_slice *sl = &s->slices[s->n_slices++];
        sl->path = r->path;
        r->path = NULL;
        sl->frame = r->frame;
        memcpy(sl->position, r->position, sizeof sl->position);
        sl->along_normal = along;
        sl->rescale_slope = r->rescale_slope;
        sl->rescale_intercept = r->rescale_intercept;
        if (r->pixel_bytes) {
            sl->pixel_offset = r->pixel_offset + r->frame * r->pixel_bytes;
            sl->pixel_bytes = r->pixel_bytes;
            sl->file_size = r->file_size;
            sl->file_mtime_ns = r->file_mtime_ns;
            sl->bits_stored = r->bits_stored;
            sl->high_bit = r->high_bit;
            sl->pixel_signed = r->pixel_signed;
        }
        st = add_syntax(s, r->transfer_syntax);
    }
    if (st == SP_OK && dups)
        st = add_warning(s,
                         "%zu slices repeat the position of another slice; "
                         "only the first at each position is used",
                         dups);
    if (st == SP_OK)
        st = check_stack(s, first->slice_thickness);
    if (st == SP_OK)
        follow_instance_order(s, instance);
    free(instance);
    return st;
}

static void free_series(sp_dicom_series *s)
{
    for (size_t k = 0; k < s->n_slices; k++)
        free(s->slices[k].path);
    free(s->slices);
    for (size_t k = 0; k < s->n_transfer_syntaxes; k++)
        free(s->transfer_syntaxes[k]);
    free(s->transfer_syntaxes);
    for (size_t k = 0; k < s->n_warnings; k++)
        free(s->warnings[k]);
    free(s->warnings);
}

void sp_dicom_scan_free(sp_dicom_scan *scan)
{
    if (!scan)
        return;
    for (size_t i = 0; i < scan->n_series; i++)
        free_series(&scan->series[i]);
    free(scan->series);
    for (size_t i = 0; i < scan->n_skipped; i++) {
        free(scan->skipped[i].path);
        free(scan->skipped[i].reason);
    }
    free(scan->skipped);
    free(scan);
}

static int compare_output(const void *pa, const void *pb)
{
    const sp_dicom_series *a = pa, *b = pb;
    int c = strcmp(a->header.study_date, b->header.study_date);
    if (c)
        return c;
    if ((c = strcmp(a->header.study_uid, b->header.study_uid)))
        return c;
    if (a->header.series_number != b->header.series_number)
        return a->header.series_number < b->header.series_number ? -1 : 1;
    if ((c = strcmp(a->header.series_uid, b->header.series_uid)))
        return c;
    return a->part < b->part ? -1 : a->part > b->part;
}

static sp_status make_groups(grouping *g, size_t n)
{
    size_t block = 0, block_start_group = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !same_series_key(&g->rec[i - 1], &g->rec[i])) {
            block++;
            block_start_group = g->n_groups;
        }
        group *target = NULL;
        for (size_t j = block_start_group; j < g->n_groups && !target; j++)
            if (same_volume(&g->rec[g->groups[j].idx[0]], &g->rec[i]))
                target = &g->groups[j];
        if (!target && !(target = new_group(g, block)))
            return SP_NOMEM;
        if (group_add(target, i) != SP_OK)
            return SP_NOMEM;
    }
    size_t before = g->n_groups;
    for (size_t j = 0; j < before; j++) {
        sort_group(g, &g->groups[j]);
        if (split_by_subkey(g, j) != SP_OK)
            return SP_NOMEM;
    }
    for (size_t j = 0; j < g->n_groups; j++)
        sort_group(g, &g->groups[j]);
    return SP_OK;
}

sp_status spd_group(spd_collect *c, sp_dicom_scan **out, sp_error *err)
{
    *out = NULL;
    size_t n = c->n_records;
    grouping g = {0};
    g.rec = c->records;
    sp_dicom_scan *scan = calloc(1, sizeof *scan);
    sp_status st = scan ? SP_OK : SP_NOMEM;
    if (st == SP_OK && n > 0) {
        qsort(c->records, n, sizeof *c->records, compare_series_key);
        g.along = malloc(n * sizeof *g.along);
        st = g.along ? SP_OK : SP_NOMEM;
        for (size_t i = 0; i < n && st == SP_OK; i++) {
            double normal[3];
            normal_of(c->records[i].orientation, normal);
            g.along[i] = dot3(c->records[i].position, normal);
        }
        if (st == SP_OK)
            st = make_groups(&g, n);
    }
    if (st == SP_OK && g.n_groups > 0) {
        scan->series = calloc(g.n_groups, sizeof *scan->series);
        st = scan->series ? SP_OK : SP_NOMEM;
    }
    for (size_t j = 0; j < g.n_groups && st == SP_OK; j++) {
        size_t in_block = 0, rank = 0;
        for (size_t k = 0; k < g.n_groups; k++)
            if (g.groups[k].block == g.groups[j].block) {
                if (k < j)
                    rank++;
                in_block++;
            }
        st = build_series(&g, &g.groups[j], in_block > 1 ? (int)rank + 1 : 0,
                          &scan->series[scan->n_series], c);
        scan->n_series++;
    }
    for (size_t j = 0; j < g.n_groups; j++)
        free(g.groups[j].idx);
    free(g.groups);
    free(g.along);
    if (st == SP_OK) {
        if (scan->n_series > 1)
            qsort(scan->series, scan->n_series, sizeof *scan->series,
                  compare_output);
        scan->skipped = c->skipped;
        scan->n_skipped = c->n_skipped;
        c->skipped = NULL;
        c->n_skipped = c->cap_skipped = 0;
    }
    spd_collect_free(c);
    if (st != SP_OK) {
        sp_dicom_scan_free(scan);
        return sp_error_set(err, st, "grouping DICOM slices into series "
                                     "failed: %s",
                            sp_status_message(st));
    }
    *out = scan;
    return SP_OK;
}
