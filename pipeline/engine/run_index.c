/* See run_index.h. */
#include "run_index.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output/finding_text.h"
#include "output/output.h"

void sp_html_escape(FILE *out, const char *s)
{
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    while (*c) {
        size_t n = sp_utf8_sequence(c, SIZE_MAX);
        if (n == 0 || (n == 1 && ((*c < 0x20 && *c != '\t') || *c == 0x7f))) {
            fputs("&#xFFFD;", out);
            c++;
            continue;
        }
        switch (*c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fwrite(c, 1, n, out); break;
        }
        c += n;
    }
}

static const char *const css =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:1.5em;"
    "background:#f6f6f4;color:#1a1a1a}"
    "h1{font-size:1.4em;margin:0 0 .3em}"
    ".disclaimer{background:#fff3c4;border:1px solid #e0c050;padding:.4em "
    ".8em;display:inline-block;font-weight:bold}"
    ".series{background:#fff;border:1px solid #ccc;border-radius:6px;"
    "padding:1em;margin:1em 0;display:flex;gap:1.2em;align-items:flex-start}"
    ".series img{border:1px solid #888;background:#000}"
    "h2{font-size:1.1em;margin:0 0 .4em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:.2em .6em;text-align:right}"
    "th{background:#eee}td.l{text-align:left}td:first-child{white-space:nowrap}"
    ".sev0{background:#d9f5dc}.sev1{background:#fff2b3}"
    ".sev2{background:#ffd9a8}.sev3{background:#ffb3b3}"
    ".failed{color:#a00;font-weight:bold}.warn{color:#8a5a00}"
    "ul.links{padding-left:1.2em;margin:.3em 0}";

static json_t *load(const char *dir, const char *rel, const char *file)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s/%s", dir, rel, file) >=
        (int)sizeof path)
        return NULL;
    return json_load_file(path, 0, NULL);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* PNG files of a series folder, sorted; overview and key images first is
 * not needed: the sorted list is stable and overview has its own place. */
static size_t list_pngs(const char *out_dir, const char *rel, char ***names)
{
    char path[PATH_MAX];
    *names = NULL;
    if (sp_path_join(path, sizeof path, out_dir, rel) != 0)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".png") != 0 ||
            !sp_is_safe_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(*names, cap * sizeof *g);
            if (!g)
                break;
            *names = g;
        }
        (*names)[n] = strdup(e->d_name);
        if ((*names)[n])
            n++;
    }
    closedir(d);
    if (n)
        qsort(*names, n, sizeof **names, cmp_str);
    return n;
}

static void cell_number(FILE *f, const json_t *o, const char *key,
                        int decimals)
{
    const json_t *v = json_object_get(o, key);
    fputs("<td>", f);
    if (json_is_number(v) && isfinite(json_number_value(v))) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*f", decimals, json_number_value(v));
        sp_html_escape(f, buf);
    } else {
        fputs("&ndash;", f);
    }
    fputs("</td>", f);
}

