/* The phantom's anatomy: layout of the stack and point classification. */
#include "phantom/anatomy.h"

#include <math.h>

#include "spinepipe/labels.h"

/* Body height, semi-axes (L-R, A-P) per vertebra T12..S1, and disc heights
 * T12-L1..L5-S1, in mm: adult lumbar sizes, growing caudally. */
static const double body_height[SP_PHANTOM_VERTEBRAE] = {22, 23, 24, 25,
                                                         25, 24, 25};
static const double body_a[SP_PHANTOM_VERTEBRAE] = {19, 20, 21, 22,
                                                    23, 24, 25};
static const double body_b[SP_PHANTOM_VERTEBRAE] = {14,   14.5, 15, 15.5,
                                                    16,   16.5, 17};
static const double disc_height[SP_PHANTOM_LEVELS] = {8, 9, 10, 10, 11, 10};

/* Reference distance for the lordosis parameter. */
#define LORDOSIS_REF_MM 100.0
/* Canal narrowing holds over the disc height plus this margin, then
 * blends back to the default over the taper length. */
#define STENOSIS_MARGIN 2.0
#define STENOSIS_TAPER 8.0
#define CORD_TAPER 15.0

static double arc_length(double alpha, double t);

void ph_model_build(const sp_phantom_params *p, ph_model *m)
{
    m->alpha = p->lordosis_mm / (LORDOSIS_REF_MM * LORDOSIS_REF_MM);
    for (int i = 0; i < PH_ARC_N; i++)
        m->arc[i] = arc_length(m->alpha, -PH_ARC_RANGE + i * PH_ARC_STEP);
    m->cortex = 1.0;
    m->canal_half_width = p->canal_width_mm / 2;
    m->canal_ap_default = p->canal_ap_default_mm;
    m->arch_thickness = 6.0;
    double total = 0;
    for (int v = 0; v < SP_PHANTOM_VERTEBRAE; v++)
        total += body_height[v];
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++)
        total += disc_height[l];
    double s = total / 2;
    for (int v = 0; v < SP_PHANTOM_VERTEBRAE; v++) {
        ph_vertebra *b = &m->vert[v];
        b->s_hi = s;
        b->s_lo = s - body_height[v];
        b->a = body_a[v];
        b->b = body_b[v];
        s = b->s_lo;
        if (v < SP_PHANTOM_LEVELS) {
            ph_disc *d = &m->disc[v];
            d->s_hi = s;
            d->s_lo = s - disc_height[v];
            d->a = (body_a[v] + body_a[v + 1]) / 2;
            d->canal_ap = p->canal_ap_mm[v] > 0 ? p->canal_ap_mm[v]
                                                : p->canal_ap_default_mm;
            d->herniation = p->herniation_mm[v];
            d->herniation_u =
                p->herniation_side[v] == SP_PHANTOM_LEFT ? PH_HERNIATION_PARACENTRAL_U
                : p->herniation_side[v] == SP_PHANTOM_RIGHT
                    ? -PH_HERNIATION_PARACENTRAL_U
                    : 0.0;
            s = d->s_lo;
        }
    }
    /* The disc's posterior margin meets the canal's anterior wall. */
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++)
        m->disc[l].b =
            ph_canal_front(m, (m->disc[l].s_lo + m->disc[l].s_hi) / 2);
    m->s_conus = p->cord ? (m->disc[1].s_lo + m->disc[1].s_hi) / 2 : -INFINITY;
}

/* Arc length of y = alpha t^2 from the apex to t, and its inverse. */
static double arc_length(double alpha, double t)
{
    if (alpha < 1e-12)
        return t;
    double k = 2 * alpha;
    return t / 2 * sqrt(1 + k * k * t * t) + asinh(k * t) / (2 * k);
}

static double arc_lookup(const ph_model *m, double t)
{
    double x = (t + PH_ARC_RANGE) / PH_ARC_STEP;
    if (!(x >= 0 && x < PH_ARC_N - 1))
        return arc_length(m->alpha, t);
    int i = (int)x;
    double f = x - i;
    return m->arc[i] + f * (m->arc[i + 1] - m->arc[i]);
}

static double arc_param(double alpha, double s)
{
    double t = s;
    double k = 2 * alpha;
    for (int it = 0; it < 6; it++)
        t -= (arc_length(alpha, t) - s) / sqrt(1 + k * k * t * t);
    return t;
}

