/* optim_adam.c - Adam with raw b1, b2 (beta = (tanh b + 1)/2), as gdtuo:
 *   m = b1 m' + (1-b1) g,  v = b2 v' + ((1-b2) g) g,  mh = m/(1-b1^n),  vh = v/(1-b2^n)
 *   d = mh / (sqrt(vh) + eps),  w' = w - alpha d
 * and the derivatives of w' with respect to alpha, b1 and b2 (spec). m starts at 0 and
 * v at eps (sic, gdtuo). The kernel also serves adam_baydin (betas constant). */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include <math.h>
#include "optim_family.h"

#define EPS 1e-8

/* Inlined into both callers with a constant learn_betas: Adam's loop is unchanged and
 * adam_baydin's loses the beta derivatives. */
static inline __attribute__((always_inline)) void adam_kernel(hc_optim *o, hc_real *restrict w, const hc_real *restrict g,
                               const int learn_betas)
{
    const long n = ++o->steps;
    /* the hyperparameters and everything derived from them in hc_real, combined as
     * gdtuo combines its float32 scalars: 1 - beta, 1 - beta ** n, m / bc, ...;
     * AdamBaydin's betas are Python floats, so there 1 - beta and 1 - beta ** n are
     * doubles rounded once */
    const hc_real alpha = (hc_real)o->raw[0];
    const double kb1 = o->konst[1], kb2 = o->konst[2];
    const hc_real beta1 = learn_betas ? (hc_real)squash01(o->raw[1]) : (hc_real)kb1;
    const hc_real beta2 = learn_betas ? (hc_real)squash01(o->raw[2]) : (hc_real)kb2;
    const hc_real c1 = learn_betas ? 1 - beta1 : (hc_real)(1.0 - kb1);
    const hc_real c2 = learn_betas ? 1 - beta2 : (hc_real)(1.0 - kb2);
    const hc_real bc1 = learn_betas ? 1 - hyper_pow(beta1, n) : (hc_real)(1.0 - pow(kb1, (double)n));
    const hc_real bc2 = learn_betas ? 1 - hyper_pow(beta2, n) : (hc_real)(1.0 - pow(kb2, (double)n));
    /* d mh/d b1 = (m' - g)/bc1 + m * n b1^(n-1) / bc1^2, likewise for vh */
    const hc_real inv_bc1 = 1 / bc1, inv_bc2 = 1 / bc2;
    const hc_real k1 = learn_betas ? (hc_real)n * hyper_pow(beta1, n - 1) / (bc1 * bc1) : 0;
    const hc_real k2 = learn_betas ? (hc_real)n * hyper_pow(beta2, n - 1) / (bc2 * bc2) : 0;
    const hc_real chain1 = learn_betas ? (hc_real)dsquash01(o->raw[1]) : 0;
    const hc_real chain2 = learn_betas ? (hc_real)dsquash01(o->raw[2]) : 0;
    const hc_real eps = (hc_real)EPS;
    hc_real *restrict m = o->state[0], *restrict v = o->state[1];
    hc_real *restrict D_alpha = o->D[0], *restrict D_b1 = o->D[1], *restrict D_b2 = o->D[2];

    for (size_t i = o->lo; i < o->hi; i++) {
        hc_real gi = g[i], g2 = gi * gi, m_prev = m[i], v_prev = v[i];
        hc_real mi = beta1 * m_prev + c1 * gi, vi = beta2 * v_prev + c2 * gi * gi;
        hc_real mh = mi / bc1, vh = vi / bc2;
        hc_real sv = hc_sqrt(vh), den = sv + eps, inv_den = 1 / den;
        hc_real d = mh / den;
        m[i] = mi;
        v[i] = vi;
        w[i] -= alpha * d;
        D_alpha[i] = -d;
        if (learn_betas) {
            hc_real dmh = (m_prev - gi) * inv_bc1 + mi * k1;
            hc_real dvh = (v_prev - g2) * inv_bc2 + vi * k2;
            D_b1[i] = -alpha * dmh * inv_den * chain1;
            /* mh = 0 when g has always been 0: then vh may underflow to 0 and 0/0 must be 0 */
            D_b2[i] = mh != 0 ? alpha * mh * dvh * chain2 / (2 * sv * den * den) : 0;
        }
    }
}

void optim_adam_kernel(hc_optim *o, hc_real *w, const hc_real *g, int learn_betas)
{
    if (learn_betas) adam_kernel(o, w, g, 1);
    else adam_kernel(o, w, g, 0);
}

static void adam_update(hc_optim *o, hc_real *w, const hc_real *g) { adam_kernel(o, w, g, 1); }

const hc_optim_desc optim_adam = {
    .name = "adam",
    .about = "all three learned",
    .n_keys = 3,
    .key = {{"alpha", 0.001, RANGE_NONNEG, MAP_IDENTITY, KEY_LEARNED},
            {"beta1", 0.9, RANGE_OPEN01, MAP_SQUASH01, KEY_LEARNED},
            {"beta2", 0.999, RANGE_OPEN01, MAP_SQUASH01, KEY_LEARNED}},
    .n_state = 2,
    .state_name = {"m", "v"},
    .state_init = {0.0, EPS},
    .state_key = {-1, -1},
    .update = adam_update,
};
