/* optim_adam.c - Adam at level 1 with raw b1, b2 (beta = (tanh b + 1)/2), as gdtuo:
 *   m = b1 m' + (1-b1) g,  v = b2 v' + ((1-b2) g) g,  mh = m/(1-b1^n),  vh = v/(1-b2^n)
 *   d = mh / (sqrt(vh) + eps),  w' = w - alpha d
 * and the derivatives of w' with respect to alpha, b1 and b2 (spec). */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include <math.h>
#include "optim.h"

#define EPS 1e-8

void optim_adam_update(hc_optim1 *o, hc_real *restrict w, const hc_real *restrict g)
{
    const long n = ++o->steps;
    /* the hyperparameters and everything derived from them in hc_real, combined as
     * gdtuo combines its float32 scalars: 1 - beta, 1 - beta ** n, m / bc, ... */
    const hc_real alpha = (hc_real)o->raw[0];
    const hc_real beta1 = (hc_real)squash01(o->raw[1]), beta2 = (hc_real)squash01(o->raw[2]);
    const hc_real c1 = 1 - beta1, c2 = 1 - beta2;
    const hc_real bc1 = 1 - hyper_pow(beta1, n), bc2 = 1 - hyper_pow(beta2, n);
    /* d mh/d b1 = (m' - g)/bc1 + m * n b1^(n-1) / bc1^2, likewise for vh */
    const hc_real inv_bc1 = 1 / bc1, inv_bc2 = 1 / bc2;
    const hc_real k1 = (hc_real)n * hyper_pow(beta1, n - 1) / (bc1 * bc1);
    const hc_real k2 = (hc_real)n * hyper_pow(beta2, n - 1) / (bc2 * bc2);
    const hc_real chain1 = (hc_real)dsquash01(o->raw[1]), chain2 = (hc_real)dsquash01(o->raw[2]);
    const hc_real eps = (hc_real)EPS;
    hc_real *restrict m = o->state[0], *restrict v = o->state[1];
    hc_real *restrict D_alpha = o->D[0], *restrict D_b1 = o->D[1], *restrict D_b2 = o->D[2];

    for (size_t i = 0; i < o->n; i++) {
        hc_real gi = g[i], g2 = gi * gi, m_prev = m[i], v_prev = v[i];
        hc_real mi = beta1 * m_prev + c1 * gi, vi = beta2 * v_prev + c2 * gi * gi;
        hc_real mh = mi / bc1, vh = vi / bc2;
        hc_real sv = hc_sqrt(vh), den = sv + eps, inv_den = 1 / den;
        hc_real d = mh / den;
        hc_real dmh = (m_prev - gi) * inv_bc1 + mi * k1;
        hc_real dvh = (v_prev - g2) * inv_bc2 + vi * k2;
        m[i] = mi;
        v[i] = vi;
        w[i] -= alpha * d;
        D_alpha[i] = -d;
        D_b1[i] = -alpha * dmh * inv_den * chain1;
        /* mh = 0 when g has always been 0: then vh may underflow to 0 and 0/0 must be 0 */
        D_b2[i] = mh != 0 ? alpha * mh * dvh * chain2 / (2 * sv * den * den) : 0;
    }
}
