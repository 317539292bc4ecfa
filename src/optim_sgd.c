/* optim_sgd.c - SGD at level 1, with the momentum branch only when the initial mu != 0.
 *   w' = w - alpha b,  b = g (first step) or mu b_prev + g (b = g without momentum)
 *   dw'/dalpha = -b,  dw'/dmu = -alpha b_prev (0 on the first step) */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include "optim.h"

void optim_sgd_update(hc_optim1 *o, hc_real *restrict w, const hc_real *restrict g)
{
    const hc_real alpha = (hc_real)o->raw[0], mu = (hc_real)o->raw[1];
    hc_real *restrict D_alpha = o->D[0];
    const size_t n = o->n;

    if (!o->momentum) {
        for (size_t i = 0; i < n; i++) {
            D_alpha[i] = -g[i];
            w[i] -= alpha * g[i];
        }
    } else if (o->steps == 0) {
        hc_real *restrict b = o->state[0], *restrict D_mu = o->D[1];
        for (size_t i = 0; i < n; i++) {
            b[i] = g[i];
            D_alpha[i] = -g[i];
            D_mu[i] = 0;
            w[i] -= alpha * g[i];
        }
    } else {
        hc_real *restrict b = o->state[0], *restrict D_mu = o->D[1];
        for (size_t i = 0; i < n; i++) {
            hc_real b_prev = b[i], bi = mu * b_prev + g[i];
            b[i] = bi;
            D_alpha[i] = -bi;
            D_mu[i] = -alpha * b_prev;
            w[i] -= alpha * bi;
        }
    }
    o->steps++;
}
