/* stack.c - the running tower: hypergradients bottom up, updates top down.
 *
 * Level k >= 2 is an optimizer of the table over the n_below raw hyperparameters h of
 * level k-1, exactly as level 1 is over the weights (gdtuo): it updates h with their
 * gradient and records, for the next step, D(rho) = d h_new / d rho for each of its own
 * raw hyperparameters rho. At the next step dL/drho = sum_h dL/dh . D(rho)(h): a level's
 * grad is the dot product of the level below's grad with its own stored D (spec). The
 * clip of level k-1's gradients is a switch of an SGD level k.
 * The hyperparameters are hc_real values, updated in hc_real as the reference's
 * float32 scalars are; gradients stay double. */
#pragma GCC optimize("fp-contract=off")   /* one rounding per operation, as PyTorch */
#include "stack.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *zeros(int n) { return calloc(n > 0 ? (size_t)n : 1, sizeof(double)); }

static void level_free(hc_level *l)
{
    free(l->grad); free(l->clipped); free(l->threshold); free(l->scale);
    clip_free(&l->clip);
    optim_free(&l->optim);
    memset(l, 0, sizeof *l);
}

/* Level k's optimizer over its targets (the weights, or level k-1's hyperparameters). */
static int level_init(hc_stack *s, int k, const hc_targets *weights, hc_err *e)
{
    hc_level *l = &s->level[k];
    const hc_level_spec *spec = &s->spec.level[k];
    const hc_level_spec *above = k + 1 < s->n_levels ? &s->spec.level[k + 1] : NULL;
    size_t begin[HC_MAX_ENTRIES + 1];
    hc_targets below = {0};

    if (k > 0) {   /* the slices above level 1 are the hyperparameters below, one each */
        const hc_level *b = &s->level[k - 1];
        below = (hc_targets){(size_t)b->n_hyper, b->n_hyper, NULL, b->names};
        size_t *many = NULL;
        if (b->n_hyper > HC_MAX_ENTRIES && !(many = malloc((size_t)(b->n_hyper + 1) * sizeof *many)))
            return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the optimizer stack");
        size_t *bg = many ? many : begin;
        for (int h = 0; h <= b->n_hyper; h++) bg[h] = (size_t)h;
        below.begin = bg;
        int rc = optim_init(&l->optim, spec->kind, spec->eff, spec->per_tensor, &below, 1, e);
        free(many);
        if (rc) return rc;
    } else if (optim_init(&l->optim, spec->kind, spec->eff, spec->per_tensor, weights, 0, e)) {
        return e->code;
    }
    l->n_hyper = l->optim.n_hyper;
    l->names = (const char *const *)l->optim.names;
    l->raw = l->optim.raw;
    if (!(l->grad = zeros(l->n_hyper)) || !(l->clipped = zeros(l->n_hyper)) ||
        !(l->threshold = zeros(l->n_hyper)) || !(l->scale = zeros(l->n_hyper)) ||
        /* the top level's hypers are never updated: their clip only tracks norms */
        clip_init(&l->clip, l->n_hyper, above ? above->clip : 0, above ? above->clip_global : 0))
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the optimizer stack");
    return 0;
}

static int spec_copy(hc_stack_spec *dst, const hc_stack_spec *src)
{
    dst->n_levels = src->n_levels;
    dst->level = malloc((size_t)src->n_levels * sizeof *dst->level);
    if (!dst->level) return -1;
    memcpy(dst->level, src->level, (size_t)src->n_levels * sizeof *dst->level);
    return 0;
}

int stack_init_targets(hc_stack *s, const hc_stack_spec *spec, const hc_targets *w, hc_err *e)
{
    memset(s, 0, sizeof *s);
    if (spec_copy(&s->spec, spec) || !(s->level = calloc((size_t)spec->n_levels, sizeof *s->level))) {
        stack_free(s);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the optimizer stack");
    }
    s->n_levels = spec->n_levels;
    for (int k = 0; k < s->n_levels; k++)
        if (level_init(s, k, w, e)) {
            stack_free(s);
            return e->code;
        }
    return 0;
}

int stack_init(hc_stack *s, const hc_stack_spec *spec, size_t n_weights, hc_err *e)
{
    static const char *const all[] = {"all"};
    size_t begin[2] = {0, n_weights};
    hc_targets w = {n_weights, 1, begin, all};
    return stack_init_targets(s, spec, &w, e);
}

