/* model_cnn.c - the CIFAR-10 model of the clipping paper (spec "The CIFAR-10 model"):
 *   conv 3x3 (C -> 16) -> ReLU -> conv 3x3 (16 -> 16) -> ReLU -> flatten (channel, y, x)
 *   -> Linear(16 (H-4)(W-4) -> 128) -> tanh -> Linear(128 -> classes) -> tanh
 *   -> log-softmax, NLL.  Stride 1, no padding, any C x H x W with H, W >= 5.
 *
 * Convolutions are GEMMs on an im2col lowering, done over blocks of `chunk` samples whose
 * patch matrix stays in the core's L2 cache. The lowering is the "wide-row" one: a 3x3
 * convolution of an H x W plane is computed at every position q = y*W + x of the first
 * Q = (H-2)*W - 2 pixels, i.e. on rows of full width W, of which the last two columns
 * of each row are not output pixels and are dropped. In exchange, row (ci, ky, kx) of
 * the patch matrix is the input plane shifted by ky*W + kx: one contiguous copy of Q
 * values instead of H-2 short ones, and its adjoint (col2im) is one contiguous add. The
 * price is W/(W-2) more multiply-adds in the convolution GEMMs (+6.7% for CIFAR).
 *   forward   cols = im2col(in);  z = W cols  (16 x ns*Q);  out = relu(z + b), valid cols
 *   backward  dz = relu'(.) d_out, 0 in the dropped columns;
 *             [dW | db] += dz [cols; 1]^T  (a row of ones gives the bias gradient);
 *             conv2 only: dcols = W^T dz, d_in = col2im(dcols)  (conv1 needs no d_in)
 * The GEMM output is in (channel, sample, position) order; the bias + ReLU pass that
 * follows moves it to the per-sample (channel, y, x) layout, PyTorch's flatten order and
 * so the fc1 input as it stands. cols is rebuilt in the backward pass rather than kept
 * (K*Q floats per sample: 480 KB for CIFAR's conv2). Every buffer is allocated once, in
 * create; the element-wise passes use 16-byte vectors explicitly (GCC's -O2 does not
 * vectorise loops whose trip count it does not know).
 *
 * Built with -DHC_CNN_PROFILE (tools/bench_cnn.c includes this file), every GEMM is timed
 * by kind and logged with its shape, strides and operands so the bench can replay the
 * very same calls on their own clock; without it the profiling code does not exist. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gemm.h"
#include "model_family.h"

/* ---- optional profiling (tools/bench_cnn.c includes this file with HC_CNN_PROFILE) ---- */

enum { K_CONV, K_DENSE };       /* the two kinds of GEMM the bench reports apart */

#ifdef HC_CNN_PROFILE
#include <time.h>
#define HC_CNN_PROFILE_MAX_CALLS 16384

typedef struct {
    int kind;
    dim_t m, n, k;
    hc_real alpha;
    const hc_real *A;
    inc_t rsa, csa;
    const hc_real *B;
    inc_t rsb, csb;
    hc_real beta;
    hc_real *C;
    inc_t rsc, csc;
} hc_cnn_gemm_call;

static struct {
    double seconds[2], flops[2];        /* per kind, accumulated */
    int logging, n_calls;               /* when logging, calls are appended */
    hc_cnn_gemm_call calls[HC_CNN_PROFILE_MAX_CALLS];
} cnn_profile;

static double prof_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void prof_gemm(int kind, dim_t m, dim_t n, dim_t k, hc_real alpha, const hc_real *A,
                      inc_t rsa, inc_t csa, const hc_real *B, inc_t rsb, inc_t csb, hc_real beta,
                      hc_real *Cm, inc_t rsc, inc_t csc)
{
    if (cnn_profile.logging && cnn_profile.n_calls < HC_CNN_PROFILE_MAX_CALLS)
        cnn_profile.calls[cnn_profile.n_calls++] = (hc_cnn_gemm_call){
            kind, m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, Cm, rsc, csc};
    double t0 = prof_now();
    gemm(m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, Cm, rsc, csc);
    cnn_profile.seconds[kind] += prof_now() - t0;
    cnn_profile.flops[kind] += 2.0 * (double)m * (double)n * (double)k;
}
#define GEMM(kind, ...) prof_gemm(kind, __VA_ARGS__)
#else
#define GEMM(kind, ...) gemm(__VA_ARGS__)
#endif

/* the dense layers are the MLP's; their products count as K_DENSE in the profile */
#define DENSE_GEMM(...) GEMM(K_DENSE, __VA_ARGS__)
#include "model_dense.h"


