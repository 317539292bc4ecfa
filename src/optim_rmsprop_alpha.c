/* optim_rmsprop_alpha.c - gdtuo's RMSPropAlpha: RMSProp whose step size alone is learned
 * (raw a, alpha = a^2); gamma is the constant given. dw'/da = -2a g / sqrt(s + eps). */
#include "optim_family.h"

static void rmsprop_alpha_update(hc_optim *o, hc_real *w, const hc_real *g)
{
    optim_rmsprop_kernel(o, w, g, 0);
}

const hc_optim_desc optim_rmsprop_alpha = {
    .name = "rmsprop_alpha",
    .about = "RMSProp, gamma fixed",
    .n_keys = 2,
    .key = {{"alpha", 0.01, RANGE_NONNEG, MAP_SQUARE, KEY_LEARNED},
            {"gamma", 0.99, RANGE_OPEN01, MAP_IDENTITY, KEY_CONSTANT}},
    .n_state = 1,
    .state_name = {"s"},
    .state_init = {0.0},
    .state_key = {-1},
    .update = rmsprop_alpha_update,
};
