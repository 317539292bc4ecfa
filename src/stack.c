/* stack.c - the running tower: hypergradients bottom up, updates top down.
 *
 * Level k >= 2 is an SGD over the n_below raw hyperparameters h of level k-1:
 *     b = g (first update) or mu b_prev + g     (b = g without momentum)
 *     b' = clip(b)                               (the clip state belongs to level k-1)
 *     h <- h - kappa b'
 * and it records, for the next step, d h_new/d kappa = -b' and d h_new/d mu = -kappa b_prev.
 * At the next step dL/dkappa = sum_h dL/dh . (-b'(h)): the level's grad is the dot
 * product of the level below's grad with its own stored D (spec).
 * The hyperparameters are hc_real values, updated in hc_real as the reference's
 * float32 scalars are (h - g kappa, g rounded to hc_real); gradients stay double. */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include "stack.h"
#include <stdlib.h>
#include <string.h>

static const char *const sgd_level_names[] = {"alpha", "mu"};

static double *zeros(int n) { return calloc(n > 0 ? (size_t)n : 1, sizeof(double)); }

static void level_free(hc_level *l)
{
    free(l->grad); free(l->clipped); free(l->threshold); free(l->scale);
    free(l->buf); free(l->D_alpha); free(l->D_mu); free(l->work);
    clip_free(&l->clip);
    memset(l, 0, sizeof *l);
}

/* Level k's own hyperparameters, and (k >= 1) its SGD over level k-1. */
static int level_init(hc_stack *s, int k)
{
    hc_level *l = &s->level[k];
    const hc_level_spec *spec = &s->spec.level[k];
    const hc_level_spec *above = k + 1 < s->n_levels ? &s->spec.level[k + 1] : NULL;

    if (k == 0) {
        l->n_hyper = s->opt.n_hyper;
        l->names = s->opt.names;
        l->raw = s->opt.raw;                      /* level 1's raw values live in opt */
    } else {
        l->n_hyper = 2;
        l->names = sgd_level_names;
        l->raw = l->own_raw;
        l->raw[0] = (hc_real)spec->eff[0];
        l->raw[1] = (hc_real)spec->eff[1];
        l->n_below = s->level[k - 1].n_hyper;
        l->momentum = spec->eff[1] != 0.0;
        if (!(l->buf = zeros(l->n_below)) || !(l->D_alpha = zeros(l->n_below)) ||
            !(l->D_mu = zeros(l->n_below)) || !(l->work = zeros(l->n_below)))
            return -1;
    }
    if (!(l->grad = zeros(l->n_hyper)) || !(l->clipped = zeros(l->n_hyper)) ||
        !(l->threshold = zeros(l->n_hyper)) || !(l->scale = zeros(l->n_hyper)))
        return -1;
    /* the top level's hypers are never updated: their clip only tracks norms */
    return clip_init(&l->clip, l->n_hyper, above ? above->clip : 0,
                     above ? above->clip_global : 0);
}

static int spec_copy(hc_stack_spec *dst, const hc_stack_spec *src)
{
    dst->n_levels = src->n_levels;
    dst->level = malloc((size_t)src->n_levels * sizeof *dst->level);
    if (!dst->level) return -1;
    memcpy(dst->level, src->level, (size_t)src->n_levels * sizeof *dst->level);
    return 0;
}

int stack_init(hc_stack *s, const hc_stack_spec *spec, size_t n_weights, hc_err *e)
{
    memset(s, 0, sizeof *s);
    if (spec_copy(&s->spec, spec)) goto oom;
    s->n_levels = spec->n_levels;
    if (optim1_init(&s->opt, spec->level[0].kind, spec->level[0].eff, n_weights, e))
        return e->code;
    if (!(s->level = calloc((size_t)s->n_levels, sizeof *s->level))) goto oom;
    for (int k = 0; k < s->n_levels; k++)
        if (level_init(s, k)) goto oom;
    return 0;
oom:
    stack_free(s);
    return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the optimizer stack");
}

void stack_free(hc_stack *s)
{
    if (s->level)
        for (int k = 0; k < s->n_levels; k++) level_free(&s->level[k]);
    free(s->level);
    optim1_free(&s->opt);
    stack_spec_free(&s->spec);
    memset(s, 0, sizeof *s);
}

double stack_effective(const hc_stack *s, int k, int h)
{
    return k == 0 ? optim1_effective(&s->opt, h) : s->level[k].raw[h];
}

void stack_local_hypergrads(const hc_stack *s, const hc_real *g, double *hg)
{
    optim1_hypergrad(&s->opt, g, hg);
}

void stack_hypergrads(hc_stack *s, const double *hg)
{
    memcpy(s->level[0].grad, hg, (size_t)s->level[0].n_hyper * sizeof *hg);
    for (int k = 1; k < s->n_levels; k++) {
        hc_level *l = &s->level[k];
        const double *below = s->level[k - 1].grad;
        double g_alpha = 0.0, g_mu = 0.0;
        for (int h = 0; h < l->n_below; h++) {
            g_alpha += below[h] * l->D_alpha[h];
            g_mu += below[h] * l->D_mu[h];
        }
        l->grad[0] = g_alpha;
        l->grad[1] = l->momentum ? g_mu : 0.0;   /* mu0 = 0: mu never enters */
    }
    /* the top level has no updater: record its norms now (clipped = grad) */
    hc_level *top = &s->level[s->n_levels - 1];
    double *v = top->clipped;
    memcpy(v, top->grad, (size_t)top->n_hyper * sizeof *v);
    clip_apply(&top->clip, v, top->threshold, top->scale);
}

void stack_update_level(hc_stack *s, int k)
{
    hc_level *l = &s->level[k], *below = &s->level[k - 1];
    const double kappa = l->raw[0], mu = l->raw[1];
    const int first = l->updates == 0;
    double *b = l->work;

    for (int h = 0; h < l->n_below; h++)
        b[h] = (l->momentum && !first) ? mu * l->buf[h] + below->grad[h] : below->grad[h];
    clip_apply(&below->clip, b, below->threshold, below->scale);
    for (int h = 0; h < l->n_below; h++) {
        l->D_mu[h] = (l->momentum && !first) ? -kappa * l->buf[h] : 0.0;
        l->D_alpha[h] = -b[h];
        if (l->momentum) l->buf[h] = b[h];   /* the clipped buffer is what is kept */
        below->raw[h] = (hc_real)below->raw[h] - (hc_real)b[h] * (hc_real)kappa;
        below->clipped[h] = below->grad[h] * below->scale[h];
    }
    l->updates++;
}

void stack_update_weights(hc_stack *s, hc_real *w, const hc_real *g)
{
    optim1_update(&s->opt, w, g);
}

void stack_step(hc_stack *s, const double *hg, hc_real *w, const hc_real *g)
{
    stack_hypergrads(s, hg);
    for (int k = s->n_levels - 1; k >= 1; k--) stack_update_level(s, k);
    stack_update_weights(s, w, g);
}