#define F 16                    /* filters of both convolutions */
#define HIDDEN 128
#ifndef CNN_COLS_BYTES
#define CNN_COLS_BYTES (512 * 1024)   /* target size of one block's patch matrix */
#endif

/* One convolution's geometry (input Cin x H x W, output 16 x Ho x Wo). */
typedef struct {
    int Cin, H, W, Ho, Wo;
    int K;                      /* patch length Cin * 9 */
    int Q;                      /* wide positions per sample: Ho * W - 2 */
    size_t in_size, out_size;   /* Cin*H*W, 16*Ho*Wo */
} conv_geom;

typedef struct {
    conv_geom c1, c2;
    int D;                      /* fc1 input: 16 * Ho2 * Wo2 */
    int classes;
    int chunk;                  /* samples per im2col block */
    hc_real *a1;                /* n x 16 x H1 x W1: relu(conv1) */
    hc_real *a2;                /* n x D: relu(conv2), flattened (channel, y, x) */
    hc_dense2 dense;            /* fc1, fc2 on a2: the MLP's layers (h1 = tanh(fc1)) */
    hc_real *d_a2;              /* n x D: dL/d a2 */
    hc_real *d_a1;              /* chunk x 16 x H1 x W1: dL/d a1 of one block */
    hc_real *cols;              /* chunk * max((K+1) Q): patches (+ ones), or their gradient */
    hc_real *cbuf;              /* 16 x chunk*Q1: GEMM output / dz, (co, s, q) order */
    hc_real *g1, *g2;           /* 16 x (K+1): [dW | db] of conv1, conv2 over the blocks */
} cnn;

enum { CW1, CB1, CW2, CB2, FW1, FB1, FW2, FB2 };

/* ---- element-wise passes on 16-byte vectors ---- */

typedef hc_real vreal __attribute__((vector_size(16)));
#if HC_REAL_IS_DOUBLE
typedef int64_t vmask __attribute__((vector_size(16)));
#else
typedef int32_t vmask __attribute__((vector_size(16)));
#endif
#define VL ((int)(sizeof(vreal) / sizeof(hc_real)))

static inline vreal vload(const hc_real *p) { vreal v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(hc_real *p, vreal v) { memcpy(p, &v, sizeof v); }

/* dst[i] = max(src[i] + b, 0); a NaN passes (v <= 0 is false for it), as in PyTorch */
static void bias_relu(hc_real *restrict dst, const hc_real *restrict src, hc_real b, int n)
{
    const vreal zero = {0}, vb = zero + b;
    int i = 0;
    for (; i + VL <= n; i += VL) {
        vreal v = vload(src + i) + vb;
        vstore(dst + i, (vreal)((vmask)v & ~(v <= zero)));
    }
    for (; i < n; i++) {
        hc_real v = src[i] + b;
        dst[i] = v <= 0 ? 0 : v;
    }
}

/* dst[i] = act[i] > 0 ? d[i] : 0 (the ReLU's backward, from its output) */
static void relu_grad(hc_real *restrict dst, const hc_real *restrict act,
                      const hc_real *restrict d, int n)
{
    const vreal zero = {0};
    int i = 0;
    for (; i + VL <= n; i += VL)
        vstore(dst + i, (vreal)((vmask)vload(d + i) & (vload(act + i) > zero)));
    for (; i < n; i++) dst[i] = act[i] > 0 ? d[i] : 0;
}

static void add_to(hc_real *restrict dst, const hc_real *restrict src, int n)
{
    int i = 0;
    for (; i + VL <= n; i += VL) vstore(dst + i, vload(dst + i) + vload(src + i));
    for (; i < n; i++) dst[i] += src[i];
}

/* ---- lowering ---- */

static void geom(conv_geom *g, int Cin, int H, int W)
{
    g->Cin = Cin, g->H = H, g->W = W, g->Ho = H - 2, g->Wo = W - 2;
    g->K = Cin * 9;
    g->Q = (H - 2) * W - 2;
    g->in_size = (size_t)Cin * H * W;
    g->out_size = (size_t)F * (H - 2) * (W - 2);
}

/* Patch rows of ns samples (sample s at in + s*in_size) into cols, ld = ns*Q: row
 * (ci, ky, kx), column (s, q) = in[s][ci][ky*W + kx + q]. With ones, row K is all 1. */
static void im2col(const conv_geom *g, const hc_real *in, int ns, hc_real *cols, int ones)
{
    const size_t Q = (size_t)g->Q, ld = (size_t)ns * Q;
    for (int ci = 0; ci < g->Cin; ci++)
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                hc_real *row = cols + (size_t)((ci * 3 + ky) * 3 + kx) * ld;
                const hc_real *src = in + (size_t)ci * g->H * g->W + ky * g->W + kx;
                for (int s = 0; s < ns; s++)
                    memcpy(row + s * Q, src + s * g->in_size, Q * sizeof *row);
            }
    if (ones) {
        hc_real *row = cols + (size_t)g->K * ld;
        for (size_t i = 0; i < ld; i++) row[i] = 1;
    }
}

