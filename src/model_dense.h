/* model_dense.h - the two dense layers both models end with (private to src/model_*.c):
 *   x (n x in) -> Linear(in -> hidden) -> tanh -> h1 -> Linear(hidden -> classes) -> tanh
 *   -> m->out,
 * and their backward from m->d_out. Static functions, so that each model's file can route
 * the products through its own DENSE_GEMM (the CNN's profiling bench counts them). */
#ifndef HC_MODEL_DENSE_H
#define HC_MODEL_DENSE_H
#include <math.h>
#include "gemm.h"
#include "model_family.h"

#ifndef DENSE_GEMM
#define DENSE_GEMM gemm
#endif

typedef struct {
    int in, hidden, classes;
    int w1, b1, w2, b2;     /* the layers' tensors in the model's table */
    /* 1: libm's tanh, element by element (the CNN's arithmetic as it has always been, so
     * its results keep their bits); 0: hc_tanh_vec, one vectorised pass (the MLP's). */
    int libm_tanh;
    hc_real *h1;            /* n x hidden: tanh(x W1^T + b1) */
    hc_real *d_h1;          /* n x hidden: dL/d(pre-activation of layer 1) */
} hc_dense2;

/* rows[i][j] = tanh(rows[i][j] + b[j]) over n rows of `cols`. */
static void dense_bias_tanh(hc_real *restrict rows, const hc_real *restrict b, int n, int cols,
                            int libm_tanh)
{
    for (int i = 0; i < n; i++) {
        hc_real *restrict r = rows + (size_t)i * cols;
        if (libm_tanh)
            for (int j = 0; j < cols; j++) r[j] = hc_tanh(r[j] + b[j]);
        else
            for (int j = 0; j < cols; j++) r[j] = hc_tanh_vec(r[j] + b[j]);
    }
}

/* x -> d->h1 -> m->out (tanh outputs of layer 2) */
static void dense2_forward(const hc_dense2 *d, hc_model *m, const hc_real *param,
                           const hc_real *x, int n)
{
    const int in = d->in, H = d->hidden, C = d->classes;
    const hc_tensor *T = m->tensors;
    const hc_real *w1 = param + T[d->w1].offset, *b1 = param + T[d->b1].offset;
    const hc_real *w2 = param + T[d->w2].offset, *b2 = param + T[d->b2].offset;

    DENSE_GEMM(n, H, in, 1, x, in, 1, w1, 1, in, 0, d->h1, H, 1);        /* x W1^T */
    dense_bias_tanh(d->h1, b1, n, H, d->libm_tanh);
    DENSE_GEMM(n, C, H, 1, d->h1, H, 1, w2, 1, H, 0, m->out, C, 1);      /* h1 W2^T */
    dense_bias_tanh(m->out, b2, n, C, d->libm_tanh);
}

/* m->d_out -> the four tensors' gradients in grad, and d->d_h1, right after the forward
 * on the same x; the gradient of x itself is the caller's (d->d_h1 W1). */
static void dense2_backward(const hc_dense2 *d, hc_model *m, const hc_real *param,
                            const hc_real *x, int n, hc_real *grad)
{
    const int in = d->in, H = d->hidden, C = d->classes;
    const hc_tensor *T = m->tensors;
    hc_real *g_w1 = grad + T[d->w1].offset, *restrict g_b1 = grad + T[d->b1].offset;
    hc_real *g_w2 = grad + T[d->w2].offset, *restrict g_b2 = grad + T[d->b2].offset;
    const hc_real *w2 = param + T[d->w2].offset;

    DENSE_GEMM(C, H, n, 1, m->d_out, 1, C, d->h1, H, 1, 0, g_w2, H, 1);   /* dz2^T h1 */
    model_tensor_ready(m, d->w2);
    DENSE_GEMM(n, H, C, 1, m->d_out, C, 1, w2, H, 1, 0, d->d_h1, H, 1);   /* dz2 W2 */
    /* Bias gradients are column sums; accumulating whole rows into g_b keeps the
     * inner loops long and contiguous (vectorised), and the order of the sums fixed. */
    const hc_real *restrict d_out = m->d_out, *restrict h1 = d->h1;
    hc_real *restrict d_h1 = d->d_h1;
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
            hc_real g = dh[j] * (1 - hi[j] * hi[j]);
            dh[j] = g;
            g_b1[j] += g;
        }
    }
    model_tensor_ready(m, d->b2);
    model_tensor_ready(m, d->b1);
    /* dz1^T x, in slices of rows from the last: each slice's allreduce starts while the
     * next is computed (an element's sum over the batch is the same in any slicing) */
    const int rows = model_slice_rows(m, H, in);
    for (int r1 = H, r0; r1 > 0; r1 = r0) {
        r0 = r1 - rows > 0 ? r1 - rows : 0;
        DENSE_GEMM(r1 - r0, in, n, 1, d->d_h1 + r0, 1, H, x, in, 1, 0,
                   g_w1 + (size_t)r0 * in, in, 1);
        model_slice_ready(m, T[d->w1].offset + (size_t)r0 * in, (size_t)(r1 - r0) * in);
    }
}

#endif
