/* Pipeline config files (INI via libinih): an ordered list of [stage]
 * sections with parameters, plus a [pipeline] section naming the series it
 * suits. Everything is validated before anything runs; every error names
 * the file, line, stage and parameter. */
#include "engine.h"

#include <ctype.h>
#include <dirent.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/output.h"
#include "paths.h"

#define MAX_STAGES 64
#define MAX_KEYS 512

typedef struct parse_state {
    const char *path;
    const sp_registry *reg;
    sp_pipeline *p;
    FILE *file;
    int line;            /* line most recently read */
    int stage_lines[MAX_STAGES];
    char section[64];    /* current section as seen by the reader */
    int in_pipeline;     /* current section is [pipeline] */
    int skip;            /* current section failed; ignore its keys */
    struct {
        char stage[64];
        char key[64];
        int line;
    } seen[MAX_KEYS];
    size_t n_seen;
    sp_error *err;
    int failed;
} parse_state;

static sp_status fail_at(parse_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static sp_status fail_at(parse_state *s, const char *fmt, ...)
{
    if (s->failed)
        return SP_CONFIG;
    char msg[SP_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->failed = 1;
    return sp_error_set(s->err, SP_CONFIG, "%s:%d: %s", s->path, s->line,
                        msg);
}

static void begin_section(parse_state *s, const char *name)
{
    snprintf(s->section, sizeof s->section, "%s", name);
    s->in_pipeline = strcmp(name, "pipeline") == 0;
    s->skip = 0;
    if (s->in_pipeline)
        return;
    const sp_stage_module *m = sp_registry_find(s->reg, name);
    if (!m) {
        const sp_stage_refusal *r = sp_registry_refusal(s->reg, name);
        if (r)
            fail_at(s, "stage '%s' could not be loaded: %s", name, r->reason);
        else
            fail_at(s, "unknown stage '%s' (see 'spinepipe stages')", name);
        s->skip = 1;
        return;
    }
    for (size_t i = 0; i < s->p->n_stages; i++)
        if (s->p->stages[i].module == m) {
            fail_at(s, "stage '%s' appears twice (first on line %d)", name,
                    s->p->stages[i].line);
            s->skip = 1;
            return;
        }
    if (s->p->n_stages == MAX_STAGES) {
        fail_at(s, "more than %d stages", MAX_STAGES);
        s->skip = 1;
        return;
    }
    sp_stage_instance *inst = &s->p->stages[s->p->n_stages];
    if (sp_options_new(m->desc, &inst->options, s->err) != SP_OK) {
        s->failed = 1;
        s->skip = 1;
        return;
    }
    inst->module = m;
    inst->line = s->line;
    s->p->n_stages++;
}

/* inih reads line by line through this function, so it knows the line of
 * every key and sees sections that have no keys. */
static char *reader(char *str, int num, void *stream)
{
    parse_state *s = stream;
    if (!fgets(str, num, s->file))
        return NULL;
    s->line++;
    size_t len = strlen(str);
    if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(s->file)) {
        fail_at(s, "line is longer than %d characters", num - 2);
        int c;
        while ((c = fgetc(s->file)) != EOF && c != '\n')
            ;
        str[0] = '\0';
        return str;
    }
    char *t = str;
    if (s->line == 1 && strncmp(t, "\xEF\xBB\xBF", 3) == 0)
        t += 3;
    /* The same leading white space inih skips (isspace: also \f, \v). */
    while (isspace((unsigned char)*t))
        t++;
    if (*t == '[') {
        char *close = strchr(t, ']');
        if (close) {
            char name[64];
            size_t n = (size_t)(close - t - 1);
            if (n >= sizeof name) {
                fail_at(s, "section name is too long");
                return str;
            }
            memcpy(name, t + 1, n);
            name[n] = '\0';
            begin_section(s, name);
        }
    }
    return str;
}

static sp_status set_string(parse_state *s, char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return fail_at(s, "out of memory");
    free(*slot);
    *slot = copy;
    return SP_OK;
}

static int note_key(parse_state *s, const char *section, const char *key)
{
    for (size_t i = 0; i < s->n_seen; i++)
        if (strcmp(s->seen[i].stage, section) == 0 &&
            strcmp(s->seen[i].key, key) == 0) {
            if (strcmp(section, "pipeline") == 0)
                fail_at(s, "[pipeline]: '%s' is set twice (first on line "
                        "%d)", key, s->seen[i].line);
            else
                fail_at(s, "stage '%s', parameter '%s': set twice (first "
                        "on line %d)", section, key, s->seen[i].line);
            return 0;
        }
    if (s->n_seen == MAX_KEYS) {
        fail_at(s, "more than %d settings", MAX_KEYS);
        return 0;
    }
    snprintf(s->seen[s->n_seen].stage, sizeof s->seen[0].stage, "%s",
             section);
    snprintf(s->seen[s->n_seen].key, sizeof s->seen[0].key, "%s", key);
    s->seen[s->n_seen].line = s->line;
    s->n_seen++;
    return 1;
}

static int pipeline_key(parse_state *s, const char *name, const char *value)
{
    char **slot = NULL;
    if (strcmp(name, "name") == 0)
        slot = &s->p->name;
    else if (strcmp(name, "description") == 0)
        slot = &s->p->description;
    else if (strcmp(name, "modality") == 0)
        slot = &s->p->modality;
    else if (strcmp(name, "orientation") == 0) {
        static const char *const ok[] = {"any", "axial", "sagittal",
                                         "coronal", "oblique"};
        int found = 0;
        for (size_t i = 0; i < 5; i++)
            found |= strcmp(value, ok[i]) == 0;
        if (!found) {
            fail_at(s, "[pipeline]: orientation '%s' is not one of any, "
                    "axial, sagittal, coronal, oblique", value);
            return 0;
        }
        slot = &s->p->orientation;
    } else if (strcmp(name, "default") == 0) {
        /* read again when choosing (header_handler); only checked here */
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            fail_at(s, "[pipeline]: default '%s' is not true or false",
                    value);
            return 0;
        }
        return 1;
    }
    if (!slot) {
        fail_at(s, "[pipeline]: unknown key '%s' (use name, description, "
                "modality, orientation, default)", name);
        return 0;
    }
    return set_string(s, slot, value) == SP_OK;
}

