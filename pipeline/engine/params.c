/* Parameter tables: parsing values into a stage's options struct, defaults,
 * and the JSON description that `spinepipe stages` prints. Everything about
 * a parameter is derived from its one row in the stage's table. */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SP_PARAM_STRING_MAX 1024

const char *sp_param_type_name(sp_param_type t)
{
    switch (t) {
    case SP_PARAM_INT: return "int";
    case SP_PARAM_FLOAT: return "float";
    case SP_PARAM_BOOL: return "bool";
    case SP_PARAM_ENUM: return "enum";
    case SP_PARAM_STRING: return "string";
    case SP_PARAM_ARTIFACT: return "artifact";
    }
    return "unknown";
}

static void *field(void *options, const sp_param *p)
{
    return (char *)options + p->offset;
}

static const void *cfield(const void *options, const sp_param *p)
{
    return (const char *)options + p->offset;
}

static void format_range(const sp_param *p, char *buf, size_t size)
{
    snprintf(buf, size, "[%g, %g]%s%s", p->min, p->max, p->unit ? " " : "",
             p->unit ? p->unit : "");
}

static sp_status bad(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sp_status bad(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return SP_CONFIG;
}

sp_status sp_param_set(const sp_param *p, const char *text, void *options,
                       char *why, size_t why_size)
{
    char range[128];
    char *end;
    switch (p->type) {
    case SP_PARAM_INT: {
        errno = 0;
        long v = strtol(text, &end, 10);
        if (end == text || *end != '\0')
            return bad(why, why_size, "'%s' is not an integer", text);
        format_range(p, range, sizeof range);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX ||
            (double)v < p->min || (double)v > p->max)
            return bad(why, why_size, "%s is out of range %s", text, range);
        *(int *)field(options, p) = (int)v;
        return SP_OK;
    }
    case SP_PARAM_FLOAT: {
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || !isfinite(v))
            return bad(why, why_size, "'%s' is not a number", text);
        format_range(p, range, sizeof range);
        if (v < p->min || v > p->max)
            return bad(why, why_size, "%s is out of range %s", text, range);
        *(double *)field(options, p) = v;
        return SP_OK;
    }
    case SP_PARAM_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0) {
                *(int *)field(options, p) = 1;
                return SP_OK;
            }
            if (strcasecmp(text, no[i]) == 0) {
                *(int *)field(options, p) = 0;
                return SP_OK;
            }
        }
        return bad(why, why_size, "'%s' is not a boolean (use true or false)",
                   text);
    }
    case SP_PARAM_ENUM: {
        char list[512] = "";
        size_t used = 0;
        for (int i = 0; p->choices && p->choices[i]; i++) {
            if (strcmp(text, p->choices[i]) == 0) {
                *(int *)field(options, p) = i;
                return SP_OK;
            }
            int n = snprintf(list + used, sizeof list - used, "%s%s",
                             i ? ", " : "", p->choices[i]);
            if (n > 0 && (size_t)n < sizeof list - used)
                used += (size_t)n;
        }
        return bad(why, why_size, "'%s' is not one of: %s", text, list);
    }
    case SP_PARAM_STRING:
    case SP_PARAM_ARTIFACT: {
        if (strlen(text) > SP_PARAM_STRING_MAX)
            return bad(why, why_size, "value is longer than %d characters",
                       SP_PARAM_STRING_MAX);
        char *copy = strdup(text);
        if (!copy)
            return bad(why, why_size, "out of memory");
        char **slot = (char **)field(options, p);
        free(*slot);
        *slot = copy;
        return SP_OK;
    }
    }
    return bad(why, why_size, "parameter has unknown type %d", (int)p->type);
}

const sp_param *sp_param_find(const sp_stage_descriptor *d, const char *name)
{
    for (size_t i = 0; i < d->n_params; i++)
        if (strcmp(d->params[i].name, name) == 0)
            return &d->params[i];
    return NULL;
}

void sp_options_free(const sp_stage_descriptor *d, void *options)
{
    if (!options)
        return;
    for (size_t i = 0; i < d->n_params; i++)
        if (d->params[i].type == SP_PARAM_STRING ||
            d->params[i].type == SP_PARAM_ARTIFACT)
            free(*(char **)field(options, &d->params[i]));
    free(options);
}

sp_status sp_options_new(const sp_stage_descriptor *d, void **options,
                         sp_error *err)
{
    *options = calloc(1, d->options_size ? d->options_size : 1);
    if (!*options)
        return sp_error_set(err, SP_NOMEM, "stage '%s': out of memory",
                            d->name);
    for (size_t i = 0; i < d->n_params; i++) {
        char why[256];
        if (sp_param_set(&d->params[i], d->params[i].default_value, *options,
                         why, sizeof why) != SP_OK) {
            sp_options_free(d, *options);
            *options = NULL;
            return sp_error_set(err, SP_PLUGIN,
                                "stage '%s', parameter '%s': default %s",
                                d->name, d->params[i].name, why);
        }
    }
    return SP_OK;
}

json_t *sp_param_value_json(const sp_param *p, const void *options)
{
    const void *f = cfield(options, p);
    switch (p->type) {
    case SP_PARAM_INT: return json_integer(*(const int *)f);
    case SP_PARAM_FLOAT: return json_real(*(const double *)f);
    case SP_PARAM_BOOL: return json_boolean(*(const int *)f);
    case SP_PARAM_ENUM: return json_string(p->choices[*(const int *)f]);
    case SP_PARAM_STRING:
    case SP_PARAM_ARTIFACT: return json_string(*(char *const *)f);
    }
    return json_null();
}

static json_t *string_list(const char *const *list)
{
    json_t *a = json_array();
    for (size_t i = 0; list && list[i]; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

json_t *sp_param_json(const sp_param *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "type", json_string(sp_param_type_name(p->type)));
    json_object_set_new(o, "default", json_string(p->default_value));
    if (p->type == SP_PARAM_INT || p->type == SP_PARAM_FLOAT) {
        if (isfinite(p->min))
            json_object_set_new(o, "min", json_real(p->min));
        if (isfinite(p->max))
            json_object_set_new(o, "max", json_real(p->max));
    }
    if (p->unit)
        json_object_set_new(o, "unit", json_string(p->unit));
    if (p->type == SP_PARAM_ENUM)
        json_object_set_new(o, "choices", string_list(p->choices));
    json_object_set_new(o, "help", json_string(p->help ? p->help : ""));
    return o;
}

json_t *sp_stage_json(const sp_stage_module *m)
{
    const sp_stage_descriptor *d = m->desc;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "version", json_string(d->version));
    json_object_set_new(o, "description", json_string(d->description));
    char abi[32];
    snprintf(abi, sizeof abi, "%u.%u", (unsigned)d->abi_major,
             (unsigned)d->abi_minor);
    json_object_set_new(o, "abi", json_string(abi));
    json_object_set_new(o, "requires", string_list(d->requires));
    json_object_set_new(o, "provides", string_list(d->provides));
    json_t *params = json_array();
    for (size_t i = 0; i < d->n_params; i++)
        json_array_append_new(params, sp_param_json(&d->params[i]));
    json_object_set_new(o, "parameters", params);
    json_object_set_new(o, "path", json_string(m->path));
    return o;
}