void ph_to_spine(const ph_model *m, const double p[3], double *u, double *v,
                 double *s)
{
    double a = m->alpha;
    double t = p[2];
    /* Newton on (p - c(t)) . c'(t) = 0: the foot of the perpendicular. */
    for (int it = 0; it < 6 && a > 0; it++) {
        double dy = p[1] - a * t * t;
        double g = dy * 2 * a * t + (p[2] - t);
        double dg = -4 * a * a * t * t + 2 * a * dy - 1;
        double step = g / dg;
        t -= step;
        if (fabs(step) < 1e-9)
            break;
    }
    double w = sqrt(1 + 4 * a * a * t * t);
    *u = p[0];
    *v = ((p[1] - a * t * t) - 2 * a * t * (p[2] - t)) / w;
    *s = arc_lookup(m, t);
}

void ph_from_spine(const ph_model *m, double u, double v, double s,
                   double p[3])
{
    double a = m->alpha;
    double t = arc_param(a, s);
    double w = sqrt(1 + 4 * a * a * t * t);
    p[0] = u;
    p[1] = a * t * t + v / w;
    p[2] = t - 2 * a * t * v / w;
}

double ph_curvature(const ph_model *m, double s)
{
    double t = arc_param(m->alpha, s);
    double w = sqrt(1 + 4 * m->alpha * m->alpha * t * t);
    return 2 * m->alpha / (w * w * w);
}

double ph_canal_front(const ph_model *m, double s)
{
    const ph_vertebra *top = &m->vert[0];
    const ph_vertebra *bottom = &m->vert[SP_PHANTOM_VERTEBRAE - 1];
    if (s >= (top->s_lo + top->s_hi) / 2)
        return top->b;
    if (s <= (bottom->s_lo + bottom->s_hi) / 2)
        return bottom->b;
    for (int v = 0; v + 1 < SP_PHANTOM_VERTEBRAE; v++) {
        double s0 = (m->vert[v].s_lo + m->vert[v].s_hi) / 2;
        double s1 = (m->vert[v + 1].s_lo + m->vert[v + 1].s_hi) / 2;
        if (s <= s0 && s >= s1) {
            double f = (s0 - s) / (s0 - s1);
            return m->vert[v].b + f * (m->vert[v + 1].b - m->vert[v].b);
        }
    }
    return bottom->b;
}

double ph_canal_ap(const ph_model *m, double s)
{
    double ap = m->canal_ap_default;
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++) {
        const ph_disc *d = &m->disc[l];
        if (d->canal_ap == m->canal_ap_default)
            continue;
        double mid = (d->s_lo + d->s_hi) / 2;
        double flat = (d->s_hi - d->s_lo) / 2 + STENOSIS_MARGIN;
        double dist = fabs(s - mid) - flat;
        double w = dist <= 0 ? 1.0
                   : dist >= STENOSIS_TAPER
                       ? 0.0
                       : 0.5 * (1 + cos(M_PI * dist / STENOSIS_TAPER));
        ap += (d->canal_ap - m->canal_ap_default) * w;
    }
    return ap;
}

int ph_in_herniation(const ph_model *m, int l, double u, double v, double s)
{
    const ph_disc *d = &m->disc[l];
    if (d->herniation <= 0 || v < 0)
        return 0;
    double mid = (d->s_lo + d->s_hi) / 2;
    double hh = PH_HERNIATION_HALF_HEIGHT_FRACTION * (d->s_hi - d->s_lo);
    double du = (u - d->herniation_u) / PH_HERNIATION_HALF_WIDTH;
    double ds = (s - mid) / hh;
    double q = du * du + ds * ds;
    if (q >= 1)
        return 0;
    return v <= d->b + d->herniation * sqrt(1 - q);
}

static inline uint16_t code(ph_tissue t, int owner)
{
    return (uint16_t)(t | (owner << 4));
}

static inline double sq(double x)
{
    return x * x;
}

/* Posterior arch of vertebra i at (u, v, s): pedicles, laminae around the
 * canal, spinous and transverse processes (sacral alae for S1). */