static int handler(void *user, const char *section, const char *name,
                   const char *value)
{
    parse_state *s = user;
    if (s->failed || s->skip)
        return 1;
    if (!*section) {
        fail_at(s, "'%s' is set before any [section]", name);
        return 0;
    }
    /* Our reader and inih must agree on the section (a name inih
     * truncates, odd white space); otherwise the key has no stage. */
    if (strcmp(section, s->section) != 0 ||
        (!s->in_pipeline && s->p->n_stages == 0)) {
        fail_at(s, "section [%.60s] cannot be read (at most 49 printable "
                "characters)", section);
        return 0;
    }
    if (!note_key(s, section, name))
        return 0;
    if (s->in_pipeline)
        return pipeline_key(s, name, value);
    sp_stage_instance *inst = &s->p->stages[s->p->n_stages - 1];
    const sp_stage_descriptor *d = inst->module->desc;
    const sp_param *prm = sp_param_find(d, name);
    if (!prm) {
        fail_at(s, "stage '%s': unknown parameter '%s' (see 'spinepipe "
                "stages --describe %s')", d->name, name, d->name);
        return 0;
    }
    char why[512];
    if (sp_param_set(prm, value, inst->options, why, sizeof why) != SP_OK) {
        fail_at(s, "stage '%s', parameter '%s' (%s): %s", d->name, name,
                sp_param_type_name(prm->type), why);
        return 0;
    }
    return 1;
}

void sp_pipeline_free(sp_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_stages; i++)
        sp_options_free(p->stages[i].module->desc, p->stages[i].options);
    free(p->stages);
    free(p->path);
    free(p->name);
    free(p->description);
    free(p->modality);
    free(p->orientation);
    free(p);
}

