/* model_mlp.c - the reference MNIST model of the spec:
 *   Linear(in -> hidden) -> tanh -> Linear(hidden -> classes) -> tanh -> log-softmax, NLL.
 * Row-major batches; the four GEMMs of a training step go through BLIS (the input
 * layer needs no input gradient). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model_family.h"
#include "model_dense.h"

enum { W1, B1, W2, B2 };

static void mlp_forward(hc_model *m, const hc_real *param, const hc_real *x, int n)
{
    dense2_forward(m->impl, m, param, x, n);
}

/* the input layer needs no input gradient: the dense layers' backward is all of it */
static void mlp_backward(hc_model *m, const hc_real *param, const hc_real *x, int n,
                         hc_real *grad)
{
    dense2_backward(m->impl, m, param, x, n, grad);
}

static void mlp_destroy(hc_model *m)
{
    hc_dense2 *p = m->impl;
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
    hc_dense2 *p = calloc(1, sizeof *p);
    if (!p) return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the mlp");
    snprintf(m->name, sizeof m->name, "mlp");
    m->ops = &mlp_ops;
    m->impl = p;
    *p = (hc_dense2){.in = input_size, .hidden = hidden, .classes = n_classes,
                     .w1 = W1, .b1 = B1, .w2 = W2, .b2 = B2, .libm_tanh = 0};
    m->input_size = input_size;
    m->n_classes = n_classes;
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