static int in_arch(const ph_model *m, int i, double u, double v, double s,
                   double front, double vc, double ca)
{
    const ph_vertebra *b = &m->vert[i];
    double h = b->s_hi - b->s_lo;
    double cw = m->canal_half_width;
    double t = m->arch_thickness;
    double au = fabs(u);
    int sacrum = i == SP_PHANTOM_VERTEBRAE - 1;
    if (s >= b->s_lo + 1 && s <= b->s_hi - 1) {
        int outside_canal = sq(u / cw) + sq((v - vc) / ca) > 1;
        int inside_outer = sq(u / (cw + t)) + sq((v - vc) / (ca + t)) <= 1;
        int foramen = v < vc + 1 && au > cw * 0.5 && s < b->s_lo + 0.4 * h;
        if (outside_canal && inside_outer && v >= front - 1 && !foramen)
            return 1;
        if (s >= b->s_lo + 0.4 * h && au >= cw - 1 && au <= cw + t &&
            v >= front - 6 && v <= vc)
            return 1;
    }
    double mid = (b->s_lo + b->s_hi) / 2;
    if (sacrum) {
        return s >= b->s_lo + 1 && s <= b->s_hi - 1 && au >= cw + t - 1 &&
               au <= cw + t + 35 && v >= front - 10 && v <= vc + 6;
    }
    if (au <= 3 && v >= vc + ca + t - 1 && v <= vc + ca + t + 28 &&
        s >= b->s_lo - 4 && s <= b->s_hi - 6)
        return 1;
    return au >= cw + t - 1 && au <= cw + t + 20 && fabs(v - vc + 2) <= 4 &&
           s >= mid - 1 && s <= mid + 7;
}

static uint16_t torso(const ph_model *m, const double p[3], double s)
{
    double x = p[0], y = p[1];
    if (sq(x / 165) + sq((y + 30) / 120) > 1)
        return code(PH_AIR, 0);
    if (sq(x / 150) + sq((y + 30) / 105) > 1)
        return code(PH_FAT, 0);
    double ax = fabs(x);
    if (sq((ax - 38) / 28) + sq((y - 52) / 22) <= 1)
        return code(PH_MUSCLE, 0);
    double psoas_top = (m->vert[0].s_lo + m->vert[0].s_hi) / 2;
    if (s < psoas_top && sq((ax - 32) / 14) + sq((y + 8) / 16) <= 1)
        return code(PH_MUSCLE, 0);
    if (sq(x / 120) + sq((y + 85) / 60) <= 1)
        return code(PH_SOFT, 0);
    return code(PH_FAT, 0);
}

/* Most points are far from the spine: u is x exactly, and y - alpha z^2
 * is v to within a few per cent (the centre line is never steeper than
 * about 20 degrees inside the phantom), so these skip the projection. */
static int far_from_spine(const ph_model *m, const double p[3])
{
    double v_approx = p[1] - m->alpha * p[2] * p[2];
    return v_approx < -60 || v_approx > 130;
}

static uint16_t classify_spine(const ph_model *m, const double p[3],
                               double u, double v, double s);

uint16_t ph_classify(const ph_model *m, const double p[3])
{
    if (fabs(p[0]) > 100 || far_from_spine(m, p))
        return torso(m, p, p[2]);
    double u, v, s;
    ph_to_spine(m, p, &u, &v, &s);
    return classify_spine(m, p, u, v, s);
}

void ph_classify_row(const ph_model *m, const double p0[3], double dx,
                     size_t n, uint16_t *out)
{
    double p[3] = {p0[0], p0[1], p0[2]};
    int far = far_from_spine(m, p);
    int projected = 0;
    double u, v = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        p[0] = p0[0] + dx * (double)i;
        if (far || fabs(p[0]) > 100) {
            out[i] = torso(m, p, p[2]);
            continue;
        }
        if (!projected) {
            ph_to_spine(m, p, &u, &v, &s);
            projected = 1;
        }
        out[i] = classify_spine(m, p, p[0], v, s);
    }
}