static sp_status apply_override(sp_pipeline *p, const char *spec,
                                sp_error *err)
{
    const char *eq = strchr(spec, '=');
    const char *dot = strchr(spec, '.');
    if (!eq || !dot || dot > eq || dot == spec || dot + 1 == eq)
        return sp_error_set(err, SP_CONFIG,
                            "--set '%s': expected STAGE.PARAM=VALUE", spec);
    char stage[64], param[64];
    size_t ns = (size_t)(dot - spec), np = (size_t)(eq - dot - 1);
    if (ns >= sizeof stage || np >= sizeof param)
        return sp_error_set(err, SP_CONFIG, "--set '%s': name too long",
                            spec);
    memcpy(stage, spec, ns);
    stage[ns] = '\0';
    memcpy(param, dot + 1, np);
    param[np] = '\0';
    for (size_t i = 0; i < p->n_stages; i++) {
        const sp_stage_descriptor *d = p->stages[i].module->desc;
        if (strcmp(d->name, stage) != 0)
            continue;
        const sp_param *prm = sp_param_find(d, param);
        if (!prm)
            return sp_error_set(err, SP_CONFIG,
                                "--set %s: stage '%s': unknown parameter "
                                "'%s' (see 'spinepipe stages --describe %s')",
                                spec, stage, param, stage);
        char why[512];
        if (sp_param_set(prm, eq + 1, p->stages[i].options, why,
                         sizeof why) != SP_OK)
            return sp_error_set(err, SP_CONFIG,
                                "--set %s: stage '%s', parameter '%s' (%s): "
                                "%s",
                                spec, stage, param,
                                sp_param_type_name(prm->type), why);
        return SP_OK;
    }
    return sp_error_set(err, SP_CONFIG,
                        "--set %s: stage '%s' is not in pipeline %s", spec,
                        stage, p->path);
}

static int list_has(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static sp_status artifact_missing(const sp_pipeline *p, size_t stage,
                                  const char *const *avail, size_t n,
                                  const char *what, const char *name,
                                  sp_error *err)
{
    char have[512] = "";
    size_t used = 0;
    for (size_t a = 0; a < n; a++) {
        int w = snprintf(have + used, sizeof have - used, "%s%s",
                         a ? ", " : "", avail[a]);
        if (w > 0 && (size_t)w < sizeof have - used)
            used += (size_t)w;
    }
    return sp_error_set(err, SP_CONFIG,
                        "%s:%d: stage '%s' %s artifact '%s', which no "
                        "earlier stage provides (available: %s)",
                        p->path, p->stages[stage].line,
                        p->stages[stage].module->desc->name, what, name,
                        have);
}

/* Each stage's required artifacts, and the artifacts its ARTIFACT
 * parameters name, must come from the series ("volume.hu") or from an
 * earlier stage. */
static sp_status check_artifact_flow(const sp_pipeline *p, sp_error *err)
{
    const char *avail[256] = {"volume.hu"};
    size_t n = 1;
    for (size_t i = 0; i < p->n_stages; i++) {
        const sp_stage_descriptor *d = p->stages[i].module->desc;
        for (size_t r = 0; d->requires && d->requires[r]; r++)
            if (!list_has(avail, n, d->requires[r]))
                return artifact_missing(p, i, avail, n, "requires",
                                        d->requires[r], err);
        for (size_t k = 0; k < d->n_params; k++) {
            if (d->params[k].type != SP_PARAM_ARTIFACT)
                continue;
            const char *name = *(char *const *)((const char *)
                                                    p->stages[i].options +
                                                d->params[k].offset);
            if (!list_has(avail, n, name)) {
                char what[128];
                snprintf(what, sizeof what, "parameter '%s' names",
                         d->params[k].name);
                return artifact_missing(p, i, avail, n, what, name, err);
            }
        }
        for (size_t q = 0; d->provides && d->provides[q]; q++)
            if (!list_has(avail, n, d->provides[q]) &&
                n < sizeof avail / sizeof avail[0])
                avail[n++] = d->provides[q];
    }
    return SP_OK;
}

sp_status sp_pipeline_load(const char *path, const sp_registry *reg,
                           const char *const *overrides, size_t n_overrides,
                           sp_pipeline **out, sp_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return sp_error_set(err, SP_NOINPUT, "%s: cannot open pipeline file",
                            path);
    parse_state *s = calloc(1, sizeof *s);
    sp_pipeline *p = calloc(1, sizeof *p);
    sp_stage_instance *stages = calloc(MAX_STAGES, sizeof *stages);
    char *path_copy = strdup(path);
    if (!s || !p || !stages || !path_copy) {
        fclose(f);
        free(s);
        free(p);
        free(stages);
        free(path_copy);
        return sp_error_set(err, SP_NOMEM, "out of memory reading %s", path);
    }
    p->stages = stages;
    p->path = path_copy;
    s->path = path;
    s->reg = reg;
    s->p = p;
    s->file = f;
    s->err = err;
    int rc = ini_parse_stream(reader, s, handler, s);
    fclose(f);
    sp_status st = SP_OK;
    if (s->failed)
        st = SP_CONFIG;
    else if (rc > 0)
        st = sp_error_set(err, SP_CONFIG,
                          "%s:%d: syntax error (expected [stage] or name = "
                          "value)",
                          path, rc);
    else if (rc < 0)
        st = sp_error_set(err, SP_IO, "%s: cannot read", path);
    else if (p->n_stages == 0)
        st = sp_error_set(err, SP_CONFIG, "%s: the pipeline has no stages",
                          path);
    free(s);
    for (size_t i = 0; st == SP_OK && i < n_overrides; i++)
        st = apply_override(p, overrides[i], err);
    if (st == SP_OK)
        st = check_artifact_flow(p, err);
    if (st != SP_OK) {
        sp_pipeline_free(p);
        return st;
    }
    *out = p;
    return SP_OK;
}

json_t *sp_pipeline_json(const sp_pipeline *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(p->path));
    if (p->name)
        json_object_set_new(o, "name", json_string(p->name));
    json_t *stages = json_array();
    for (size_t i = 0; i < p->n_stages; i++) {
        const sp_stage_descriptor *d = p->stages[i].module->desc;
        json_t *params = json_object();
        for (size_t k = 0; k < d->n_params; k++)
            json_object_set_new(params, d->params[k].name,
                                sp_param_value_json(&d->params[k],
                                                    p->stages[i].options));
        json_array_append_new(stages,
                              json_pack("{s:s, s:s, s:o}", "name", d->name,
                                        "version", d->version, "parameters",
                                        params));
    }
    json_object_set_new(o, "stages", stages);
    return o;
}

