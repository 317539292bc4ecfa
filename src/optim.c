/* optim.c - the optimizer table, and what every optimizer shares: state, D,
 * hypergradients, the checkpoint's view of the state (the raw-form maps the kernels use:
 * optim_maps.c). Nothing here knows a kind.
 *
 * Hyperparameters are hc_real values combined in hc_real, as the reference's float32
 * scalars are (hc_real.h); no FMA contraction, so that every operation rounds once as
 * PyTorch's separate kernels do. */
#pragma GCC optimize("fp-contract=off")
#include "optim.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

HC_TABLE_DEFINE(hc_optim_desc, optimizers, HC_OPTIMIZER_LIST, OPT_COUNT);

const hc_optim_desc *optim_desc(hc_opt_kind kind) { return optimizers[kind]; }

static double to_raw(hc_key_map m, double eff)
{
    return m == MAP_SQUASH01 ? unsquash01(eff) : m == MAP_SQUARE ? hc_sqrt((hc_real)eff) : (hc_real)eff;
}

static double to_effective(hc_key_map m, double raw)
{
    return m == MAP_SQUASH01 ? squash01(raw) : m == MAP_SQUARE ? (hc_real)raw * (hc_real)raw : raw;
}

/* Cache-line aligned: the update streams up to ten arrays with 32-byte vectors, and
 * malloc's 16-byte offset would split every other access across two cache lines
 * (measured in isolation: the Adam update 10-25% slower). */
static hc_real *alloc_filled(size_t n, double value)
{
    void *v;
    if (posix_memalign(&v, 64, (n ? n : 1) * sizeof(hc_real))) return NULL;
    hc_real *p = v;
    for (size_t i = 0; i < n; i++) p[i] = (hc_real)value;
    return p;
}

static double *dalloc_filled(size_t n, double value)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (p)
        for (size_t i = 0; i < n; i++) p[i] = value;
    return p;
}

/* The raw hyperparameters and their names: the learned keys, or one alpha per slice. */
static int init_hypers(hc_optim *o, const double *eff, const hc_targets *t)
{
    const hc_optim_desc *d = o->desc;
    int n_learned = 0;
    while (n_learned < d->n_keys && d->key[n_learned].role != KEY_CONSTANT) n_learned++;
    o->n_hyper = o->per_tensor ? t->n_seg : n_learned;
    if (!(o->raw = calloc((size_t)o->n_hyper + 1, sizeof *o->raw)) ||
        !(o->names = calloc((size_t)o->n_hyper + 1, sizeof *o->names)))
        return -1;
    for (int h = 0; h < o->n_hyper; h++) {
        int key = o->per_tensor ? 0 : h;
        char buf[64];
        o->raw[h] = to_raw(d->key[key].map, eff[key]);
        if (o->per_tensor) snprintf(buf, sizeof buf, "%s.%s", d->key[0].name, t->name[h]);
        if (!(o->names[h] = strdup(o->per_tensor ? buf : d->key[key].name))) return -1;
    }
    for (int key = 0; key < d->n_keys; key++) {
        o->konst[key] = eff[key];
        o->live[key] = key < n_learned && (key == 0 || !o->per_tensor) &&
                       (d->key[key].role == KEY_LEARNED || eff[key] != 0.0);
        snprintf(o->dname[key], sizeof o->dname[key], "D_%s", d->key[key].name);
    }
    return 0;
}

/* Level 1, and levels >= 2 without update_hyper: hc_real arrays where needed.
 * Levels >= 2 with update_hyper: double arrays, every one (the format-1 layout). */
static int init_arrays(hc_optim *o)
{
    const hc_optim_desc *d = o->desc;
    const int all = o->upper && d->update_hyper;
    for (int i = 0; i < d->n_state; i++) {
        if (!all && d->state_key[i] >= 0 && !o->live[d->state_key[i]]) continue;
        if (all ? !(o->dstate[i] = dalloc_filled(o->n, d->state_init[i]))
                : !(o->state[i] = alloc_filled(o->n, d->state_init[i])))
            return -1;
    }
    for (int key = 0; key < d->n_keys; key++) {
        int want = all ? d->key[key].role != KEY_CONSTANT && (key == 0 || !o->per_tensor)
                       : o->live[key];
        if (want && (all ? !(o->dD[key] = dalloc_filled(o->n, 0.0))
                         : !(o->D[key] = alloc_filled(o->n, 0.0))))
            return -1;
    }
    if (o->upper && !((o->work = dalloc_filled(o->n, 0.0)) && (o->tw = alloc_filled(o->n, 0.0)) &&
                      (o->tg = alloc_filled(o->n, 0.0))))
        return -1;
    return 0;
}

