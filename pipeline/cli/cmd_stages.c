/* spinepipe stages: list the loaded stage plugins, or describe one; both
 * generated from the stages' descriptors and parameter tables. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine/engine.h"
#include "engine/log.h"

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: spinepipe stages [--json | --markdown] [--describe NAME]"
            "\n\n"
            "List the stage plugins found in SPINEPIPE_STAGE_PATH, the build "
            "tree or the\ninstall dir; --describe shows one stage's "
            "parameters.\n\n"
            "  --json           machine-readable output on stdout\n"
            "  --markdown       reference tables (docs/stages-reference.md)\n"
            "  --describe NAME  parameters of stage NAME\n"
            "  --log-level L    error, warn (default), info, debug\n"
            "  -h, --help       this help\n");
}

static void print_list(const char *label, const char *const *list)
{
    printf("%s", label);
    if (!list || !list[0])
        printf(" (none)");
    for (size_t i = 0; list && list[i]; i++)
        printf("%s%s", i ? ", " : " ", list[i]);
    printf("\n");
}

static void describe(const sp_stage_module *m)
{
    const sp_stage_descriptor *d = m->desc;
    printf("%s %s (stage ABI %u.%u)\n%s\nfile: %s\n", d->name, d->version,
           (unsigned)d->abi_major, (unsigned)d->abi_minor, d->description,
           m->path);
    print_list("requires:", d->requires);
    print_list("provides:", d->provides);
    printf("parameters:\n");
    if (d->n_params == 0)
        printf("  (none)\n");
    for (size_t i = 0; i < d->n_params; i++) {
        const sp_param *p = &d->params[i];
        printf("  %-16s %-6s default %s", p->name,
               sp_param_type_name(p->type), p->default_value);
        if (p->type == SP_PARAM_INT || p->type == SP_PARAM_FLOAT) {
            printf(", range [%g, %g]", p->min, p->max);
            if (p->unit)
                printf(" %s", p->unit);
        }
        if (p->type == SP_PARAM_ENUM) {
            printf(", one of");
            for (size_t c = 0; p->choices[c]; c++)
                printf("%s%s", c ? ", " : " ", p->choices[c]);
        }
        printf("\n      %s\n", p->help ? p->help : "");
    }
}

/* Markdown cells must not break the table. */
static void md_cell(const char *text)
{
    for (const char *c = text ? text : ""; *c; c++) {
        if (*c == '|')
            putchar('\\');
        putchar(*c);
    }
}

static void markdown(const sp_stage_module *m)
{
    const sp_stage_descriptor *d = m->desc;
    printf("## `%s` %s\n\n%s\n\n", d->name, d->version, d->description);
    printf("requires:");
    for (size_t i = 0; d->requires && d->requires[i]; i++)
        printf(" `%s`", d->requires[i]);
    printf("; provides:");
    for (size_t i = 0; d->provides && d->provides[i]; i++)
        printf(" `%s`", d->provides[i]);
    printf("\n\n| parameter | type | default | range / choices | help |\n"
           "|---|---|---|---|---|\n");
    for (size_t i = 0; i < d->n_params; i++) {
        const sp_param *p = &d->params[i];
        printf("| `%s` | %s | `%s` | ", p->name, sp_param_type_name(p->type),
               p->default_value);
        if (p->type == SP_PARAM_INT || p->type == SP_PARAM_FLOAT)
            printf("%g .. %g%s%s", p->min, p->max, p->unit ? " " : "",
                   p->unit ? p->unit : "");
        for (size_t c = 0; p->type == SP_PARAM_ENUM && p->choices[c]; c++)
            printf("%s`%s`", c ? ", " : "", p->choices[c]);
        printf(" | ");
        md_cell(p->help);
        printf(" |\n");
    }
    printf("\n");
}

static int print_json(json_t *j)
{
    int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    printf("\n");
    return rc == 0 ? SP_EXIT_OK : sp_status_exit_code(SP_IO);
}

int cmd_stages(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"markdown", no_argument, NULL, 'm'},
        {"describe", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, md = 0;
    const char *name = NULL;
    sp_error err;
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'j': json = 1; break;
        case 'm': md = 1; break;
        case 'd': name = optarg; break;
        case 'l':
            if (sp_log_set_levels(optarg, &err) != SP_OK)
                return cli_fail(&err);
            break;
        case 'h': print_help(stdout); return SP_EXIT_OK;
        default: return cli_option_error("stages", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("stages", "unexpected argument '%s'",
                               argv[optind]);
    sp_registry *reg;
    if (sp_registry_new(&reg, &err) != SP_OK ||
        sp_registry_load_default(reg, &err) != SP_OK) {
        sp_registry_free(reg);
        return cli_fail(&err);
    }
    int rc = SP_EXIT_OK;
    if (name) {
        const sp_stage_module *m = sp_registry_find(reg, name);
        if (!m) {
            const sp_stage_refusal *r = sp_registry_refusal(reg, name);
            if (r)
                sp_error_set(&err, SP_PLUGIN, "stage '%s' was refused: %s",
                             name, r->reason);
            else
                sp_error_set(&err, SP_CONFIG,
                             "unknown stage '%s' (run 'spinepipe stages')",
                             name);
            rc = cli_fail(&err);
        } else if (json) {
            rc = print_json(sp_stage_json(m));
        } else if (md) {
            markdown(m);
        } else {
            describe(m);
        }
    } else if (md) {
        printf("# Stage reference\n\nGenerated by `spinepipe stages "
               "--markdown` from the stages' parameter\ntables; "
               "tests/engine/test_stages_doc.sh checks it is current.\n\n");
        for (size_t i = 0; i < reg->n_modules; i++)
            markdown(&reg->modules[i]);
    } else if (json) {
        json_t *all = json_array();
        for (size_t i = 0; i < reg->n_modules; i++)
            json_array_append_new(all, sp_stage_json(&reg->modules[i]));
        json_t *refused = json_array();
        for (size_t i = 0; i < reg->n_refused; i++)
            json_array_append_new(refused,
                                  json_pack("{s:s, s:s}", "path",
                                            reg->refused[i].path, "reason",
                                            reg->refused[i].reason));
        rc = print_json(json_pack("{s:o, s:o}", "stages", all, "refused",
                                  refused));
    } else {
        if (reg->n_modules == 0)
            fprintf(stderr, "spinepipe: no stages found (set "
                            "SPINEPIPE_STAGE_PATH)\n");
        for (size_t i = 0; i < reg->n_modules; i++) {
            const sp_stage_descriptor *d = reg->modules[i].desc;
            printf("%-12s %-8s %s\n", d->name, d->version, d->description);
        }
    }
    sp_registry_free(reg);
    return rc;
}
