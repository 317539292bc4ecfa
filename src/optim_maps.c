/* optim_maps.c - the raw forms of the spec, shared by the table and the kernels: a beta
 * in (0, 1) as (tanh b + 1)/2, its inverse and derivative, and PyTorch's scalar pow.
 * Kept apart from optim.c, which holds the table and dispatches to the kernels, so that no
 * kernel calls back into it. As in optim.c, no FMA contraction: each operation rounds
 * once, as PyTorch's separate kernels do. */
#pragma GCC optimize("fp-contract=off")
#include "optim.h"
#include <math.h>

double squash01(double b) { return (hc_tanh((hc_real)b) + 1) / 2; }
/* gdtuo's unclamp: z = 2 beta - 1, log((1 + z)/(1 - z)) / 2 */
double unsquash01(double beta)
{
    hc_real z = (hc_real)beta * 2 - 1;
    return hc_log((1 + z) / (1 - z)) / 2;
}
double dsquash01(double b) { hc_real t = hc_tanh((hc_real)b); return (1 - t * t) / 2; }

hc_real hyper_pow(hc_real x, long n)
{
    /* PyTorch's pow by a scalar exponent: x*x and x*x*x for 2 and 3, else pow */
    switch (n) {
    case 0: return 1;
    case 1: return x;
    case 2: return x * x;
    case 3: return x * x * x;
    default: return HC_REAL_IS_DOUBLE ? pow(x, (double)n) : powf((float)x, (float)n);
    }
}