int optim_init(hc_optim *o, hc_opt_kind kind, const double *eff, int per_tensor,
               const hc_targets *t, int upper, hc_err *e)
{
    memset(o, 0, sizeof *o);
    o->desc = optimizers[kind];
    o->upper = upper;
    o->per_tensor = per_tensor;
    o->n = t->n;
    o->lo = 0;
    o->hi = t->n;
    o->n_seg = per_tensor ? t->n_seg : 1;
    int rc = !(o->seg = calloc((size_t)o->n_seg + 1, sizeof *o->seg));
    for (int s = 0; !rc && per_tensor && s <= t->n_seg; s++) o->seg[s] = t->begin[s];
    if (!rc && !per_tensor) o->seg[1] = t->n;
    if (rc || init_hypers(o, eff, t) || init_arrays(o)) {
        optim_free(o);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the optimizer state (%zu targets)",
                       t->n);
    }
    return 0;
}

void optim_free(hc_optim *o)
{
    for (int i = 0; i < HC_MAX_STATE; i++) { free(o->state[i]); free(o->dstate[i]); }
    for (int h = 0; h < HC_MAX_HYPER; h++) { free(o->D[h]); free(o->dD[h]); }
    for (int h = 0; o->names && h < o->n_hyper; h++) free(o->names[h]);
    free(o->names); free(o->raw); free(o->seg); free(o->work); free(o->tw); free(o->tg);
    memset(o, 0, sizeof *o);
}

void optim_set_range(hc_optim *o, size_t lo, size_t hi)
{
    o->lo = lo < o->n ? lo : o->n;
    o->hi = hi < o->n ? hi : o->n;
    if (o->hi < o->lo) o->hi = o->lo;
}

double optim_effective(const hc_optim *o, int h)
{
    return to_effective(o->desc->key[o->per_tensor ? 0 : h].map, o->raw[h]);
}

/* out[h] = sum_i g_i D_h[i] in double for nD (1 to 3) arrays, in ONE pass over g: the
 * float-to-double conversions bound this loop, so g is read and converted once
 * instead of once per hyperparameter (Adam: 0.25 instead of 0.42 ns per weight here).
 * The product of two floats is exact in double (so an FMA changes nothing); eight
 * independent partial sums per array let the loop vectorise without reassociation
 * flags and fix the order of the additions: the same bits as one dot at a time, on
 * every machine. Called with a constant nD, so the unused arms fold away. */
static inline void dots(const hc_real *restrict g, const hc_real *restrict D0,
                        const hc_real *restrict D1, const hc_real *restrict D2, int nD, size_t n,
                        double *out)
{
    double a0[8] = {0}, a1[8] = {0}, a2[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            double gj = (double)g[i + j];
            a0[j] += gj * (double)D0[i + j];
            if (nD > 1) a1[j] += gj * (double)D1[i + j];
            if (nD > 2) a2[j] += gj * (double)D2[i + j];
        }
    for (; i < n; i++) {
        double gi = (double)g[i];
        a0[0] += gi * (double)D0[i];
        if (nD > 1) a1[0] += gi * (double)D1[i];
        if (nD > 2) a2[0] += gi * (double)D2[i];
    }
    double *acc[3] = {a0, a1, a2};
    for (int h = 0; h < nD; h++) {
        const double *a = acc[h];
        out[h] = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
    }
}