static void levels_table(FILE *f, const json_t *levels)
{
    fputs("<table><tr><th>Level</th><th>Canal AP (mm)</th>"
          "<th>Canal area (mm&sup2;)</th><th>Disc height (mm)</th>"
          "<th>Posterior displacement (mm)</th><th>Flags</th></tr>\n", f);
    size_t i;
    const json_t *lv;
    json_array_foreach(levels, i, lv) {
        int worst = sp_level_worst_rank(lv);
        size_t k;
        const json_t *fd;
        fprintf(f, "<tr class=\"sev%d\"><td class=\"l\">", worst < 0 ? 0 : worst);
        sp_html_escape(f, json_string_value(json_object_get(lv, "level")));
        fputs("</td>", f);
        cell_number(f, lv, "canal_ap_mm", 1);
        /* MR: the area of the study's axial series at this level */
        cell_number(f, json_object_get(lv, "canal_area_mm2")
                           ? lv : json_object_get(lv, "axial"),
                    "canal_area_mm2", 0);
        cell_number(f, lv, "disc_height_mm", 1);
        cell_number(f, lv, "posterior_displacement_mm", 1);
        fputs("<td class=\"l\">", f);
        int any = 0;
        json_array_foreach(json_object_get(lv, "findings"), k, fd) {
            const char *sev = json_string_value(json_object_get(fd, "severity"));
            if (sp_severity_rank(sev) <= 0)
                continue;
            if (any++)
                fputs("; ", f);
            char words[160];
            sp_finding_text(fd, words, sizeof words);
            sp_html_escape(f, words);
            fputs(" (", f);
            sp_html_escape(f, sp_severity_words(sp_severity_rank(sev)));
            fputc(')', f);
        }
        if (!any)
            fputs("none", f);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void series_section(FILE *f, const char *out_dir, const char *rel)
{
    json_t *run = load(out_dir, rel, "run.json");
    json_t *rep = load(out_dir, rel, "report.json");
    const json_t *s = json_object_get(run, "series");
    char **pngs;
    size_t n_png = list_pngs(out_dir, rel, &pngs);
    const char *thumb = NULL;
    for (size_t i = 0; i < n_png && !thumb; i++)
        if (!strcmp(pngs[i], "overview.png"))
            thumb = pngs[i];
    for (size_t i = 0; i < n_png && !thumb; i++)
        if (!strcmp(pngs[i], "sagittal.png"))
            thumb = pngs[i];
    if (!thumb && n_png)
        thumb = pngs[0];

    fputs("<div class=\"series\">\n", f);
    if (thumb) {
        fputs("<a href=\"", f);
        sp_html_escape(f, rel);
        fputc('/', f);
        sp_html_escape(f, thumb);
        fputs("\"><img src=\"", f);
        sp_html_escape(f, rel);
        fputc('/', f);
        sp_html_escape(f, thumb);
        fputs("\" width=\"220\" alt=\"thumbnail of the series\"></a>\n", f);
    }
    fputs("<div>\n<h2>", f);
    char num[32];
    snprintf(num, sizeof num, "%lld",
             (long long)json_integer_value(json_object_get(s, "series_number")));
    fputs("Series ", f);
    sp_html_escape(f, num);
    fputs(": ", f);
    sp_html_escape(f, json_string_value(json_object_get(s, "description")));
    fputs(" (", f);
    sp_html_escape(f, json_string_value(json_object_get(s, "modality")));
    fputs(")</h2>\n", f);
    const json_t *rs = json_object_get(rep, "series");
    if (json_string_value(json_object_get(rs, "patient_id"))) {
        fputs("<p>Patient ID: ", f);
        sp_html_escape(f, json_string_value(json_object_get(rs, "patient_id")));
        fputs(" &middot; study date: ", f);
        const char *d = json_string_value(json_object_get(rs, "study_date"));
        char date[16];
        if (d && strlen(d) == 8 && strspn(d, "0123456789") == 8) {
            snprintf(date, sizeof date, "%.4s-%.2s-%.2s", d, d + 4, d + 6);
            d = date;
        }
        sp_html_escape(f, d);
        fputs("</p>\n", f);
    }
    const char *status = json_string_value(json_object_get(run, "status"));
    if (!run || !status || strcmp(status, "ok") != 0) {
        fputs("<p class=\"failed\">Failed: ", f);
        sp_html_escape(f, run ? json_string_value(json_object_get(run, "error"))
                              : "no run.json (the run was interrupted)");
        fputs("</p>\n", f);
    }
    const char *na = json_string_value(json_object_get(rep, "not_analysable"));
    if (na) {
        fputs("<p class=\"warn\">Not analysed: ", f);
        sp_html_escape(f, na);
        fputs("</p>\n", f);
    }
    /* a sagittal MR series combined with the study's axial series
     * (study_report.json, engine/mr_study.c): its levels with theirs */
    char study[PATH_MAX];
    const char *slash = strchr(rel, '/');
    snprintf(study, sizeof study, "%.*s", slash ? (int)(slash - rel) : 0,
             rel);
    json_t *combined = slash ? load(out_dir, study, "study_report.json")
                             : NULL;
    if (!json_equal(json_object_get(combined, "series"),
                    json_object_get(rep, "series"))) {
        json_decref(combined);
        combined = NULL;
    }
    const json_t *levels = json_object_get(combined ? combined : rep,
                                           "levels");
    if (json_array_size(levels))
        levels_table(f, levels);
    if (combined) {
        fputs("<p>Canal areas from the study's axial series: <a href=\"",
              f);
        sp_html_escape(f, study);
        fputs("/study_report.json\">study_report.json</a></p>\n", f);
    }
    json_decref(combined);
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(rep, "warnings"), i, w) {
        fputs("<p class=\"warn\">Warning: ", f);
        sp_html_escape(f, json_string_value(w));
        fputs("</p>\n", f);
    }
    if (n_png) {
        fputs("<ul class=\"links\">\n", f);
        for (size_t k = 0; k < n_png; k++) {
            fputs("<li><a href=\"", f);
            sp_html_escape(f, rel);
            fputc('/', f);
            sp_html_escape(f, pngs[k]);
            fputs("\">", f);
            sp_html_escape(f, pngs[k]);
            fputs("</a></li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    if (rep) {
        fputs("<p><a href=\"", f);
        sp_html_escape(f, rel);
        fputs("/report.json\">report.json</a></p>\n", f);
    }
    fputs("</div>\n</div>\n", f);
    for (size_t k = 0; k < n_png; k++)
        free(pngs[k]);
    free(pngs);
    json_decref(run);
    json_decref(rep);
}

sp_status sp_run_index_write(const char *out_dir, const char *const *dirs,
                             size_t n_dirs, sp_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/index.html", out_dir) >=
        (int)sizeof path)
        return sp_error_set(err, SP_CANTCREATE, "%s: path too long", out_dir);
    sp_atomic_file af;
    sp_status st = sp_atomic_open(&af, path, err);
    if (st != SP_OK)
        return st;
    FILE *f = af.fp;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
               "<meta charset=\"utf-8\">\n<title>spinepipe run</title>\n"
               "<style>%s</style>\n</head>\n<body>\n"
               "<h1>spinepipe run: %zu series</h1>\n"
               "<p class=\"disclaimer\">Research/triage aid. Not for "
               "diagnostic use.</p>\n",
            css, n_dirs);
    for (size_t i = 0; i < n_dirs; i++)
        series_section(f, out_dir, dirs[i]);
    fputs("</body>\n</html>\n", f);
    if (ferror(f)) {
        sp_atomic_abort(&af);
        return sp_error_set(err, SP_IO, "%s: write failed", path);
    }
    return sp_atomic_commit(&af, err);
}
