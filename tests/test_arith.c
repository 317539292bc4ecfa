/* test_arith.c - the reference's arithmetic (gdtuo in PyTorch float32), built twice:
 * test_arith (float build) and test_arith64 (-DHC_REAL_DOUBLE).
 *
 * Float build: tanh rounds to exactly +-1 from |x| = 9.0109 on, so a saturated unit
 * back-propagates 1 - t^2 = 0; hyperparameters are float32 scalars combined in float32
 * (beta2 = 0.999 is 0.99900001287, 1 - beta2 is 0.000999987125), which an Adam update
 * computed op by op in float32 here must match bit for bit, and which keeping them in
 * double would not. Double build: everything stays double. */
#pragma GCC optimize("fp-contract=off")   /* the op-by-op reference below rounds once per op */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "hc_real.h"
#include "optim.h"
#include "stack.h"
#include "tap.h"

#define N 6

/* Adam with the defaults (0.001, 0.9, 0.999) over N weights. */
static void adam_default(hc_optim *o, hc_err *e)
{
    static const double eff[3] = {0.001, 0.9, 0.999};
    static size_t begin[2] = {0, N};
    static const char *const name[1] = {"w"};
    static const hc_targets targets = {N, 1, begin, name};
    optim_init(o, OPT_ADAM, eff, 0, &targets, 0, e);
}

#if !HC_REAL_IS_DOUBLE
static const float grads[3][N] = {
    {0.5f, -1e-3f, 3e-6f, 0.0f, 2.0f, -0.25f},
    {0.4f, 2e-3f, -3e-6f, 1e-4f, -2.0f, -0.25f},
    {-0.3f, -5e-4f, 1e-6f, 0.0f, 1.5f, 0.125f},
};

static int is_float_value(double x) { return (double)(float)x == x; }

static void tanh_saturates(void)
{
    long wrong = 0, not_zero = 0, n = 0;
    float first_wrong = 0;
    uint32_t lo, hi;
    float x9 = 9.0f, x50 = 50.0f;
    memcpy(&lo, &x9, 4);
    memcpy(&hi, &x50, 4);
    for (uint32_t b = lo; b <= hi; b++, n++) {
        float x;
        memcpy(&x, &b, 4);
        float want = (float)tanh((double)x);   /* correctly rounded */
        float t = hc_tanh_vec(x), tn = hc_tanh_vec(-x);
        if (t != want || tn != -want) {
            if (!wrong) first_wrong = x;
            wrong++;
        }
        if (want == 1.0f && (1 - t * t != 0 || 1 - tn * tn != 0)) not_zero++;
    }
    ok(!wrong, "tanh x for every float |x| in [9, 50] (%ld) is tanh rounded to float (first wrong: %g)",
       n, first_wrong);
    ok(!not_zero, "where tanh rounds to +-1, 1 - t^2 is exactly 0 (a saturated unit passes no gradient)");
    ok(hc_tanh_vec(9.0f) == 0.99999994f && hc_tanh_vec(9.02f) == 1.0f && hc_tanh_vec(-30.0f) == -1.0f,
       "tanh 9 = 0.99999994, tanh 9.02 = 1, tanh -30 = -1");
    ok(isnan(hc_tanh_vec(NAN)), "tanh NaN is NaN");
}

/* gdtuo's Adam, op by op in float32: raw b = log((1 + z)/(1 - z))/2 with z = 2 beta - 1,
 * beta = (tanh b + 1)/2, m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g g,
 * m / (1 - beta1 ** n), v / (1 - beta2 ** n), w - alpha (mh / (sqrt(vh) + eps)).
 * hyper_in_double: the same with beta and its constants in double, rounded at the end
 * (what the float build did before). */
static void reference_adam(float *w, int hyper_in_double)
{
    float m[N] = {0}, v[N];
    for (int i = 0; i < N; i++) v[i] = 1e-8f;
    float alpha = 0.001f;
    float z1 = 0.9f * 2 - 1, z2 = 0.999f * 2 - 1;
    float b1 = logf((1 + z1) / (1 - z1)) / 2, b2 = logf((1 + z2) / (1 - z2)) / 2;
    for (int n = 1; n <= 3; n++) {
        float beta1 = (tanhf(b1) + 1) / 2, beta2 = (tanhf(b2) + 1) / 2;
        float c1 = 1 - beta1, c2 = 1 - beta2;
        float bc1 = 1 - powf(beta1, (float)n), bc2 = 1 - powf(beta2, (float)n);
        if (n == 2) { bc1 = 1 - beta1 * beta1; bc2 = 1 - beta2 * beta2; }
        if (n == 3) { bc1 = 1 - beta1 * beta1 * beta1; bc2 = 1 - beta2 * beta2 * beta2; }
        if (hyper_in_double) {
            double d1 = (tanh(atanh(2 * 0.9 - 1)) + 1) / 2, d2 = (tanh(atanh(2 * 0.999 - 1)) + 1) / 2;
            beta1 = (float)d1; beta2 = (float)d2;
            c1 = (float)(1 - d1); c2 = (float)(1 - d2);
            bc1 = (float)(1 - pow(d1, n)); bc2 = (float)(1 - pow(d2, n));
        }
        for (int i = 0; i < N; i++) {
            float g = grads[n - 1][i];
            m[i] = beta1 * m[i] + c1 * g;
            v[i] = beta2 * v[i] + c2 * g * g;
            float mh = m[i] / bc1, vh = v[i] / bc2;
            w[i] = w[i] - alpha * (mh / (sqrtf(vh) + 1e-8f));
        }
    }
}