void optim_hypergrad(const hc_optim *o, const hc_real *g, double *hg)
{
    for (int h = 0; h < o->n_hyper; h++) hg[h] = 0.0;
    if (o->steps == 0) return;                 /* w_1 has no history: D = 0 at step 1 */
    const size_t lo = o->lo, hi = o->hi;
    if (o->per_tensor) {                       /* alpha_s moves slice s only */
        for (int s = 0; s < o->n_seg; s++) {
            size_t b = o->seg[s] > lo ? o->seg[s] : lo, e = o->seg[s + 1] < hi ? o->seg[s + 1] : hi;
            if (b < e) dots(g + b, o->D[0] + b, NULL, NULL, 1, e - b, &hg[s]);
        }
        return;
    }
    /* the recorded D come first (a key not recorded is SGD's mu without momentum) */
    int nD = 0;
    while (nD < o->n_hyper && o->D[nD]) nD++;
    const hc_real *D0 = o->D[0] + lo, *D1 = nD > 1 ? o->D[1] + lo : NULL;
    const hc_real *D2 = nD > 2 ? o->D[2] + lo : NULL;
    switch (nD) {
    case 1: dots(g + lo, D0, NULL, NULL, 1, hi - lo, hg); break;
    case 2: dots(g + lo, D0, D1, NULL, 2, hi - lo, hg); break;
    case 3: dots(g + lo, D0, D1, D2, 3, hi - lo, hg); break;
    }
}

/* Sum over the hyperparameters below, in their order (a handful of values). */
static double dot_below(const double *g, const hc_real *D, const double *dD, size_t b, size_t e)
{
    double sum = 0.0;
    for (size_t j = b; j < e; j++) sum += g[j] * (dD ? dD[j] : (double)D[j]);
    return sum;
}

void optim_hypergrad_hyper(const hc_optim *o, const double *g, double *hg)
{
    for (int h = 0; h < o->n_hyper; h++) {
        int key = o->per_tensor ? 0 : h;
        size_t b = o->per_tensor ? o->seg[h] : 0, e = o->per_tensor ? o->seg[h + 1] : o->n;
        hg[h] = o->live[key] ? dot_below(g, o->D[key], o->dD[key], b, e) : 0.0;
    }
}

void optim_update(hc_optim *o, hc_real *w, const hc_real *g)
{
    o->desc->update(o, w, g);
}

void optim_update_hyper(hc_optim *o, double *h, const double *g, hc_clip *clip,
                        double *threshold, double *scale)
{
    if (o->desc->update_hyper) {
        o->desc->update_hyper(o, h, g, clip, threshold, scale);
        return;
    }
    /* the clip is SGD's (refused here at parse time): it only tracks the norms */
    memcpy(o->work, g, o->n * sizeof *g);
    clip_apply(clip, o->work, threshold, scale);
    for (size_t j = 0; j < o->n; j++) {
        o->tw[j] = (hc_real)h[j];
        o->tg[j] = (hc_real)o->work[j];
    }
    o->desc->update(o, o->tw, o->tg);
    for (size_t j = 0; j < o->n; j++) h[j] = (double)o->tw[j];
}

/* Format-1 names at level 1 (state0, D0, ...); descriptive ones above (buf, D_alpha). */
int optim_entries(const hc_optim *o, hc_entry *out, int max)
{
    static const char *const st[HC_MAX_STATE] = {"state0", "state1"};
    static const char *const dn[HC_MAX_HYPER] = {"D0", "D1", "D2"};
    const hc_optim_desc *d = o->desc;
    int n = 0;
    out[n++] = (hc_entry){o->upper ? "updates" : "steps", (long *)&o->steps, 1, ENTRY_LONG};
    for (int i = 0; i < d->n_state && n < max; i++) {
        const char *name = o->upper ? d->state_name[i] : st[i];
        if (o->state[i]) out[n++] = (hc_entry){name, o->state[i], o->n, ENTRY_REAL};
        if (o->dstate[i]) out[n++] = (hc_entry){name, o->dstate[i], o->n, ENTRY_F64};
    }
    for (int key = 0; key < d->n_keys && n < max; key++) {
        const char *name = o->upper ? o->dname[key] : dn[key];
        if (o->D[key]) out[n++] = (hc_entry){name, o->D[key], o->n, ENTRY_REAL};
        if (o->dD[key]) out[n++] = (hc_entry){name, o->dD[key], o->n, ENTRY_F64};
    }
    return n;
}
