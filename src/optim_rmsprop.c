/* optim_rmsprop.c - RMSProp with raw a (alpha = a^2) and c (gamma = (tanh c + 1)/2),
 * eps = 1e-8, s starts at 0, as gdtuo:
 *   s = gamma s' + (1-gamma) g^2   (s is not detached: gamma has a gradient through it)
 *   w' = w - alpha g / sqrt(s + eps)
 *   dw'/da = -2a g / sqrt(s + eps)
 *   dw'/dc = alpha g (s' - g^2) / (2 (s + eps)^(3/2)) * dgamma/dc
 * alpha and gamma in hc_real, and alpha g / sqrt(s + eps) in that order, as gdtuo.
 * The kernel also serves rmsprop_alpha (gamma constant). */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include <math.h>
#include "optim_family.h"

#define EPS 1e-8

static inline __attribute__((always_inline)) void rmsprop_kernel(hc_optim *o, hc_real *restrict w, const hc_real *restrict g,
                                  const int learn_gamma)
{
    /* gdtuo's RMSPropAlpha keeps gamma a Python float: 1 - gamma is then a double */
    const hc_real a = (hc_real)o->raw[0];
    const hc_real gm = learn_gamma ? (hc_real)squash01(o->raw[1]) : (hc_real)o->konst[1];
    const hc_real alpha = a * a, two_a = 2 * a;
    const hc_real one_minus_gm = learn_gamma ? 1 - gm : (hc_real)(1.0 - o->konst[1]);
    const hc_real half_alpha_chain = learn_gamma ? alpha * (hc_real)dsquash01(o->raw[1]) / 2 : 0;
    const hc_real eps = (hc_real)EPS;
    hc_real *restrict s = o->state[0], *restrict D_a = o->D[0], *restrict D_c = o->D[1];
    for (size_t i = o->lo; i < o->hi; i++) {
        hc_real gi = g[i], g2 = gi * gi, s_prev = s[i];
        hc_real si = gm * s_prev + one_minus_gm * g2, q = si + eps;
        hc_real root = hc_sqrt(q), r = 1 / root;
        s[i] = si;
        w[i] -= alpha * gi / root;
        D_a[i] = -two_a * gi * r;
        if (learn_gamma) D_c[i] = half_alpha_chain * gi * (s_prev - g2) * r / q;
    }
    o->steps++;
}

void optim_rmsprop_kernel(hc_optim *o, hc_real *w, const hc_real *g, int learn_gamma)
{
    if (learn_gamma) rmsprop_kernel(o, w, g, 1);
    else rmsprop_kernel(o, w, g, 0);
}

static void rmsprop_update(hc_optim *o, hc_real *w, const hc_real *g) { rmsprop_kernel(o, w, g, 1); }

const hc_optim_desc optim_rmsprop = {
    .name = "rmsprop",
    .about = "both learned",
    .n_keys = 2,
    .key = {{"alpha", 0.01, RANGE_NONNEG, MAP_SQUARE, KEY_LEARNED},
            {"gamma", 0.99, RANGE_OPEN01, MAP_SQUASH01, KEY_LEARNED}},
    .n_state = 1,
    .state_name = {"s"},
    .state_init = {0.0},
    .state_key = {-1},
    .update = rmsprop_update,
};
