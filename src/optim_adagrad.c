/* optim_adagrad.c - AdaGrad as gdtuo: G starts at 0.1, eps = 1e-10,
 *   G = G' + g^2,  w' = w - alpha g / sqrt(G + eps)  (the divisor is a constant)
 *   dw'/dalpha = -g / sqrt(G + eps)
 * alpha g / sqrt(G + eps) is (alpha g) / sqrt(G + eps), in that order, as gdtuo. */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include <math.h>
#include "optim.h"

#define EPS 1e-10

static void adagrad_update(hc_optim *o, hc_real *restrict w, const hc_real *restrict g)
{
    const hc_real alpha = (hc_real)o->raw[0], eps = (hc_real)EPS;
    hc_real *restrict G = o->state[0], *restrict D_alpha = o->D[0];
    for (size_t i = o->lo; i < o->hi; i++) {
        hc_real Gi = G[i] + g[i] * g[i];
        hc_real root = hc_sqrt(Gi + eps);
        G[i] = Gi;
        D_alpha[i] = -(g[i] / root);
        w[i] -= alpha * g[i] / root;
    }
    o->steps++;
}

const hc_optim_desc optim_adagrad = {
    .name = "adagrad",
    .about = "G starts at 0.1",
    .n_keys = 1,
    .key = {{"alpha", 0.01, RANGE_NONNEG, MAP_IDENTITY, KEY_LEARNED}},
    .n_state = 1,
    .state_name = {"G"},
    .state_init = {0.1},         /* G's initial value (gdtuo) */
    .state_key = {-1},
    .update = adagrad_update,
};
