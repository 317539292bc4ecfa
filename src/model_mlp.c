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
    hc_real *out;    /* n x classes: tanh(h1 W2^T + b2), then log-softmax in place */
    hc_real *d_out;  /* n x classes: dL/d(pre-activation of layer 2) */
    hc_real *d_h1;   /* n x hidden: dL/d(pre-activation of layer 1) */
} mlp;

enum { W1, B1, W2, B2 };

static void set_tensor(hc_model *m, int t, const char *layer, const char *param, int rank,
                       int d0, int d1, int fan_in, size_t *offset)
{
    hc_tensor *T = &m->tensors[t];
    snprintf(T->layer, sizeof T->layer, "%s", layer);
    snprintf(T->param, sizeof T->param, "%s", param);
    T->rank = rank;
    T->dims[0] = d0;
    T->dims[1] = d1;
    T->fan_in = fan_in;
    T->offset = *offset;
    T->count = (size_t)d0 * (rank == 2 ? (size_t)d1 : 1);
    *offset += T->count;
}

/* rows[i][j] = tanh(rows[i][j] + b[j]) over n rows of `cols`: one flat, branch-free
 * pass that the compiler vectorises (hc_tanh_vec, not libm's one-call-per-element). */
static void bias_tanh(hc_real *restrict rows, const hc_real *restrict b, int n, int cols)
{
    for (int i = 0; i < n; i++) {
        hc_real *restrict r = rows + (size_t)i * cols;
        for (int j = 0; j < cols; j++) r[j] = hc_tanh_vec(r[j] + b[j]);
    }
}

/* x -> h1 -> out (tanh outputs of layer 2, not yet log-softmaxed) */
static void forward(mlp *p, const hc_real *param, const hc_tensor *T, const hc_real *x, int n)
{
    const int in = p->in, H = p->hidden, C = p->classes;
    const hc_real *w1 = param + T[W1].offset, *b1 = param + T[B1].offset;
    const hc_real *w2 = param + T[W2].offset, *b2 = param + T[B2].offset;

    gemm(n, H, in, 1, x, in, 1, w1, 1, in, 0, p->h1, H, 1);          /* x W1^T */
    bias_tanh(p->h1, b1, n, H);
    gemm(n, C, H, 1, p->h1, H, 1, w2, 1, H, 0, p->out, C, 1);        /* h1 W2^T */
    bias_tanh(p->out, b2, n, C);
}

static double mlp_train_batch(hc_model *m, const hc_real *param, const hc_real *x, const int *y,
                              int n, hc_real scale, hc_real *grad)
{
    mlp *p = m->impl;
    const int in = p->in, H = p->hidden, C = p->classes;
    const hc_tensor *T = m->tensors;

    if (n == 0) {                       /* an empty shard contributes nothing */
        memset(grad, 0, m->n_params * sizeof *grad);
        return 0.0;
    }
    forward(p, param, T, x, n);
    double loss = head_loss_grad(p->out, y, n, C, scale, p->d_out);
    hc_real *g_w1 = grad + T[W1].offset, *restrict g_b1 = grad + T[B1].offset;
    hc_real *g_w2 = grad + T[W2].offset, *restrict g_b2 = grad + T[B2].offset;
    const hc_real *w2 = param + T[W2].offset;

    gemm(C, H, n, 1, p->d_out, 1, C, p->h1, H, 1, 0, g_w2, H, 1);     /* dz2^T h1 */
    gemm(n, H, C, 1, p->d_out, C, 1, w2, H, 1, 0, p->d_h1, H, 1);     /* dz2 W2 */
    /* Bias gradients are column sums; accumulating whole rows into g_b keeps the
     * inner loops long and contiguous (vectorised), and the order of the sums fixed. */
    const hc_real *restrict d_out = p->d_out, *restrict h1 = p->h1;
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
    gemm(H, in, n, 1, p->d_h1, 1, H, x, in, 1, 0, g_w1, in, 1);       /* dz1^T x */
    return loss;
}

static void mlp_eval_batch(hc_model *m, const hc_real *param, const hc_real *x, const int *y,
                           int n, double *loss_sum, double *correct)
{
    mlp *p = m->impl;
    const int C = p->classes;
    if (n == 0) return;
    forward(p, param, m->tensors, x, n);
    head_score(p->out, y, n, C, loss_sum, correct);
}

static void mlp_destroy(hc_model *m)
{
    mlp *p = m->impl;
    if (!p) return;
    free(p->h1); free(p->out); free(p->d_out); free(p->d_h1);
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

static const hc_model_ops mlp_ops = {mlp_train_batch, mlp_eval_batch, mlp_destroy};

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
    size_t off = 0;
    m->n_tensors = 4;
    set_tensor(m, W1, "fc1", "weight", 2, hidden, input_size, input_size, &off);
    set_tensor(m, B1, "fc1", "bias", 1, hidden, 0, input_size, &off);
    set_tensor(m, W2, "fc2", "weight", 2, n_classes, hidden, hidden, &off);
    set_tensor(m, B2, "fc2", "bias", 1, n_classes, 0, hidden, &off);
    m->n_params = off;
    size_t nb = (size_t)max_batch;
    p->h1 = alloc_aligned(nb * hidden);
    p->d_h1 = alloc_aligned(nb * hidden);
    p->out = alloc_aligned(nb * n_classes);
    p->d_out = alloc_aligned(nb * n_classes);
    if (!p->h1 || !p->d_h1 || !p->out || !p->d_out) {
        model_destroy(m);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the mlp workspace");
    }
    return 0;
}
