/* optim_rmsprop.c - RMSProp at level 1 with raw a (alpha = a^2) and c
 * (gamma = (tanh c + 1)/2), eps = 1e-8, s starts at 0, as gdtuo:
 *   s = gamma s' + (1-gamma) g^2   (s is not detached: gamma has a gradient through it)
 *   w' = w - alpha g / sqrt(s + eps)
 *   dw'/da = -2a g / sqrt(s + eps)
 *   dw'/dc = alpha g (s' - g^2) / (2 (s + eps)^(3/2)) * dgamma/dc */
#include <math.h>
#include "optim.h"

#define EPS 1e-8

void optim_rmsprop_update(hc_optim1 *o, hc_real *restrict w, const hc_real *restrict g)
{
    const double a = o->raw[0], gamma = squash01(o->raw[1]);
    const hc_real alpha = (hc_real)(a * a), two_a = (hc_real)(2.0 * a);
    const hc_real gm = (hc_real)gamma, one_minus_gm = (hc_real)(1.0 - gamma);
    const hc_real half_alpha_chain = (hc_real)(a * a * dsquash01(o->raw[1]) / 2.0);
    const hc_real eps = (hc_real)EPS;
    hc_real *restrict s = o->state[0], *restrict D_a = o->D[0], *restrict D_c = o->D[1];
    for (size_t i = 0; i < o->n; i++) {
        hc_real gi = g[i], g2 = gi * gi, s_prev = s[i];
        hc_real si = gm * s_prev + one_minus_gm * g2, q = si + eps;
        hc_real r = 1 / hc_sqrt(q);
        s[i] = si;
        w[i] -= alpha * gi * r;
        D_a[i] = -two_a * gi * r;
        D_c[i] = half_alpha_chain * gi * (s_prev - g2) * r / q;
    }
    o->steps++;
}