void stack_free(hc_stack *s)
{
    if (s->level)
        for (int k = 0; k < s->n_levels; k++) level_free(&s->level[k]);
    free(s->level);
    stack_spec_free(&s->spec);
    memset(s, 0, sizeof *s);
}

int stack_n_levels(const hc_stack *s) { return s->n_levels; }
int stack_n_hyper(const hc_stack *s, int k) { return s->level[k].n_hyper; }
const char *stack_hyper_name(const hc_stack *s, int k, int h) { return s->level[k].names[h]; }
const double *stack_raw(const hc_stack *s, int k) { return s->level[k].raw; }

double stack_effective(const hc_stack *s, int k, int h)
{
    return optim_effective(&s->level[k].optim, h);
}

void stack_hyper_metrics(const hc_stack *s, int k, int h, double out[4])
{
    const hc_level *l = &s->level[k];
    out[0] = stack_effective(s, k, h);
    out[1] = l->grad[h];
    out[2] = l->clipped[h];
    out[3] = l->threshold[h];
}

int stack_nonfinite_hyper(const hc_stack *s, char *what, size_t n)
{
    for (int k = 0; k < s->n_levels; k++)
        for (int h = 0; h < s->level[k].n_hyper; h++)
            if (!isfinite(s->level[k].raw[h]) || !isfinite(s->level[k].grad[h])) {
                snprintf(what, n, "level %d %s", k + 1, s->level[k].names[h]);
                return 1;
            }
    return 0;
}

void stack_local_hypergrads(const hc_stack *s, const hc_real *g, double *hg)
{
    optim_hypergrad(&s->level[0].optim, g, hg);
}

void stack_hypergrads(hc_stack *s, const double *hg)
{
    memcpy(s->level[0].grad, hg, (size_t)s->level[0].n_hyper * sizeof *hg);
    for (int k = 1; k < s->n_levels; k++)
        optim_hypergrad_hyper(&s->level[k].optim, s->level[k - 1].grad, s->level[k].grad);
    /* the top level has no updater: record its norms now (clipped = grad) */
    hc_level *top = &s->level[s->n_levels - 1];
    double *v = top->clipped;
    memcpy(v, top->grad, (size_t)top->n_hyper * sizeof *v);
    clip_apply(&top->clip, v, top->threshold, top->scale);
}

void stack_update_level(hc_stack *s, int k)
{
    hc_level *below = &s->level[k - 1];
    optim_update_hyper(&s->level[k].optim, below->raw, below->grad, &below->clip, below->threshold,
                       below->scale);
    for (int h = 0; h < below->n_hyper; h++) below->clipped[h] = below->grad[h] * below->scale[h];
}

void stack_update_hypers(hc_stack *s)
{
    for (int k = s->n_levels - 1; k >= 1; k--) stack_update_level(s, k);
}

void stack_set_weight_range(hc_stack *s, size_t lo, size_t hi)
{
    optim_set_range(&s->level[0].optim, lo, hi);
}

void stack_update_weights(hc_stack *s, hc_real *w, const hc_real *g)
{
    optim_update(&s->level[0].optim, w, g);
}

void stack_step(hc_stack *s, const double *hg, hc_real *w, const hc_real *g)
{
    stack_hypergrads(s, hg);
    stack_update_hypers(s);
    stack_update_weights(s, w, g);
}

int stack_entries(const hc_stack *s, int k, hc_entry *out, int max)
{
    hc_level *l = &s->level[k];   /* the entries point into s: see stack.h */
    size_t n = (size_t)l->n_hyper;
    int c = 0;
    out[c++] = (hc_entry){"raw", l->raw, n, ENTRY_F64};
    out[c++] = (hc_entry){"clip_avg", l->clip.avg, n, ENTRY_F64};
    out[c++] = (hc_entry){"clip_steps", &l->clip.steps, 1, ENTRY_LONG};
    return c + optim_entries(&l->optim, out + c, max - c);
}

int stack_check_counters(const hc_stack *s, long steps)
{
    for (int k = 0; k < s->n_levels; k++) {
        hc_entry en[HC_MAX_ENTRIES];
        int n = stack_entries(s, k, en, HC_MAX_ENTRIES);
        for (int i = 0; i < n; i++) {
            if (en[i].type != ENTRY_LONG) continue;
            long v = *(const long *)en[i].ptr;
            if (v < 0 || v > steps) return k + 1;
        }
    }
    return 0;
}