static void adam_in_float32(void)
{
    hc_optim o;
    hc_err e;
    adam_default(&o, &e);
    ok(optim_effective(&o, 2) == (double)0.999f && (float)(1 - (float)optim_effective(&o, 2)) == 0.000999987125f,
       "beta2 = 0.999 is the float32 0.99900001287 (%.11f), 1 - beta2 = 0.000999987125",
       optim_effective(&o, 2));
    ok(optim_effective(&o, 0) == (double)0.001f && is_float_value(o.raw[1]) && is_float_value(o.raw[2]),
       "alpha and the raw b1, b2 are float32 values");
    hc_real w[N], want[N], was[N];
    for (int i = 0; i < N; i++) w[i] = want[i] = was[i] = 0.01f * (float)(i + 1);
    for (int n = 0; n < 3; n++) optim_update(&o, w, grads[n]);
    reference_adam(want, 0);
    reference_adam(was, 1);
    int same = 1, differs = 0;
    for (int i = 0; i < N; i++) {
        same &= w[i] == want[i];
        differs |= was[i] != want[i];
    }
    ok(same, "three Adam updates equal gdtuo's float32 arithmetic bit for bit");
    ok(differs, "(and hyperparameters kept in double would have given other weights)");
    optim_free(&o);
}

static void levels_stay_float(void)
{
    hc_stack_spec spec;
    hc_stack s;
    hc_err e;
    stack_parse("adam(alpha=0.001) / sgd(alpha=0.0003, mu=0.5, clip=on) / sgd(alpha=1e-6)", &spec, &e);
    stack_init(&s, &spec, N, &e);
    hc_real w[N] = {0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f};
    int all_float = 1, kappa_exact = 0;
    for (int t = 0; t < 5; t++) {
        double hg[3];
        stack_local_hypergrads(&s, grads[t % 3], hg);
        hg[0] += 0.37 * t; hg[1] -= 1.3e-3; hg[2] += 7.1e-4 * t;   /* a non-zero history */
        double raw_before = s.level[0].raw[0];
        stack_step(&s, hg, w, grads[t % 3]);
        if (t == 2) {   /* D_alpha of level 2 is -b', the clipped momentum buffer it used */
            float want = (float)raw_before - (float)(-s.level[1].optim.dD[0][0]) * (float)s.level[1].raw[0];
            kappa_exact = s.level[0].raw[0] == (double)want && s.level[1].optim.dD[0][0] != 0;
        }
        for (int k = 0; k < s.n_levels; k++)
            for (int h = 0; h < s.level[k].n_hyper; h++) all_float &= is_float_value(s.level[k].raw[h]);
    }
    ok(kappa_exact, "level 2 updates alpha as the float32 alpha - g kappa");
    ok(all_float, "after 5 steps of a three-level stack every hyperparameter is a float32 value");
    stack_free(&s);
    stack_spec_free(&spec);
}
#else
static void double_stays_double(void)
{
    hc_optim o;
    hc_err e;
    adam_default(&o, &e);
    double b2 = optim_effective(&o, 2);
    ok(fabs(b2 - 0.999) < 1e-15 && b2 != (double)0.999f && optim_effective(&o, 0) == 0.001,
       "double build: beta2 = 0.999 to 1e-15 (%.17g), alpha = 0.001, not their float32 values", b2);
    optim_free(&o);
    ok(hc_tanh_vec(9.0) == tanh(9.0) && hc_tanh_vec(20.0) == tanh(20.0), "double build: tanh is libm's");

    hc_stack_spec spec;
    hc_stack s;
    stack_parse("sgd(alpha=0.01) / sgd(alpha=0.001)", &spec, &e);
    stack_init(&s, &spec, N, &e);
    double hg[2] = {0.123456789012345, 0};
    double w[N] = {0}, g[N] = {0};
    stack_step(&s, hg, w, g);
    double want = 0.01 - 0.123456789012345 * 0.001;
    ok(s.level[0].raw[0] == want && s.level[0].raw[0] != (double)(float)want,
       "double build: alpha - g kappa in double (%.17g)", s.level[0].raw[0]);
    stack_free(&s);
    stack_spec_free(&spec);
}
#endif

int main(void)
{
#if !HC_REAL_IS_DOUBLE
    tanh_saturates();
    adam_in_float32();
    levels_stay_float();
#else
    double_stays_double();
#endif
    return tap_done();
}
