/* optim_rmsprop.c - RMSProp at level 1 with raw a (alpha = a^2) and c
 * (gamma = (tanh c + 1)/2), eps = 1e-8, s starts at 0, as gdtuo:
 *   s = gamma s' + (1-gamma) g^2   (s is not detached: gamma has a gradient through it)
 *   w' = w - alpha g / sqrt(s + eps)
 *   dw'/da = -2a g / sqrt(s + eps)
 *   dw'/dc = alpha g (s' - g^2) / (2 (s + eps)^(3/2)) * dgamma/dc
 * alpha and gamma in hc_real, and alpha g / sqrt(s + eps) in that order, as gdtuo. */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include <math.h>
#include "optim.h"

#define EPS 1e-8

void optim_rmsprop_update(hc_optim1 *o, hc_real *restrict w, const hc_real *restrict g)
{
    const hc_real a = (hc_real)o->raw[0], gm = (hc_real)squash01(o->raw[1]);
    const hc_real alpha = a * a, two_a = 2 * a, one_minus_gm = 1 - gm;
    const hc_real half_alpha_chain = alpha * (hc_real)dsquash01(o->raw[1]) / 2;
    const hc_real eps = (hc_real)EPS;
    hc_real *restrict s = o->state[0], *restrict D_a = o->D[0], *restrict D_c = o->D[1];
    for (size_t i = 0; i < o->n; i++) {
        hc_real gi = g[i], g2 = gi * gi, s_prev = s[i];
        hc_real si = gm * s_prev + one_minus_gm * g2, q = si + eps;
        hc_real root = hc_sqrt(q), r = 1 / root;
        s[i] = si;
        w[i] -= alpha * gi / root;
        D_a[i] = -two_a * gi * r;
        D_c[i] = half_alpha_chain * gi * (s_prev - g2) * r / q;
    }
    o->steps++;
}
