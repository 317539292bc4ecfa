/* optim.c - what the four level-1 optimizers share: raw forms, state, D, hypergradients.
 *
 * Hyperparameters are hc_real values combined in hc_real, as the reference's float32
 * scalars are (hc_real.h); no FMA contraction, so that every operation rounds once as
 * PyTorch's separate kernels do. */
#pragma GCC optimize("fp-contract=off")
#include "optim.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const sgd_names[] = {"alpha", "mu"};
static const char *const adam_names[] = {"alpha", "beta1", "beta2"};
static const char *const adagrad_names[] = {"alpha"};
static const char *const rmsprop_names[] = {"alpha", "gamma"};

#define ADAM_EPS 1e-8       /* also v's initial value (sic, as gdtuo) */
#define ADAGRAD_G0 0.1      /* G's initial value (gdtuo) */

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

int optim1_n_hyper(hc_opt_kind kind)
{
    static const int n[] = {[OPT_SGD] = 2, [OPT_ADAM] = 3, [OPT_ADAGRAD] = 1, [OPT_RMSPROP] = 2};
    return n[kind];
}

const char *const *optim1_names(hc_opt_kind kind)
{
    switch (kind) {
    case OPT_SGD: return sgd_names;
    case OPT_ADAM: return adam_names;
    case OPT_ADAGRAD: return adagrad_names;
    default: return rmsprop_names;
    }
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

int optim1_init(hc_optim1 *o, hc_opt_kind kind, const double *eff, size_t n, hc_err *e)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->n_hyper = optim1_n_hyper(kind);
    o->names = optim1_names(kind);
    o->n = n;
    int n_state = 0, n_D = o->n_hyper;
    double state0[2] = {0.0, 0.0};
    switch (kind) {
    case OPT_SGD:
        o->raw[0] = (hc_real)eff[0];
        o->raw[1] = (hc_real)eff[1];
        o->momentum = eff[1] != 0.0;
        n_state = o->momentum;
        n_D = o->momentum ? 2 : 1;          /* with mu0 = 0, D(mu) is exactly 0 */
        break;
    case OPT_ADAM:
        o->raw[0] = (hc_real)eff[0];
        o->raw[1] = unsquash01(eff[1]);
        o->raw[2] = unsquash01(eff[2]);
        n_state = 2;
        state0[1] = ADAM_EPS;
        break;
    case OPT_ADAGRAD:
        o->raw[0] = (hc_real)eff[0];
        n_state = 1;
        state0[0] = ADAGRAD_G0;
        break;
    case OPT_RMSPROP:
        o->raw[0] = hc_sqrt((hc_real)eff[0]);
        o->raw[1] = unsquash01(eff[1]);
        n_state = 1;
        break;
    }
    for (int i = 0; i < n_state; i++)
        if (!(o->state[i] = alloc_filled(n, state0[i]))) goto oom;
    for (int h = 0; h < n_D; h++)
        if (!(o->D[h] = alloc_filled(n, 0.0))) goto oom;
    return 0;
oom:
    optim1_free(o);
    return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the optimizer state (%zu weights)", n);
}

void optim1_free(hc_optim1 *o)
{
    for (int i = 0; i < 2; i++) free(o->state[i]);
    for (int h = 0; h < HC_MAX_HYPER; h++) free(o->D[h]);
    memset(o->state, 0, sizeof o->state);
    memset(o->D, 0, sizeof o->D);
}

double optim1_effective(const hc_optim1 *o, int h)
{
    switch (o->kind) {
    case OPT_ADAM: return h == 0 ? o->raw[0] : squash01(o->raw[h]);
    case OPT_RMSPROP: return h == 0 ? (hc_real)o->raw[0] * (hc_real)o->raw[0] : squash01(o->raw[1]);
    default: return o->raw[h];
    }
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

void optim1_hypergrad(const hc_optim1 *o, const hc_real *g, double *hg)
{
    /* D is NULL where it is always 0 (SGD's mu without momentum); those come last */
    int nD = 0;
    while (nD < o->n_hyper && o->D[nD]) nD++;
    double out[HC_MAX_HYPER] = {0};
    if (o->steps > 0) {                    /* w_1 has no history: D = 0 at step 1 */
        switch (nD) {
        case 1: dots(g, o->D[0], NULL, NULL, 1, o->n, out); break;
        case 2: dots(g, o->D[0], o->D[1], NULL, 2, o->n, out); break;
        case 3: dots(g, o->D[0], o->D[1], o->D[2], 3, o->n, out); break;
        }
    }
    for (int h = 0; h < o->n_hyper; h++) hg[h] = out[h];
}

void optim1_update(hc_optim1 *o, hc_real *w, const hc_real *g)
{
    switch (o->kind) {
    case OPT_SGD: optim_sgd_update(o, w, g); break;
    case OPT_ADAM: optim_adam_update(o, w, g); break;
    case OPT_ADAGRAD: optim_adagrad_update(o, w, g); break;
    case OPT_RMSPROP: optim_rmsprop_update(o, w, g); break;
    }
}
