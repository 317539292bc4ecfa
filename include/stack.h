/* stack.h - an optimizer stack (tower): level 1 updates the weights, level k+1 updates the
 * raw hyperparameters of level k with any optimizer of the table (gdtuo), SGD levels
 * optionally with momentum and the clip.
 *
 * One step, after the allreduce (spec "One step, in order"):
 *   stack_hypergrads()          grad of every level, bottom up, from level 1's HG
 *   stack_update_level(k)       for k = K .. 2: level k updates level k-1's hypers
 *   stack_update_weights()      level 1 updates w with the new hyperparameters
 * train.c calls them in that order; the finite-difference test calls them one by one. */
#ifndef HC_STACK_H
#define HC_STACK_H
#include <stddef.h>
#include <stdio.h>
#include "clip.h"
#include "error.h"
#include "hc_real.h"
#include "optim.h"

/* ---- the parsed --stack string ---- */

typedef struct {
    hc_opt_kind kind;
    double eff[HC_MAX_HYPER];   /* effective initial values, in the descriptor's key order */
    int clip;                   /* clip=on (levels >= 2 of an optimizer with HC_SWITCH_CLIP) */
    int clip_global;            /* clip_scope=global */
    int per_tensor;             /* per_tensor=on (HC_SWITCH_PER_TENSOR) */
} hc_level_spec;

typedef struct {
    int n_levels;
    hc_level_spec *level;       /* level[0] is level 1, the primary */
} hc_stack_spec;

/* Parses the grammar of interfaces.md, fills defaults. On error: HC_ERR_USAGE with a
 * message that quotes the string and points at the offending text. */
int stack_parse(const char *text, hc_stack_spec *spec, hc_err *e);
void stack_spec_free(hc_stack_spec *spec);
/* One line per optimizer of the table: its keys with their defaults, its switches. */
void stack_grammar_help(FILE *f, const char *indent);
/* Canonical text with every value spelled out, e.g.
 * "adam(alpha=0.001, beta1=0.9, beta2=0.999) / sgd(alpha=0.001, mu=0, clip=on)". */
void stack_format(const hc_stack_spec *spec, char *buf, size_t size);

/* ---- the running stack ---- */

typedef struct {
    int n_hyper;
    const char *const *names;   /* effective names (optim's) */
    double *raw;                /* optim.raw */
    double *grad;               /* dL/draw at this step, before clipping */
    double *clipped;            /* grad times the clip factor the level above applied */
    double *threshold;          /* the clip threshold theta used at this step */
    double *scale;              /* scratch: clip factors (n_hyper) */
    hc_clip clip;               /* clip state of THIS level's hypers (switch of level k+1) */
    hc_optim optim;             /* level 1: updates the weights; level k: level k-1's raw */
} hc_level;

typedef struct {
    hc_stack_spec spec;         /* owned copy */
    int n_levels;
    hc_level *level;            /* level[0] = level 1 */
} hc_stack;

/* Builds the stack for n weights (copies spec); per_tensor sees one tensor "all". */
int stack_init(hc_stack *s, const hc_stack_spec *spec, size_t n_weights, hc_err *e);
/* The same for weights in named slices (the model's tensors). */
int stack_init_targets(hc_stack *s, const hc_stack_spec *spec, const hc_targets *w, hc_err *e);

/* Level k's persistent state for the checkpoint (raw, clip, optimizer): pointers into s,
 * written through only by a reader that owns s. Returns how many. */
int stack_entries(const hc_stack *s, int k, hc_entry *out, int max);
/* After a restore: every level's counters (its long entries) count at most one update a
 * step, so each lies in [0, steps] (a larger one would overflow when stepped). Returns 0,
 * or the 1-based level of the first that does not. */
int stack_check_counters(const hc_stack *s, long steps);
void stack_free(hc_stack *s);

/* ---- read-only views for the trainer's metrics, messages and checks ---- */

int stack_n_levels(const hc_stack *s);
int stack_n_hyper(const hc_stack *s, int k);                /* k: 0-based level index */
const char *stack_hyper_name(const hc_stack *s, int k, int h);
/* Effective value of hyperparameter h of level k. */
double stack_effective(const hc_stack *s, int k, int h);
/* Hyperparameter h of level k after the last step, as the metrics record it: its
 * effective value, hypergradient, clipped hypergradient and the clip threshold. */
void stack_hyper_metrics(const hc_stack *s, int k, int h, double out[4]);
/* Level k's raw values (stack_n_hyper of them). */
const double *stack_raw(const hc_stack *s, int k);
/* 1, with "level K NAME" in what, when a raw value or hypergradient is not finite. */
int stack_nonfinite_hyper(const hc_stack *s, char *what, size_t n);

/* The sharded update: level 1 updates weights [lo, hi) only and computes its
 * hypergradient shares over them (this rank's part; the others hold the rest). */
void stack_set_weight_range(hc_stack *s, size_t lo, size_t hi);

/* Level 1's hypergradient shares g . D(h) over its weights (n = level[0].n_hyper values). */
void stack_local_hypergrads(const hc_stack *s, const hc_real *g, double *hg);

/* Sets level 1's grad to hg (the allreduced shares) and computes every higher level's
 * grad from the level below and its own stored D. */
void stack_hypergrads(hc_stack *s, const double *hg);

/* Level k (0-based index >= 1) updates the raw hyperparameters of level k-1 with
 * their (momentum, clipped) gradients; records its D for the next step. */
void stack_update_level(hc_stack *s, int k);

/* Every level >= 2 updates the level below, top down (stack_update_level). */
void stack_update_hypers(hc_stack *s);

/* Level 1 updates the weights; records D for the next step. */
void stack_update_weights(hc_stack *s, hc_real *w, const hc_real *g);

/* All of the above after the allreduce, in the spec's order. */
void stack_step(hc_stack *s, const double *hg, hc_real *w, const hc_real *g);

#endif
