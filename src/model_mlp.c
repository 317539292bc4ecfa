/* model_mlp.c - the reference MNIST model of the spec:
 *   Linear(in -> hidden) -> tanh -> Linear(hidden -> classes) -> tanh -> log-softmax, NLL.
 * Row-major batches; the four GEMMs of a training step go through BLIS (the input
 * layer needs no input gradient). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gemm.h"
#include "model.h"

typedef struct {
    int in, hidden, classes;
    hc_real *h1;     /* n x hidden: tanh(x W1^T + b1) */
    hc_real *d_h1;   /* n x hidden: dL/d(pre-activation of layer 1) */
} mlp;

enum { W1, B1, W2, B2 };

/* rows[i][j] = tanh(rows[i][j] + b[j]) over n rows of `cols`: one flat, branch-free
 * pass that the compiler vectorises (hc_tanh_vec, not libm's one-call-per-element). */
static void bias_tanh(hc_real *restrict rows, const hc_real *restrict b, int n, int cols)
{
    for (int i = 0; i < n; i++) {
        hc_real *restrict r = rows + (size_t)i * cols;
        for (int j = 0; j < cols; j++) r[j] = hc_tanh_vec(r[j] + b[j]);
    }
}

/* x -> h1 -> m->out (tanh outputs of layer 2) */
static void mlp_forward(hc_model *m, const hc_real *param, const hc_real *x, int n)
{
    mlp *p = m->impl;
    const int in = p->in, H = p->hidden, C = p->classes;
    const hc_tensor *T = m->tensors;
    const hc_real *w1 = param + T[W1].offset, *b1 = param + T[B1].offset;
    const hc_real *w2 = param + T[W2].offset, *b2 = param + T[B2].offset;

    gemm(n, H, in, 1, x, in, 1, w1, 1, in, 0, p->h1, H, 1);          /* x W1^T */
    bias_tanh(p->h1, b1, n, H);
    gemm(n, C, H, 1, p->h1, H, 1, w2, 1, H, 0, m->out, C, 1);        /* h1 W2^T */
    bias_tanh(m->out, b2, n, C);
}

/* m->d_out -> grad, from the activations of the forward pass */
static void mlp_backward(hc_model *m, const hc_real *param, const hc_real *x, int n,
                         hc_real *grad)
{
    mlp *p = m->impl;
    const int in = p->in, H = p->hidden, C = p->classes;
    const hc_tensor *T = m->tensors;
    hc_real *g_w1 = grad + T[W1].offset, *restrict g_b1 = grad + T[B1].offset;
    hc_real *g_w2 = grad + T[W2].offset, *restrict g_b2 = grad + T[B2].offset;
    const hc_real *w2 = param + T[W2].offset;

    gemm(C, H, n, 1, m->d_out, 1, C, p->h1, H, 1, 0, g_w2, H, 1);     /* dz2^T h1 */
    model_tensor_ready(m, W2);
    gemm(n, H, C, 1, m->d_out, C, 1, w2, H, 1, 0, p->d_h1, H, 1);     /* dz2 W2 */
    /* Bias gradients are column sums; accumulating whole rows into g_b keeps the
     * inner loops long and contiguous (vectorised), and the order of the sums fixed. */
    const hc_real *restrict d_out = m->d_out, *restrict h1 = p->h1;
    hc_real *restrict d_h1 = p->d_h1;
    for (int j = 0; j < C; j++) g_b2[j] = 0;
    for (int j = 0; j < H; j++) g_b1[j] = 0;
    for (int i = 0; i < n; i++) {
        const hc_real *restrict di = d_out + (size_t)i * C;
        for (int j = 0; j < C; j++) g_b2[j] += di[j];
    }
    for (int i = 0; i < n; i++) {
        const hc_real *restrict hi = h1 + (size_t)i * H;
        hc_real *restrict dh = d_h1 + (size_t)i * H;
        for (int j = 0; j < H; j++) {
            hc_real d = dh[j] * (1 - hi[j] * hi[j]);
            dh[j] = d;
            g_b1[j] += d;
        }
    }
    model_tensor_ready(m, B2);
    model_tensor_ready(m, B1);
    /* dz1^T x, in slices of rows from the last: each slice's allreduce starts while the
     * next is computed (an element's sum over the batch is the same in any slicing) */
    const int rows = model_slice_rows(m, H, in);
    for (int r1 = H, r0; r1 > 0; r1 = r0) {
        r0 = r1 - rows > 0 ? r1 - rows : 0;
        gemm(r1 - r0, in, n, 1, p->d_h1 + r0, 1, H, x, in, 1, 0, g_w1 + (size_t)r0 * in, in, 1);
        model_slice_ready(m, T[W1].offset + (size_t)r0 * in, (size_t)(r1 - r0) * in);
    }
}