/* The adjoint of im2col: out (ns x in_size) = the patch gradients in cols summed over
 * the pixels each patch covers. Overwrites out. */
static void col2im(const conv_geom *g, const hc_real *cols, int ns, hc_real *out)
{
    const size_t Q = (size_t)g->Q, ld = (size_t)ns * Q;
    memset(out, 0, (size_t)ns * g->in_size * sizeof *out);
    for (int s = 0; s < ns; s++)
        for (int ci = 0; ci < g->Cin; ci++) {
            hc_real *plane = out + s * g->in_size + (size_t)ci * g->H * g->W;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    add_to(plane + ky * g->W + kx,
                           cols + (size_t)((ci * 3 + ky) * 3 + kx) * ld + s * Q, g->Q);
        }
}

/* Convolution + bias + ReLU on a block of ns samples: in -> out (ns x out_size). */
static void conv_forward(cnn *p, const conv_geom *g, const hc_real *in, int ns,
                         const hc_real *w, const hc_real *b, hc_real *out)
{
    const size_t Q = (size_t)g->Q, N = (size_t)ns * Q, P = (size_t)g->Ho * g->Wo;
    im2col(g, in, ns, p->cols, 0);
    GEMM(K_CONV, F, N, g->K, 1, w, g->K, 1, p->cols, N, 1, 0, p->cbuf, N, 1);   /* W cols */
    for (int co = 0; co < F; co++)
        for (int s = 0; s < ns; s++) {
            const hc_real *src = p->cbuf + co * N + s * Q;
            hc_real *dst = out + ((size_t)s * F + co) * P;
            for (int y = 0; y < g->Ho; y++)
                bias_relu(dst + y * g->Wo, src + (size_t)y * g->W, b[co], g->Wo);
        }
}

/* dz in cbuf's (co, s, q) order from the per-sample output gradient d_act (ns x
 * out_size) and the ReLU outputs act; 0 in the dropped columns. */
static void conv_dz(cnn *p, const conv_geom *g, const hc_real *act, const hc_real *d_act,
                    int ns)
{
    const size_t Q = (size_t)g->Q, N = (size_t)ns * Q, P = (size_t)g->Ho * g->Wo;
    for (int co = 0; co < F; co++)
        for (int s = 0; s < ns; s++) {
            hc_real *dst = p->cbuf + co * N + s * Q;
            const size_t off = ((size_t)s * F + co) * P;
            for (int y = 0; y < g->Ho; y++) {
                hc_real *row = dst + (size_t)y * g->W;
                relu_grad(row, act + off + y * g->Wo, d_act + off + y * g->Wo, g->Wo);
                if (y + 1 < g->Ho) row[g->Wo] = row[g->Wo + 1] = 0;   /* dropped columns */
            }
        }
}

/* [dW | db] (16 x (K+1), in gacc) += dz [cols; 1]^T; beta 0 on the first block. */
static void conv_weight_grad(cnn *p, const conv_geom *g, const hc_real *in, int ns,
                             hc_real beta, hc_real *gacc)
{
    const size_t N = (size_t)ns * g->Q;
    im2col(g, in, ns, p->cols, 1);
    GEMM(K_CONV, F, g->K + 1, N, 1, p->cbuf, N, 1, p->cols, 1, N, beta, gacc, g->K + 1, 1);
}

/* gacc (16 x (K+1)) -> the weight (16 x K) and bias (16) gradients */
static void conv_grad_out(const conv_geom *g, const hc_real *gacc, hc_real *gw, hc_real *gb)
{
    for (int co = 0; co < F; co++) {
        memcpy(gw + (size_t)co * g->K, gacc + (size_t)co * (g->K + 1), (size_t)g->K * sizeof *gw);
        gb[co] = gacc[(size_t)co * (g->K + 1) + g->K];
    }
}

/* ---- forward ---- */