/* ---- choosing the default pipeline ------------------------------------- */

typedef struct header_info {
    char modality[32];
    char orientation[32];
    int explicit_only; /* default = false: only through --config */
} header_info;

static int header_handler(void *user, const char *section, const char *name,
                          const char *value)
{
    header_info *h = user;
    if (strcmp(section, "pipeline") != 0)
        return 1;
    if (strcmp(name, "modality") == 0)
        snprintf(h->modality, sizeof h->modality, "%s", value);
    else if (strcmp(name, "orientation") == 0)
        snprintf(h->orientation, sizeof h->orientation, "%s", value);
    else if (strcmp(name, "default") == 0)
        h->explicit_only = strcmp(value, "false") == 0;
    return 1;
}

static int score(const header_info *h, const char *modality,
                 const char *orientation)
{
    int sc = 0;
    if (h->explicit_only)
        return -1;
    if (h->modality[0]) {
        if (strcasecmp(h->modality, modality) != 0)
            return -1;
        sc += 4;
    }
    if (h->orientation[0] && strcmp(h->orientation, "any") != 0) {
        if (strcmp(h->orientation, orientation) != 0)
            return -1;
        sc += 2;
    }
    return sc;
}

static void consider_dir(const char *dir, const char *modality,
                         const char *orientation, int *best, char *path,
                         size_t path_size)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".ini") != 0)
            continue;
        char file[PATH_MAX];
        if (sp_path_join(file, sizeof file, dir, e->d_name) != 0)
            continue;
        header_info h = {{0}, {0}, 0};
        if (ini_parse(file, header_handler, &h) < 0)
            continue;
        int sc = score(&h, modality, orientation);
        /* Ties go to the alphabetically first file, whatever readdir's
         * order. */
        if (sc > *best || (sc == *best && sc >= 0 && strcmp(file, path) < 0)) {
            *best = sc;
            snprintf(path, path_size, "%s", file);
        }
    }
    closedir(d);
}

sp_status sp_pipeline_choose_default(const char *modality,
                                     const char *orientation, char *path,
                                     size_t path_size, sp_error *err)
{
    const char *dirs[3];
    size_t n = 0;
    const char *env = getenv("SPINEPIPE_CONFIG_PATH");
    if (env && *env)
        dirs[n++] = env;
    dirs[n++] = sp_running_from_build_tree() ? sp_source_config_dir()
                                             : sp_install_config_dir();
    for (size_t i = 0; i < n; i++) {
        int best = -1;
        path[0] = '\0';
        consider_dir(dirs[i], modality, orientation, &best, path, path_size);
        if (best >= 0)
            return SP_OK;
    }
    return sp_error_set(err, SP_CONFIG,
                        "no pipeline in %s%s%s suits modality '%s', "
                        "orientation '%s' (give one with --config)",
                        dirs[0], n > 1 ? " or " : "", n > 1 ? dirs[1] : "",
                        modality, orientation);
}
