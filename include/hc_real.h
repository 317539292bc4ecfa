/* hc_real.h - the floating-point type of weights, activations and per-weight state.
 *
 * The product is built with float32 (fast GEMMs). The same sources are compiled a
 * second time with -DHC_REAL_DOUBLE for the finite-difference tests, which need
 * double precision to resolve loss changes of 1e-10. Hypergradient dot products and
 * losses are double in both builds. Hyperparameters are hc_real values: the reference
 * (gdtuo in PyTorch float32) keeps every one as a float32 scalar and computes with it
 * in float32 (beta2 = 0.999 is 0.99900001287, 1 - beta2 is 0.000999987125), so the
 * float build does too; they are stored in doubles that hold hc_real values. */
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

/* ---- tanh and exp that the compiler can vectorise ----
 * libm's tanhf and expf are calls, one element at a time; these are straight-line
 * arithmetic, comparisons and bit operations, so GCC turns a loop over them into SIMD
 * code. The float versions are within 1 ulp of the correctly rounded result (checked
 * over every float); the double build uses libm, whose accuracy the finite-difference
 * tests rely on. NaN in gives NaN out: the divergence check and the argmax depend on it. */
#include <math.h>
#if HC_REAL_IS_DOUBLE
static inline double hc_exp_vec(double x) { return exp(x); }
static inline double hc_tanh_vec(double x) { return tanh(x); }
#else
#include <stdint.h>
#include <string.h>

/* e^x for x in [-87, 88]; outside, the value at the nearer end (never inf, never a
 * denormal). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, and Cephes' expf
 * polynomial for e^r; 2^n goes straight into the exponent bits. */
static inline float hc_exp_vec(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;  /* ln2_hi n is exact */
    const float round_magic = 12582912.0f;  /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x < -87.0f ? -87.0f : x;     /* comparisons are false for NaN: it passes */
    xc = xc > 88.0f ? 88.0f : xc;
    float t = xc * log2e + round_magic;     /* n sits in the low mantissa bits of t */
    float n = t - round_magic;
    float r = (xc - n * ln2_hi) - n * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;             /* e^r in [0.70, 1.42] */
    uint32_t tb, pb;                        /* unsigned: n < 0 shifts without UB */
    memcpy(&tb, &t, sizeof tb);
    memcpy(&pb, &p, sizeof pb);
    pb += (tb - 0x4B400000u) << 23;         /* p * 2^n: n = bits of t - bits of magic */
    float out;
    memcpy(&out, &pb, sizeof out);
    return x != x ? x : out;
}

/* tanh x: an odd polynomial (Cephes tanhf) below |x| = 0.625, where 1 - 2/(e^2|x| + 1)
 * would cancel; that form above. tanh rounds to exactly +-1 in float from |x| = 9.0109
 * on (2/(e^2|x| + 1) is then below half an ulp of 1), and a saturated unit must
 * back-propagate 1 - t^2 = 0 as the reference's does, not 1.19e-7: |x| is capped at
 * 20, far inside that range and inside hc_exp_vec's (e^40 is finite in float).
 * Both forms are computed and one selected, which is what lets the loop vectorise. */
static inline float hc_tanh_vec(float x)
{
    float a = fabsf(x);
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                    + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float ac = a > 20.0f ? 20.0f : a;       /* NaN passes */
    float big = copysignf(1.0f - 2.0f / (hc_exp_vec(ac + ac) + 1.0f), x);
    return a < 0.625f ? small : big;        /* NaN: big, which is NaN */
}
#endif

#endif