/* x -> a1 -> a2 -> h -> m->out (tanh outputs of fc2) */
static void cnn_forward(hc_model *m, const hc_real *param, const hc_real *x, int n)
{
    cnn *p = m->impl;
    const hc_tensor *T = m->tensors;
    for (int s0 = 0; s0 < n; s0 += p->chunk) {
        int ns = n - s0 < p->chunk ? n - s0 : p->chunk;
        hc_real *a1 = p->a1 + s0 * p->c1.out_size;
        conv_forward(p, &p->c1, x + s0 * p->c1.in_size, ns, param + T[CW1].offset,
                     param + T[CB1].offset, a1);
        conv_forward(p, &p->c2, a1, ns, param + T[CW2].offset, param + T[CB2].offset,
                     p->a2 + (size_t)s0 * p->D);
    }
    dense2_forward(&p->dense, m, param, p->a2, n);
}

/* ---- backward ---- */

/* m->d_out -> grad, from the activations of the forward pass */
static void cnn_backward(hc_model *m, const hc_real *param, const hc_real *x, int n,
                         hc_real *grad)
{
    cnn *p = m->impl;
    const int D = p->D;
    const hc_tensor *T = m->tensors;
    const hc_real *w2 = param + T[CW2].offset, *w3 = param + T[FW1].offset;
    hc_real *g_cw1 = grad + T[CW1].offset, *g_cb1 = grad + T[CB1].offset;
    hc_real *g_cw2 = grad + T[CW2].offset, *g_cb2 = grad + T[CB2].offset;

    /* the dense layers, the MLP's, then the gradient of their input */
    dense2_backward(&p->dense, m, param, p->a2, n, grad);
    GEMM(K_DENSE, n, D, HIDDEN, 1, p->dense.d_h1, HIDDEN, 1, w3, D, 1, 0, p->d_a2, D, 1); /* dz3 W3 */

    /* the convolutions, block by block */
    const conv_geom *c1 = &p->c1, *c2 = &p->c2;
    for (int s0 = 0; s0 < n; s0 += p->chunk) {
        const int ns = n - s0 < p->chunk ? n - s0 : p->chunk;
        const hc_real beta = s0 == 0 ? 0 : 1;
        const size_t N2 = (size_t)ns * c2->Q;
        const hc_real *a1 = p->a1 + s0 * c1->out_size;
        /* conv2: weights and bias, then the gradient of its input a1 */
        conv_dz(p, c2, p->a2 + (size_t)s0 * D, p->d_a2 + (size_t)s0 * D, ns);
        conv_weight_grad(p, c2, a1, ns, beta, p->g2);
        /* dcols = W2^T dz, into cols (its patches are no longer needed) */
        GEMM(K_CONV, c2->K, N2, F, 1, w2, 1, c2->K, p->cbuf, N2, 1, 0, p->cols, N2, 1);
        col2im(c2, p->cols, ns, p->d_a1);
        /* conv1: weights and bias */
        conv_dz(p, c1, a1, p->d_a1, ns);
        conv_weight_grad(p, c1, x + s0 * c1->in_size, ns, beta, p->g1);
        model_slice_ready(m, 0, 0);     /* the dense layers' allreduces move on */
    }
    conv_grad_out(c2, p->g2, g_cw2, g_cb2);
    model_tensor_ready(m, CW2);
    model_tensor_ready(m, CB2);
    conv_grad_out(c1, p->g1, g_cw1, g_cb1);
    model_tensor_ready(m, CW1);
    model_tensor_ready(m, CB1);
}

/* ---- the model interface ---- */

static void cnn_destroy(hc_model *m)
{
    cnn *p = m->impl;
    if (!p) return;
    free(p->a1); free(p->a2); free(p->dense.h1); free(m->out); free(m->d_out); free(p->dense.d_h1);
    free(p->d_a2); free(p->d_a1); free(p->cols); free(p->cbuf); free(p->g1); free(p->g2);
    free(p);
    m->impl = NULL;
}

static const hc_model_ops cnn_ops = {
    .train_batch = model_train_batch, .eval_batch = model_eval_batch,
    .forward = cnn_forward, .backward = cnn_backward, .destroy = cnn_destroy};

/* Sizes are checked so that every index fits: images of at most 2^20 pixels, at most 64
 * channels (a patch matrix row is below 2^31 elements for any block). */
