/* stack.h - an optimizer stack (tower): level 1 updates the weights, level k+1 (SGD)
 * updates the raw hyperparameters of level k, optionally with momentum and the clip.
 *
 * One step, after the allreduce (spec "One step, in order"):
 *   stack_hypergrads()          grad of every level, bottom up, from level 1's HG
 *   stack_update_level(k)       for k = K .. 2: level k updates level k-1's hypers
 *   stack_update_weights()      level 1 updates w with the new hyperparameters
 * train.c calls them in that order; the finite-difference test calls them one by one. */
#ifndef HC_STACK_H
#define HC_STACK_H
#include <stddef.h>
#include "clip.h"
#include "error.h"
#include "hc_real.h"
#include "optim.h"

/* ---- the parsed --stack string ---- */

typedef struct {
    hc_opt_kind kind;           /* level 1: any; levels >= 2: OPT_SGD */
    double eff[HC_MAX_HYPER];   /* effective initial values, in optim1_names() order;
                                   levels >= 2: eff[0] = alpha, eff[1] = mu */
    int clip;                   /* clip=on (SGD levels >= 2 only) */
    int clip_global;            /* clip_scope=global */
} hc_level_spec;

typedef struct {
    int n_levels;
    hc_level_spec *level;       /* level[0] is level 1, the primary */
} hc_stack_spec;

/* Parses the grammar of interfaces.md, fills defaults. On error: HC_ERR_USAGE with a
 * message that quotes the string and points at the offending text. */
int stack_parse(const char *text, hc_stack_spec *spec, hc_err *e);
void stack_spec_free(hc_stack_spec *spec);
/* Canonical text with every value spelled out, e.g.
 * "adam(alpha=0.001, beta1=0.9, beta2=0.999) / sgd(alpha=0.001, mu=0, clip=on)". */
void stack_format(const hc_stack_spec *spec, char *buf, size_t size);

/* ---- the running stack ---- */

typedef struct {
    int n_hyper;
    const char *const *names;   /* effective names */
    double *raw;                /* level 1: opt.raw; levels >= 2: own_raw = {kappa, mu} */
    double own_raw[2];
    double *grad;               /* dL/draw at this step, before clipping */
    double *clipped;            /* grad times the clip factor the level above applied */
    double *threshold;          /* the clip threshold theta used at this step */
    hc_clip clip;               /* clip state of THIS level's hypers (switch of level k+1) */
    /* levels >= 2 only: an SGD over the n_below hyperparameters of level k-1 */
    int n_below;
    int momentum;               /* initial mu != 0 */
    long updates;               /* updates done (first one: b = g) */
    double *buf;                /* momentum buffer, clipped (n_below) */
    double *D_alpha, *D_mu;     /* d h_new / d raw of this level, per h below (n_below) */
    double *work;               /* scratch: the vector the clip acts on (n_below) */
    double *scale;              /* scratch: clip factors (n_hyper) */
} hc_level;

typedef struct {
    hc_stack_spec spec;         /* owned copy */
    int n_levels;
    hc_optim1 opt;              /* level 1's weight update */
    hc_level *level;            /* level[0] = level 1 */
} hc_stack;

/* Builds the stack for n weights (copies spec). */
int stack_init(hc_stack *s, const hc_stack_spec *spec, size_t n_weights, hc_err *e);
void stack_free(hc_stack *s);

/* Effective value of hyperparameter h of level k (0-based level index). */
double stack_effective(const hc_stack *s, int k, int h);

/* Level 1's local hypergradient shares g . D(h) (n = level[0].n_hyper values). */
void stack_local_hypergrads(const hc_stack *s, const hc_real *g, double *hg);

/* Sets level 1's grad to hg (the allreduced shares) and computes every higher level's
 * grad from the level below and its own stored D. */
void stack_hypergrads(hc_stack *s, const double *hg);

/* Level k (0-based index >= 1) updates the raw hyperparameters of level k-1 with
 * their (momentum, clipped) gradients; records its D for the next step. */
void stack_update_level(hc_stack *s, int k);

/* Level 1 updates the weights; records D for the next step. */
void stack_update_weights(hc_stack *s, hc_real *w, const hc_real *g);

/* All of the above after the allreduce, in the spec's order. */
void stack_step(hc_stack *s, const double *hg, hc_real *w, const hc_real *g);

#endif
