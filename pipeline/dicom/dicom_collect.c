/* Growable lists of header records and skipped files, and the string
 * sanitiser used for every header field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dicom_internal.h"

void spd_copy_clean(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return;
    size_t n = 0;
    if (src)
        for (; src[n] && n + 1 < size; n++) {
            unsigned char ch = (unsigned char)src[n];
            dst[n] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
        }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

/* Room for `want` items. A collection starts at one item: a file's own
 * collection (dicom_scan.cc) mostly holds one record, and 64 of them
 * (83 KB) per file were fresh heap pages. */
static int reserve(void **items, size_t *cap, size_t want, size_t elem)
{
    if (want <= *cap)
        return 1;
    if (want > SIZE_MAX / elem)
        return 0;
    void *p = realloc(*items, want * elem);
    if (!p)
        return 0;
    *items = p;
    *cap = want;
    return 1;
}

static int grow(void **items, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 1;
    if (*cap > SIZE_MAX / 2)
        return 0;
    return reserve(items, cap, *cap ? *cap * 2 : 1, elem);
}

sp_status spd_collect_reserve(spd_collect *c, size_t records, size_t skipped)
{
    if (!reserve((void **)&c->records, &c->cap_records, records,
                 sizeof *c->records) ||
        !reserve((void **)&c->skipped, &c->cap_skipped, skipped,
                 sizeof *c->skipped))
        return SP_NOMEM;
    return SP_OK;
}

sp_status spd_collect_record(spd_collect *c, const spd_record *rec)
{
    if (!grow((void **)&c->records, &c->cap_records, c->n_records,
              sizeof *c->records))
        return SP_NOMEM;
    spd_record *r = &c->records[c->n_records];
    *r = *rec;
    r->path = strdup(rec->path);
    if (!r->path)
        return SP_NOMEM;
    c->n_records++;
    return SP_OK;
}

sp_status spd_collect_skip(spd_collect *c, const char *path, sp_status code,
                           const char *reason)
{
    if (!grow((void **)&c->skipped, &c->cap_skipped, c->n_skipped,
              sizeof *c->skipped))
        return SP_NOMEM;
    sp_dicom_skipped *s = &c->skipped[c->n_skipped];
    s->code = code;
    s->path = strdup(path);
    size_t len = strlen(reason);
    s->reason = malloc(len + 1);
    if (!s->path || !s->reason) {
        free(s->path);
        free(s->reason);
        return SP_NOMEM;
    }
    spd_copy_clean(s->reason, len + 1, reason);
    c->n_skipped++;
    return SP_OK;
}

void spd_collect_free(spd_collect *c)
{
    for (size_t i = 0; i < c->n_records; i++)
        free(c->records[i].path);
    for (size_t i = 0; i < c->n_skipped; i++) {
        free(c->skipped[i].path);
        free(c->skipped[i].reason);
    }
    free(c->records);
    free(c->skipped);
    memset(c, 0, sizeof *c);
}