int model_cnn_create(hc_model *m, int channels, int height, int width, int n_classes,
                     int max_batch, hc_err *e)
{
    memset(m, 0, sizeof *m);
    if (n_classes < 2 || n_classes > 64 || channels < 1 || channels > 64 || height < 5 ||
        width < 5 || height > 4096 || width > 4096 || (long)height * width > (1L << 20) ||
        max_batch < 1)
        return hc_fail(e, HC_ERR_USAGE, "cnn: unsupported sizes (input %dx%dx%d, classes %d; "
                       "images must be at least 5x5)", channels, height, width, n_classes);
    cnn *p = calloc(1, sizeof *p);
    if (!p) return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the cnn");
    snprintf(m->name, sizeof m->name, "cnn");
    m->ops = &cnn_ops;
    m->impl = p;
    geom(&p->c1, channels, height, width);
    geom(&p->c2, F, height - 2, width - 2);
    p->D = (int)p->c2.out_size;
    p->classes = n_classes;
    m->input_size = channels * height * width;
    m->n_classes = n_classes;
    m->max_batch = max_batch;

    const int cw1[4] = {F, channels, 3, 3}, cw2[4] = {F, F, 3, 3}, cb[1] = {F};
    const int fw1[2] = {HIDDEN, p->D}, fb1[1] = {HIDDEN};
    const int fw2[2] = {n_classes, HIDDEN}, fb2[1] = {n_classes};
    /* in the order of the enum: CW1, CB1, ..., FB2 */
    model_add_tensor(m, "conv1", "weight", 4, cw1, p->c1.K);
    model_add_tensor(m, "conv1", "bias", 1, cb, p->c1.K);
    model_add_tensor(m, "conv2", "weight", 4, cw2, p->c2.K);
    model_add_tensor(m, "conv2", "bias", 1, cb, p->c2.K);
    model_add_tensor(m, "fc1", "weight", 2, fw1, p->D);
    model_add_tensor(m, "fc1", "bias", 1, fb1, p->D);
    model_add_tensor(m, "fc2", "weight", 2, fw2, HIDDEN);
    model_add_tensor(m, "fc2", "bias", 1, fb2, HIDDEN);

    size_t cols1 = (size_t)(p->c1.K + 1) * p->c1.Q, cols2 = (size_t)(p->c2.K + 1) * p->c2.Q;
    size_t cols_per_sample = cols1 > cols2 ? cols1 : cols2;
    size_t chunk = CNN_COLS_BYTES / (cols_per_sample * sizeof(hc_real));
    if (chunk < 1) chunk = 1;
    if (chunk > (size_t)max_batch) chunk = (size_t)max_batch;
    p->chunk = (int)chunk;

    size_t nb = (size_t)max_batch;
    p->a1 = malloc(nb * p->c1.out_size * sizeof *p->a1);
    p->a2 = malloc(nb * p->D * sizeof *p->a2);
    p->d_a2 = malloc(nb * p->D * sizeof *p->d_a2);
    p->dense = (hc_dense2){.in = p->D, .hidden = HIDDEN, .classes = n_classes, .w1 = FW1,
                           .b1 = FB1, .w2 = FW2, .b2 = FB2, .libm_tanh = 1};
    p->dense.h1 = malloc(nb * HIDDEN * sizeof *p->dense.h1);
    p->dense.d_h1 = malloc(nb * HIDDEN * sizeof *p->dense.d_h1);
    m->out = malloc(nb * n_classes * sizeof *m->out);
    m->d_out = malloc(nb * n_classes * sizeof *m->d_out);
    p->d_a1 = malloc(chunk * p->c2.in_size * sizeof *p->d_a1);
    p->cols = malloc(chunk * cols_per_sample * sizeof *p->cols);
    p->cbuf = malloc(chunk * F * (size_t)p->c1.Q * sizeof *p->cbuf);   /* Q1 > Q2 */
    p->g1 = malloc((size_t)F * (p->c1.K + 1) * sizeof *p->g1);
    p->g2 = malloc((size_t)F * (p->c2.K + 1) * sizeof *p->g2);
    if (!p->a1 || !p->a2 || !p->d_a2 || !p->dense.h1 || !p->dense.d_h1 || !m->out || !m->d_out || !p->d_a1 ||
        !p->cols || !p->cbuf || !p->g1 || !p->g2) {
        model_destroy(m);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the cnn workspace (batch %d of "
                       "%dx%dx%d)", max_batch, channels, height, width);
    }
    return 0;
}

const hc_model_desc model_cnn = {
    .name = "cnn", .about = "2 x (conv 3x3, 16 channels -> ReLU), then the mlp's layers",
    .marker_layer = "conv1", .create = model_cnn_create};
