/* The artifact store of one series: named volumes, masks, label maps, key
 * images and JSON tables, owned by the store. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "volume_pool.h"
typedef struct entry {
    char *name;
    sp_artifact_kind kind;
    sp_volume vol;  /* volume kinds */
    json_t *table;  /* SP_ARTIFACT_TABLE */
    char *consumed_by; /* the stage that took vol's buffer, or NULL */
} entry;

/* Entries are allocated one by one: stages hold pointers to stored
 * volumes while later artifacts are added. */
struct sp_store {
    entry **items;
    size_t n;
};

const char *sp_artifact_kind_name(sp_artifact_kind k)
{
    switch (k) {
    case SP_ARTIFACT_VOLUME: return "volume";
    case SP_ARTIFACT_MASK: return "mask";
    case SP_ARTIFACT_LABELS: return "labels";
    case SP_ARTIFACT_TABLE: return "table";
    case SP_ARTIFACT_IMAGE: return "image";
    }
    return "unknown";
}

sp_status sp_store_new(sp_store **store, sp_error *err)
{
    *store = calloc(1, sizeof **store);
    return *store ? SP_OK
                  : sp_error_set(err, SP_NOMEM, "out of memory for a store");
}

void sp_store_free(sp_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i]->name);
        free(s->items[i]->consumed_by);
        sp_pool_volume_free(&s->items[i]->vol);
        json_decref(s->items[i]->table);
        free(s->items[i]);
    }
    free(s->items);
    free(s);
}

static const entry *find(const sp_store *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i]->name, name) == 0)
            return s->items[i];
    return NULL;
}

int sp_store_has(const sp_store *s, const char *name)
{
    return find(s, name) != NULL;
}

static sp_status add(sp_store *s, const char *name, entry *e, sp_error *err)
{
    if (!name || !*name)
        return sp_error_set(err, SP_STAGE, "artifact without a name");
    if (find(s, name))
        return sp_error_set(err, SP_STAGE,
                            "artifact '%s' is already in the store", name);
    entry **grown = realloc(s->items, (s->n + 1) * sizeof *s->items);
    if (grown)
        s->items = grown;
    entry *copy = grown ? malloc(sizeof *copy) : NULL;
    char *name_copy = copy ? strdup(name) : NULL;
    if (!name_copy) {
        free(copy);
        return sp_error_set(err, SP_NOMEM, "out of memory storing '%s'",
                            name);
    }
    *copy = *e;
    copy->name = name_copy;
    copy->consumed_by = NULL;
    s->items[s->n++] = copy;
    return SP_OK;
}

static sp_status check_volume(const char *name, sp_artifact_kind kind,
                              const sp_volume *vol, sp_error *err)
{
    static const int wanted[] = {
        [SP_ARTIFACT_MASK] = SP_VOXEL_U8, [SP_ARTIFACT_LABELS] = SP_VOXEL_U16,
        [SP_ARTIFACT_IMAGE] = SP_VOXEL_U8};
    if (!vol || !vol->data)
        return sp_error_set(err, SP_STAGE, "artifact '%s': empty volume",
                            name);
    if (kind == SP_ARTIFACT_TABLE || (unsigned)kind > SP_ARTIFACT_IMAGE)
        return sp_error_set(err, SP_STAGE,
                            "artifact '%s': kind %d is not a volume kind",
                            name, (int)kind);
    if (kind != SP_ARTIFACT_VOLUME && (int)vol->type != wanted[kind])
        return sp_error_set(err, SP_STAGE,
                            "artifact '%s': a %s must hold %s voxels", name,
                            sp_artifact_kind_name(kind),
                            kind == SP_ARTIFACT_LABELS ? "U16" : "U8");
    if (kind == SP_ARTIFACT_IMAGE && vol->dim[2] != 1)
        return sp_error_set(err, SP_STAGE,
                            "artifact '%s': a key image has one slice, not "
                            "%zu",
                            name, vol->dim[2]);
    return SP_OK;
}

sp_status sp_store_put_volume(sp_store *s, const char *name,
                              sp_artifact_kind kind, sp_volume *vol,
                              sp_error *err)
{
    entry e = {.kind = kind};
    sp_status st = check_volume(name ? name : "", kind, vol, err);
    if (st == SP_OK) {
        e.vol = *vol;
        memset(vol, 0, sizeof *vol);
        st = add(s, name, &e, err);
        if (st != SP_OK)
            sp_pool_volume_free(&e.vol);
    } else {
        sp_pool_volume_free(vol);
    }
    return st;
}

sp_status sp_store_put_table(sp_store *s, const char *name, json_t *json,
                             sp_error *err)
{
    if (!json)
        return sp_error_set(err, SP_STAGE, "artifact '%s': empty table",
                            name ? name : "");
    entry e = {.kind = SP_ARTIFACT_TABLE, .table = json};
    sp_status st = add(s, name, &e, err);
    if (st != SP_OK)
        json_decref(json);
    return st;
}

const sp_volume *sp_store_volume(const sp_store *s, const char *name,
                                 sp_artifact_kind kind)
{
    const entry *e = find(s, name);
    return e && e->kind == kind && kind != SP_ARTIFACT_TABLE &&
                   !e->consumed_by
               ? &e->vol
               : NULL;
}

int sp_store_take_volume(sp_store *s, const char *name,
                         sp_artifact_kind kind, const char *by,
                         sp_volume *out)
{
    memset(out, 0, sizeof *out);
    entry *e = (entry *)find(s, name);
    if (!e || e->kind != kind || kind == SP_ARTIFACT_TABLE || e->consumed_by)
        return 0;
    char *by_copy = strdup(by ? by : "");
    if (!by_copy)
        return 0;
    *out = e->vol;
    /* The entry keeps the grid for run.json's artifact list. */
    e->vol.data = NULL;
    e->consumed_by = by_copy;
    return 1;
}

const json_t *sp_store_table(const sp_store *s, const char *name)
{
    const entry *e = find(s, name);
    return e && e->kind == SP_ARTIFACT_TABLE ? e->table : NULL;
}

json_t *sp_store_json(const sp_store *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = s->items[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(e->name));
        json_object_set_new(o, "kind",
                            json_string(sp_artifact_kind_name(e->kind)));
        if (e->kind != SP_ARTIFACT_TABLE)
            json_object_set_new(o, "dim",
                                json_pack("[III]", (json_int_t)e->vol.dim[0],
                                          (json_int_t)e->vol.dim[1],
                                          (json_int_t)e->vol.dim[2]));
        if (e->consumed_by)
            json_object_set_new(o, "consumed_by",
                                json_string(e->consumed_by));
        json_array_append_new(a, o);
    }
    return a;
}
