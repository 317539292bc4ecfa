/* hc_real.h - the floating-point type of weights, activations and per-weight state.
 *
 * The product is built with float32 (fast GEMMs). The same sources are compiled a
 * second time with -DHC_REAL_DOUBLE for the finite-difference tests, which need
 * double precision to resolve loss changes of 1e-10. Hyperparameters, hypergradient
 * dot products and losses are double in both builds. */
#ifndef HC_REAL_H
#define HC_REAL_H

#ifdef HC_REAL_DOUBLE
typedef double hc_real;
#define HC_REAL_IS_DOUBLE 1
#define hc_sqrt sqrt
#define hc_tanh tanh
#define hc_exp exp
#define hc_log log
#else
typedef float hc_real;
#define HC_REAL_IS_DOUBLE 0
#define hc_sqrt sqrtf
#define hc_tanh tanhf
#define hc_exp expf
#define hc_log logf
#endif

#endif
