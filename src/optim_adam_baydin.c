/* optim_adam_baydin.c - gdtuo's AdamBaydin: Adam whose step size alone is learned (as in
 * Baydin et al. 2017); beta1 and beta2 are the constants given, used as they are (no
 * tanh form). Same state and arithmetic as Adam otherwise; dw'/dalpha = -d. */
#include "optim_family.h"

static void adam_baydin_update(hc_optim *o, hc_real *w, const hc_real *g)
{
    optim_adam_kernel(o, w, g, 0);
}

const hc_optim_desc optim_adam_baydin = {
    .name = "adam_baydin",
    .about = "Adam, betas fixed",
    .n_keys = 3,
    .key = {{"alpha", 0.001, RANGE_NONNEG, MAP_IDENTITY, KEY_LEARNED},
            {"beta1", 0.9, RANGE_OPEN01, MAP_IDENTITY, KEY_CONSTANT},
            {"beta2", 0.999, RANGE_OPEN01, MAP_IDENTITY, KEY_CONSTANT}},
    .n_state = 2,
    .state_name = {"m", "v"},
    .state_init = {0.0, 1e-8},   /* v starts at eps, as Adam's */
    .state_key = {-1, -1},
    .update = adam_baydin_update,
};
