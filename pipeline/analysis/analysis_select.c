/* k-th smallest value in linear time (quickselect), for medians and
 * percentiles of whole volumes, where a full sort dominated the run. */
#include "analysis.h"

/* Hoare partition around the median of three; v is reordered. */
#define SELECT_BODY(T)                                                      \
    size_t lo = 0, hi = n - 1;                                              \
    while (hi > lo) {                                                       \
        size_t mid = lo + (hi - lo) / 2;                                    \
        T t;                                                                \
        if (v[mid] < v[lo]) t = v[mid], v[mid] = v[lo], v[lo] = t;          \
        if (v[hi] < v[lo]) t = v[hi], v[hi] = v[lo], v[lo] = t;             \
        if (v[hi] < v[mid]) t = v[hi], v[hi] = v[mid], v[mid] = t;          \
        T pivot = v[mid];                                                   \
        size_t i = lo, j = hi;                                              \
        while (i <= j) {                                                    \
            while (v[i] < pivot)                                            \
                i++;                                                        \
            while (v[j] > pivot)                                            \
                j--;                                                        \
            if (i <= j) {                                                   \
                t = v[i], v[i] = v[j], v[j] = t;                            \
                i++;                                                        \
                if (j == 0)                                                 \
                    break;                                                  \
                j--;                                                        \
            }                                                               \
        }                                                                   \
        if (k <= j)                                                         \
            hi = j;                                                         \
        else if (k >= i)                                                    \
            lo = i;                                                         \
        else                                                                \
            return v[k];                                                    \
    }                                                                       \
    return v[k];

float analysis_select_f32(float *v, size_t n, size_t k)
{
    SELECT_BODY(float)
}

double analysis_select_f64(double *v, size_t n, size_t k)
{
    SELECT_BODY(double)
}