static uint16_t classify_spine(const ph_model *m, const double p[3],
                               double u, double v, double s)
{
    if (fabs(u) > 100 || v < -40 || v > 100)
        return torso(m, p, s);
    for (int i = 0; i < SP_PHANTOM_VERTEBRAE; i++) {
        const ph_vertebra *b = &m->vert[i];
        if (s < b->s_lo || s > b->s_hi)
            continue;
        if (sq(u / b->a) + sq(v / b->b) > 1)
            break;
        double c = m->cortex;
        int inner = s >= b->s_lo + c && s <= b->s_hi - c &&
                    sq(u / (b->a - c)) + sq(v / (b->b - c)) <= 1;
        return code(inner ? PH_CANCELLOUS : PH_CORTEX, 1 + i);
    }
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++) {
        const ph_disc *d = &m->disc[l];
        if (s < d->s_lo || s > d->s_hi)
            continue;
        if (sq(u / d->a) + sq(v / d->b) <= 1) {
            double h = d->s_hi - d->s_lo;
            int nucleus = s >= d->s_lo + 0.2 * h && s <= d->s_hi - 0.2 * h &&
                          sq(u / (0.5 * d->a)) +
                                  sq((v - 0.15 * d->b) / (0.45 * d->b)) <=
                              1;
            return code(nucleus ? PH_NUCLEUS : PH_ANNULUS, 8 + l);
        }
        if (ph_in_herniation(m, l, u, v, s))
            return code(PH_HERNIATION, 8 + l);
        break;
    }
    double front = ph_canal_front(m, s);
    double ap = ph_canal_ap(m, s);
    double ca = ap / 2;
    double vc = front + ca;
    for (int i = 0; i < SP_PHANTOM_VERTEBRAE; i++) {
        const ph_vertebra *b = &m->vert[i];
        if (s < b->s_lo - 5 || s > b->s_hi + 1)
            continue;
        if (in_arch(m, i, u, v, s, front, vc, ca))
            return code(PH_ARCH, 1 + i);
    }
    double cw = m->canal_half_width;
    double canal = sq(u / cw) + sq((v - vc) / ca);
    if (canal <= 1 && s >= m->vert[SP_PHANTOM_VERTEBRAE - 1].s_lo) {
        if (s >= m->s_conus) {
            double f = fmin(1.0, (s - m->s_conus) / CORD_TAPER);
            if (f > 0 && sq(u / (4.5 * f)) + sq((v - vc) / (3.5 * f)) <= 1)
                return code(PH_CORD, 0);
        }
        return code(PH_CSF, 0);
    }
    for (int l = 0; l < SP_PHANTOM_LEVELS; l++) {
        const ph_disc *d = &m->disc[l];
        if (s >= d->s_lo - 1 && s <= d->s_hi + 1 && canal > 1 && v >= vc &&
            sq(u / (cw + 3)) + sq((v - vc) / (ca + 3)) <= 1)
            return code(PH_LIGAMENT, 0);
    }
    return torso(m, p, s);
}

int ph_code_label(uint16_t c)
{
    int owner = c >> 4;
    switch (ph_code_tissue(c)) {
    case PH_CORTEX:
    case PH_CANCELLOUS:
    case PH_ARCH: return sp_phantom_vertebra_label(owner - 1);
    case PH_ANNULUS:
    case PH_NUCLEUS:
    case PH_HERNIATION: return sp_phantom_level_label(owner - 8);
    case PH_CSF: return SP_LABEL_CANAL;
    case PH_CORD: return SP_LABEL_CORD;
    default: return 0;
    }
}

/* CT in HU; MR as T2-weighted fast spin echo signal (arbitrary units). */
static const struct {
    const char *name;
    double ct, mr;
} tissues[PH_TISSUE_COUNT] = {
    [PH_AIR] = {"air", -1000, 0},
    [PH_FAT] = {"fat", -100, 650},
    [PH_MUSCLE] = {"muscle", 45, 180},
    [PH_SOFT] = {"abdominal soft tissue", 30, 300},
    [PH_LIGAMENT] = {"ligamentum flavum", 60, 120},
    [PH_CORTEX] = {"cortical bone", 900, 30},
    [PH_CANCELLOUS] = {"cancellous bone", 250, 400},
    [PH_ARCH] = {"posterior arch bone", 550, 200},
    [PH_ANNULUS] = {"annulus fibrosus", 85, 150},
    [PH_NUCLEUS] = {"nucleus pulposus", 95, 850},
    [PH_HERNIATION] = {"herniated disc material", 90, 500},
    [PH_CSF] = {"cerebrospinal fluid", 10, 1000},
    [PH_CORD] = {"spinal cord", 35, 420},
};

double ph_tissue_value(ph_tissue t, sp_phantom_modality modality)
{
    return modality == SP_PHANTOM_MR ? tissues[t].mr : tissues[t].ct;
}

const char *ph_tissue_name(ph_tissue t)
{
    return tissues[t].name;
}
