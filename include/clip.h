/* clip.h - norm-based averaged clipping (the clipping paper's algorithm).
 *
 * Per hyperparameter (each scalar, norm |g|) or global (one L2 norm over the level):
 *     n  <- n + 1
 *     theta = (theta'(n-1) + |g|) / n
 *     g' = g * min(1, theta/|g|)         (g' = g when |g| = 0)
 *     theta' <- (theta'(n-1) + |g'|) / n
 * Every step counts, zero gradients included. With the clip off the same averages
 * are tracked (g' = g) so the metrics can show the threshold it would have used. */
#ifndef HC_CLIP_H
#define HC_CLIP_H

typedef struct {
    int n_values;       /* hyperparameters clipped together */
    int on;             /* 0: track only */
    int global;         /* 1: one norm over all values */
    long steps;         /* n */
    double *avg;        /* theta' per value (global: avg[0] only) */
} hc_clip;

int clip_init(hc_clip *c, int n_values, int on, int global);
void clip_free(hc_clip *c);

/* Clips v[0..n_values) in place. Writes the threshold theta used at this step into
 * threshold[i] and the factor applied to v[i] into scale[i] (1 when not clipped). */
void clip_apply(hc_clip *c, double *v, double *threshold, double *scale);

#endif
