/* The MR kernel chain in one call (see mr_chain.h). */
#include "mr_chain.h"

#include <stdio.h>
#include <string.h>

#include "bias_kernels.h"

sp_status mr_chain_run(const sp_volume *raw, const char *lowest,
                       int cervical, mr_chain *c, sp_error *err)
{
    memset(c, 0, sizeof *c);
    sp_volume can = {0}, fg = {0};
    sp_status st = analysis_axes_lps(raw, &c->axes, err);
    if (st == SP_OK)
        st = analysis_reorient(raw, &c->axes, &can, err);
    bias_params bp;
    bias_params_default(&bp);
    if (st == SP_OK)
        st = bias_correct(&can, &bp, &c->t2, NULL, err);
    if (st == SP_OK)
        st = bias_foreground(&can, bp.fg_fraction, &fg, err);
    if (st == SP_OK)
        st = bias_normalise(&c->t2, &fg, bp.target_median, NULL, err);
    sp_volume_free(&can), sp_volume_free(&fg);
    mrcanal_params cp;
    mrcanal_params_default(&cp);
    if (sp_volume_orientation(raw) == SP_ORIENT_AXIAL)
        cp.threshold = cp.axial_threshold;
    if (st == SP_OK)
        st = mrcanal_segment(&c->t2, &cp, &c->canal, &c->info, err);
    if (st == SP_OK)
        st = mrdisc_find(&c->t2, &c->canal, &c->info, &c->spine, err);
    if (st == SP_OK) {
        sp_error lerr;
        c->spine.cervical = cervical;
        if ((cervical && !lowest
                 ? mrdisc_label_cervical(&c->t2, &c->spine, c->label_note,
                                         sizeof c->label_note, &lerr)
                 : mrdisc_label(&c->spine, lowest, &lerr)) == SP_OK)
            c->labelled = 1;
        else
            snprintf(c->label_note, sizeof c->label_note, "%s",
                     lerr.message);
    }
    if (st == SP_OK)
        st = mrdisc_label_map(&c->t2, &c->canal, &c->spine, &c->labels,
                              err);
    if (st == SP_OK && sp_volume_orientation(raw) != SP_ORIENT_AXIAL)
        st = mr_sac_behind(&c->canal, &c->t2, &c->info, cervical,
                           &c->labels, err);
    if (st == SP_OK)
        st = mr_measure(&c->canal, &c->t2, &c->spine, &c->info, c->t2.spacing[2],
                        c->t2.spacing[1], 1.5, c->level, err);
    if (st != SP_OK)
        mr_chain_free(c);
    return st;
}

void mr_chain_free(mr_chain *c)
{
    sp_volume_free(&c->t2), sp_volume_free(&c->canal);
    sp_volume_free(&c->labels);
    mrcanal_info_free(&c->info);
    mrspine_free(&c->spine);
}
