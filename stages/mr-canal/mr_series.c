/* Header-only triage of MR series for the spine analysis. */
#include "mr_series.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Does the lowercase text hold `word` not glued to other letters or digits
 * ("t1" in "sag_t1_tse" but not in "t12")? */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        int before = p == text || !isalnum((unsigned char)p[-1]);
        char after = p[n];
        if (before && (!isalnum((unsigned char)after) || after == 'w'))
            return 1;
    }
    return 0;
}

static void lower_join(const sp_dicom_header *h, char *out, size_t size)
{
    snprintf(out, size, "%s %s %s", h->series_description, h->protocol_name,
             h->sequence_name);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

mr_series_kind mr_series_classify(const sp_dicom_header *h,
                                  sp_orientation o, size_t n_slices,
                                  char *why, size_t size)
{
    char text[256];
    lower_join(h, text, sizeof text);
    double te = h->echo_time_ms, tr = h->repetition_time_ms;
    if (strcmp(h->modality, "MR") != 0) {
        snprintf(why, size, "modality \"%s\" is not MR", h->modality);
        return MR_SERIES_NOT_ANALYSABLE;
    }
    if (strstr(text, "loc") || strstr(text, "scout") ||
        strstr(text, "survey") || n_slices < 5) {
        snprintf(why, size,
                 "localiser (\"%s\", %zu slices): too few slices or a "
                 "planning scan", h->series_description, n_slices);
        return MR_SERIES_NOT_ANALYSABLE;
    }
    if (strstr(text, "stir") || strstr(text, "tirm") ||
        strstr(text, "flair") || has_word(text, "ir")) {
        snprintf(why, size,
                 "inversion recovery (\"%s\"): STIR/FLAIR contrast is not "
                 "the T2 the canal and disc signal are judged on",
                 h->series_description);
        return MR_SERIES_NOT_ANALYSABLE;
    }
    int t2_text = has_word(text, "t2");
    int t1_text = has_word(text, "t1");
    int pd_text = has_word(text, "pd");
    int t2_times = te >= 60 && tr >= 1500;
    int t1_times = te > 0 && te < 30 && tr > 0 && tr < 1000;
    if (t1_text || (t1_times && !t2_text)) {
        snprintf(why, size,
                 "T1-weighted (\"%s\", TE %.0f ms, TR %.0f ms): CSF is dark, "
                 "the canal cannot be found as a bright column",
                 h->series_description, te, tr);
        return MR_SERIES_NOT_ANALYSABLE;
    }
    if (pd_text && !t2_text) {
        snprintf(why, size, "proton-density weighted (\"%s\")",
                 h->series_description);
        return MR_SERIES_NOT_ANALYSABLE;
    }
    if (!t2_text && !t2_times) {
        snprintf(why, size,
                 "weighting unknown: no T2 in \"%s\" and echo/repetition "
                 "times %.0f/%.0f ms are not those of a T2 (TE >= 60, TR >= "
                 "1500)", h->series_description, te, tr);
        return MR_SERIES_NOT_ANALYSABLE;
    }
    if (o == SP_ORIENT_SAGITTAL || o == SP_ORIENT_AXIAL) {
        snprintf(why, size, "T2-weighted %s (\"%s\")",
                 sp_orientation_name(o), h->series_description);
        return o == SP_ORIENT_SAGITTAL ? MR_SERIES_T2_SAGITTAL
                                       : MR_SERIES_T2_AXIAL;
    }
    snprintf(why, size, "T2-weighted but %s: only sagittal and axial "
             "series are analysed", sp_orientation_name(o));
    return MR_SERIES_NOT_ANALYSABLE;
}