static void mlp_destroy(hc_model *m)
{
    mlp *p = m->impl;
    if (!p) return;
    free(p->h1); free(m->out); free(m->d_out); free(p->d_h1);
    free(p);
    m->impl = NULL;
}

/* Cache-line aligned, so that the vectorised passes never split a load across two
 * lines (malloc gives 16-byte alignment). NULL when out of memory; free() frees it. */
static hc_real *alloc_aligned(size_t n)
{
    void *p;
    return posix_memalign(&p, 64, (n ? n : 1) * sizeof(hc_real)) ? NULL : p;
}

static const hc_model_ops mlp_ops = {
    .train_batch = model_train_batch, .eval_batch = model_eval_batch,
    .forward = mlp_forward, .backward = mlp_backward, .destroy = mlp_destroy};

int model_mlp_create(hc_model *m, int input_size, int hidden, int n_classes, int max_batch,
                     hc_err *e)
{
    memset(m, 0, sizeof *m);
    if (n_classes < 2 || n_classes > 64 || input_size < 1 || hidden < 1 || max_batch < 1)
        return hc_fail(e, HC_ERR_USAGE, "mlp: unsupported sizes (in %d, hidden %d, classes %d)",
                       input_size, hidden, n_classes);
    mlp *p = calloc(1, sizeof *p);
    if (!p) return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the mlp");
    snprintf(m->name, sizeof m->name, "mlp");
    m->ops = &mlp_ops;
    m->impl = p;
    m->input_size = p->in = input_size;
    p->hidden = hidden;
    m->n_classes = p->classes = n_classes;
    m->max_batch = max_batch;
    /* in the order of the enum: W1, B1, W2, B2 */
    model_add_tensor(m, "fc1", "weight", 2, (const int[]){hidden, input_size}, input_size);
    model_add_tensor(m, "fc1", "bias", 1, (const int[]){hidden}, input_size);
    model_add_tensor(m, "fc2", "weight", 2, (const int[]){n_classes, hidden}, hidden);
    model_add_tensor(m, "fc2", "bias", 1, (const int[]){n_classes}, hidden);
    size_t nb = (size_t)max_batch;
    p->h1 = alloc_aligned(nb * hidden);
    p->d_h1 = alloc_aligned(nb * hidden);
    m->out = alloc_aligned(nb * n_classes);
    m->d_out = alloc_aligned(nb * n_classes);
    if (!p->h1 || !p->d_h1 || !m->out || !m->d_out) {
        model_destroy(m);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the mlp workspace");
    }
    return 0;
}

/* The spec's MLP on flattened images: 128 hidden units. */
static int mlp_create_for_images(hc_model *m, int channels, int height, int width,
                                 int n_classes, int max_batch, hc_err *e)
{
    return model_mlp_create(m, channels * height * width, 128, n_classes, max_batch, e);
}

const hc_model_desc model_mlp = {
    .name = "mlp", .about = "Linear -> tanh -> Linear -> tanh, 128 hidden units",
    .marker_layer = NULL, .create = mlp_create_for_images};
