/* optim_sgd.c - SGD (gdtuo's SGD and SGDPerParam), the momentum branch only when the
 * initial mu != 0:
 *   w' = w - alpha b,  b = g (first step) or mu b_prev + g (b = g without momentum)
 *   dw'/dalpha = -b,  dw'/dmu = -alpha b_prev (0 on the first step)
 * per_tensor=on: one alpha per slice of the targets (weight tensor, or hyperparameter
 * below), no momentum. At levels >= 2 SGD keeps b, D and the clip in double, applies
 * the clipping paper's clip to b (after the momentum) before the update (the clip is
 * SGD's), and updates the hyperparameters in hc_real as the reference's float32 scalars
 * are (h - g kappa). */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include "optim.h"

/* Targets [b, e) within this instance's range [lo, hi). */
static void sgd_slice(hc_optim *o, size_t b, size_t e, hc_real alpha, hc_real *restrict w,
                      const hc_real *restrict g)
{
    hc_real *restrict D_alpha = o->D[0];
    if (b < o->lo) b = o->lo;
    if (e > o->hi) e = o->hi;
    for (size_t i = b; i < e; i++) {
        D_alpha[i] = -g[i];
        w[i] -= alpha * g[i];
    }
}

static void sgd_update(hc_optim *o, hc_real *restrict w, const hc_real *restrict g)
{
    const hc_real alpha = (hc_real)o->raw[0], mu = (hc_real)(o->n_hyper > 1 ? o->raw[1] : 0);
    hc_real *restrict D_alpha = o->D[0];
    const size_t lo = o->lo, hi = o->hi;

    if (o->per_tensor) {
        for (int s = 0; s < o->n_seg; s++)
            sgd_slice(o, o->seg[s], o->seg[s + 1], (hc_real)o->raw[s], w, g);
    } else if (!o->live[1]) {
        sgd_slice(o, lo, hi, alpha, w, g);
    } else if (o->steps == 0) {
        hc_real *restrict b = o->state[0], *restrict D_mu = o->D[1];
        for (size_t i = lo; i < hi; i++) {
            b[i] = g[i];
            D_alpha[i] = -g[i];
            D_mu[i] = 0;
            w[i] -= alpha * g[i];
        }
    } else {
        hc_real *restrict b = o->state[0], *restrict D_mu = o->D[1];
        for (size_t i = lo; i < hi; i++) {
            hc_real b_prev = b[i], bi = mu * b_prev + g[i];
            b[i] = bi;
            D_alpha[i] = -bi;
            D_mu[i] = -alpha * b_prev;
            w[i] -= alpha * bi;
        }
    }
    o->steps++;
}

/* Levels >= 2: h are the raw hyperparameters below, g their gradient; the clip state
 * is the level below's (it records the norms of the gradients that level received). */
static void sgd_update_hyper(hc_optim *o, double *h, const double *g, hc_clip *clip,
                             double *threshold, double *scale)
{
    const double mu = o->per_tensor ? 0.0 : o->raw[1];
    const int momentum = o->live[1], first = o->steps == 0;
    double *b = o->work, *buf = o->dstate[0], *D_alpha = o->dD[0], *D_mu = o->dD[1];

    for (size_t j = 0; j < o->n; j++)
        b[j] = (momentum && !first) ? mu * buf[j] + g[j] : g[j];
    clip_apply(clip, b, threshold, scale);
    for (size_t j = 0; j < o->n; j++) {
        const double kappa = o->raw[o->per_tensor ? j : 0];
        if (D_mu) D_mu[j] = (momentum && !first) ? -kappa * buf[j] : 0.0;
        D_alpha[j] = -b[j];
        if (momentum) buf[j] = b[j];   /* the clipped buffer is what is kept */
        h[j] = (hc_real)h[j] - (hc_real)b[j] * (hc_real)kappa;   /* hc_real values (hc_real.h) */
    }
    o->steps++;
}

const hc_optim_desc optim_sgd = {
    .name = "sgd",
    .about = "momentum when mu != 0",
    .n_keys = 2,
    .key = {{"alpha", 0.01, RANGE_NONNEG, MAP_IDENTITY, KEY_LEARNED},
            {"mu", 0.0, RANGE_HALF_OPEN01, MAP_IDENTITY, KEY_LEARNED_IF_NONZERO}},
    .switches = HC_SWITCH_CLIP | HC_SWITCH_PER_TENSOR,
    .n_state = 1,
    .state_name = {"buf"},
    .state_init = {0.0},
    .state_key = {1},
    .update = sgd_update,
    .update_hyper = sgd_update_hyper,
};
