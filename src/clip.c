/* clip.c - norm-based averaged clipping, exactly as the authors' update_param_g_norm_info. */
#include "clip.h"
#include <math.h>
#include <stdlib.h>

int clip_init(hc_clip *c, int n_values, int on, int global)
{
    c->n_values = n_values;
    c->on = on;
    c->global = global;
    c->steps = 0;
    c->avg = calloc(n_values > 0 ? (size_t)n_values : 1, sizeof *c->avg);
    return c->avg ? 0 : -1;
}

void clip_free(hc_clip *c)
{
    free(c->avg);
    c->avg = NULL;
}

/* One step of the running average for one norm: returns the factor applied. */
static double clip_one(double *avg, long n, int on, double norm, double *threshold)
{
    double theta = (*avg * (double)(n - 1) + norm) / (double)n;
    double factor = (on && norm > theta) ? theta / norm : 1.0;  /* |g| = 0 never clips */
    *threshold = theta;
    *avg = (*avg * (double)(n - 1) + norm * factor) / (double)n;
    return factor;
}

void clip_apply(hc_clip *c, double *v, double *threshold, double *scale)
{
    long n = ++c->steps;
    if (c->global) {
        double sq = 0.0, theta;
        for (int i = 0; i < c->n_values; i++) sq += v[i] * v[i];
        double factor = clip_one(&c->avg[0], n, c->on, sqrt(sq), &theta);
        for (int i = 0; i < c->n_values; i++) {
            v[i] *= factor;
            threshold[i] = theta;
            scale[i] = factor;
        }
        return;
    }
    for (int i = 0; i < c->n_values; i++) {
        scale[i] = clip_one(&c->avg[i], n, c->on, fabs(v[i]), &threshold[i]);
        v[i] *= scale[i];
    }
}
