/* optim.h - the optimizers: one descriptor each (optim_list.h), and the running instance.
 *
 * An instance updates a vector of targets: level 1's updates the model weights (hc_real),
 * level k+1's updates the raw hyperparameters of level k (double), which is how gdtuo
 * stacks any optimizer on any other. In the same pass it records for every raw
 * hyperparameter h of its own the derivative D(h) = dtarget'/dh of that update (spec:
 * "The update of level 1 and its derivatives D"); at the next step the hypergradient of
 * h is the dot product of the targets' gradient with D(h). */
#ifndef HC_OPTIM_H
#define HC_OPTIM_H
#include <stddef.h>
#include "clip.h"
#include "entry.h"
#include "error.h"
#include "hc_real.h"
#include "optim_list.h"
#include "table.h"

#define HC_MAX_HYPER 3      /* keys of one optimizer */
#define HC_MAX_STATE 2      /* per-target state arrays of one optimizer */

typedef enum { HC_TABLE_ENUM(HC_OPTIMIZER_LIST) OPT_COUNT } hc_opt_kind;

/* The values an effective hyperparameter may take. Betas and gamma are open at both ends
 * because their raw form is atanh(2b - 1); mu = 1 would never forget the past. */
typedef enum { RANGE_NONNEG, RANGE_HALF_OPEN01, RANGE_OPEN01 } hc_key_range;
/* effective = map(raw): identity, (tanh raw + 1)/2, raw^2 (spec's table) */
typedef enum { MAP_IDENTITY, MAP_SQUASH01, MAP_SQUARE } hc_key_map;
/* Learned keys come first in a descriptor (their index is their raw index). */
typedef enum {
    KEY_LEARNED,
    KEY_LEARNED_IF_NONZERO,     /* SGD's mu: its branch exists only when its initial value != 0 */
    KEY_CONSTANT                /* not learned (adam_baydin's betas): the value given is used */
} hc_key_role;

typedef struct {
    const char *name;           /* effective name: "alpha", "beta1", ... */
    double def;                 /* the papers' default */
    hc_key_range range;
    hc_key_map map;
    hc_key_role role;
} hc_key_desc;

#define HC_SWITCH_CLIP 1u        /* clip=, clip_scope= at levels >= 2 (SGD's: the paper's clip) */
#define HC_SWITCH_PER_TENSOR 2u  /* per_tensor=on: one alpha per weight tensor (gdtuo's SGDPerParam) */

typedef struct hc_optim hc_optim;

typedef struct {
    const char *name;                       /* in --stack, any letter case */
    const char *about;                      /* a few words for --help */
    int n_keys;
    hc_key_desc key[HC_MAX_HYPER];
    unsigned switches;
    int n_state;
    const char *state_name[HC_MAX_STATE];   /* checkpoint names at levels >= 2 */
    double state_init[HC_MAX_STATE];
    int state_key[HC_MAX_STATE];            /* -1, or the key whose branch needs the array */
    /* One update of the n targets w with gradient g; records D; counts the step. */
    void (*update)(hc_optim *o, hc_real *w, const hc_real *g);
    /* Optional: the update of hyperparameters (levels >= 2) in double, with the clip of
     * the level below applied inside (SGD). Without it, the targets go through update()
     * in hc_real and the clip only tracks norms. */
    void (*update_hyper)(hc_optim *o, double *h, const double *g, hc_clip *clip,
                         double *threshold, double *scale);
} hc_optim_desc;

const hc_optim_desc *optim_desc(hc_opt_kind kind);

/* What the targets are: n values in n_seg named slices (the model's tensors at level 1,
 * one slice per hyperparameter above). Only per_tensor uses the slices. */
typedef struct {
    size_t n;
    int n_seg;
    const size_t *begin;        /* n_seg + 1 offsets */
    const char *const *name;    /* n_seg names */
} hc_targets;

struct hc_optim {
    const hc_optim_desc *desc;
    int upper;                  /* targets are hyperparameters (double), not weights */
    int per_tensor;             /* one alpha per slice */
    int n_hyper;                /* raw values (metrics columns) */
    double *raw;                /* n_hyper raw hyperparameters (spec table), hc_real values */
    char **names;               /* n_hyper effective names */
    double konst[HC_MAX_HYPER]; /* effective values of the constant keys */
    int live[HC_MAX_HYPER];     /* key's D is recorded (else its HG is exactly 0) */
    size_t n;                   /* targets */
    size_t lo, hi;              /* the targets this instance updates: [0, n), or one rank's
                                   part under the sharded update (optim_set_range) */
    int n_seg;
    size_t *seg;                /* n_seg + 1 offsets */
    long steps;                 /* updates done (Adam's n is steps after the update) */
    hc_real *state[HC_MAX_STATE];   /* SGD: b | Adam: m, v | AdaGrad: G | RMSProp: s */
    hc_real *D[HC_MAX_HYPER];       /* per key; NULL where not recorded */
    double *dstate[HC_MAX_STATE];   /* the same in double, for update_hyper */
    double *dD[HC_MAX_HYPER];
    double *work;               /* upper: the gradient the clip acts on (n) */
    hc_real *tw, *tg;           /* upper without update_hyper: targets, gradient (n) */
    char dname[HC_MAX_HYPER][24];   /* "D_alpha", ... */
};

/* Raw values from the effective eff[] (in key order), state and D for the targets.
 * upper: the targets are hyperparameters. */
int optim_init(hc_optim *o, hc_opt_kind kind, const double *eff, int per_tensor,
               const hc_targets *targets, int upper, hc_err *e);
void optim_free(hc_optim *o);

/* Level 1 under the sharded update: update() and optim_hypergrad() act on targets
 * [lo, hi) only (this rank's part); the other targets' state and D are left as they are. */
void optim_set_range(hc_optim *o, size_t lo, size_t hi);

/* Effective value of raw hyperparameter h. */
double optim_effective(const hc_optim *o, int h);

/* Level 1: hg[h] = sum_i g_i D(h)_i in double over the range (0 before the first update). */
void optim_hypergrad(const hc_optim *o, const hc_real *g, double *hg);
/* Levels >= 2: the same over the hyperparameters below, with their gradient g. */
void optim_hypergrad_hyper(const hc_optim *o, const double *g, double *hg);

/* Level 1: one update of the weights. */
void optim_update(hc_optim *o, hc_real *w, const hc_real *g);
/* Levels >= 2: one update of the raw hyperparameters h below, whose gradient is g and
 * whose clip (state, threshold and factor out) is given. */
void optim_update_hyper(hc_optim *o, double *h, const double *g, hc_clip *clip,
                        double *threshold, double *scale);

/* The persistent state (counter, state arrays, D) for the checkpoint; returns how many. */
int optim_entries(const hc_optim *o, hc_entry *out, int max);

/* Raw-form maps of the spec: beta = (tanh b + 1)/2 and back.
 * Computed in hc_real as the reference does (hc_real.h); the doubles hold hc_real values. */
double squash01(double b);
double unsquash01(double beta);
double dsquash01(double b);   /* d beta / d b = (1 - tanh^2 b) / 2 */
/* x^n as the reference's beta ** float(n) (Adam's bias corrections). */
hc_real hyper_pow(hc_real x, long n);

#endif
