/* optim_family.h - what optimizer files share with their variants (private to src/optim_*.c). */
#ifndef HC_OPTIM_FAMILY_H
#define HC_OPTIM_FAMILY_H
#include "optim.h"

/* Adam with beta1, beta2 learned (raw[1], raw[2]) or constant (konst[1], konst[2]). */
void optim_adam_kernel(hc_optim *o, hc_real *w, const hc_real *g, int learn_betas);
/* RMSProp with gamma learned (raw[1]) or constant (konst[1]). */
void optim_rmsprop_kernel(hc_optim *o, hc_real *w, const hc_real *g, int learn_gamma);

#endif
