/* optim.h - the level-1 (primary) optimizer of a stack, and its update derivatives.
 *
 * It updates the weights elementwise and, in the same pass, records for every raw
 * hyperparameter h the derivative D(h) = dw'/dh of that update (spec: "The update of
 * level 1 and its derivatives D"). At the next step the hypergradient of h is g . D(h). */
#ifndef HC_OPTIM_H
#define HC_OPTIM_H
#include <stddef.h>
#include "error.h"
#include "hc_real.h"

#define HC_MAX_HYPER 3

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAGRAD, OPT_RMSPROP } hc_opt_kind;

typedef struct {
    hc_opt_kind kind;
    int n_hyper;
    const char *const *names;   /* effective names: "alpha", "mu", "beta1", ... */
    double raw[HC_MAX_HYPER];   /* raw hyperparameters (spec table), hc_real values */
    int momentum;               /* SGD: initial mu != 0 keeps the momentum branch */
    size_t n;                   /* weights */
    long steps;                 /* updates done (Adam's n is steps after the update) */
    hc_real *state[2];          /* SGD: b | Adam: m, v | AdaGrad: G | RMSProp: s */
    hc_real *D[HC_MAX_HYPER];   /* dw'/draw_h of the last update; NULL where always 0 */
} hc_optim1;

/* Sets the kind and the raw hyperparameters from effective values eff[] (in the
 * order of names), allocates state and D for n weights, sets state initial values. */
int optim1_init(hc_optim1 *o, hc_opt_kind kind, const double *eff, size_t n, hc_err *e);
void optim1_free(hc_optim1 *o);

/* The names of a kind's hyperparameters, and how many. */
int optim1_n_hyper(hc_opt_kind kind);
const char *const *optim1_names(hc_opt_kind kind);

/* Effective value of hyperparameter h from the current raw value. */
double optim1_effective(const hc_optim1 *o, int h);

/* hg[h] = sum_i g_i D(h)_i in double (0 before the first update). */
void optim1_hypergrad(const hc_optim1 *o, const hc_real *g, double *hg);

/* One update of w with gradient g at the current raw hyperparameters; records D. */
void optim1_update(hc_optim1 *o, hc_real *w, const hc_real *g);

/* Per-kind updates, one file each (optim_sgd.c, optim_adam.c, ...). */
void optim_sgd_update(hc_optim1 *o, hc_real *w, const hc_real *g);
void optim_adam_update(hc_optim1 *o, hc_real *w, const hc_real *g);
void optim_adagrad_update(hc_optim1 *o, hc_real *w, const hc_real *g);
void optim_rmsprop_update(hc_optim1 *o, hc_real *w, const hc_real *g);

/* Raw-form maps of the spec: beta = (tanh b + 1)/2 and back; alpha = a^2 and back.
 * Computed in hc_real as the reference does (hc_real.h); the doubles hold hc_real values. */
double squash01(double b);
double unsquash01(double beta);
double dsquash01(double b);   /* d beta / d b = (1 - tanh^2 b) / 2 */
/* x^n as the reference's beta ** float(n) (Adam's bias corrections). */
hc_real hyper_pow(hc_real x, long n);

#endif
