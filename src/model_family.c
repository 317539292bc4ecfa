/* model_family.c - what the models share with each other (model_family.h): the tensor
 * table they build, the announcements of finished gradients, argmax, and the classifier
 * head both end with. Kept apart from model.c, which holds the table of models and
 * dispatches to them, so that no model calls back into its dispatcher. */
#include "model_family.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

void model_destroy(hc_model *m)
{
    if (m->ops) m->ops->destroy(m);
    memset(m, 0, sizeof *m);
}

void model_add_tensor(hc_model *m, const char *layer, const char *param, int rank,
                      const int *dims, int fan_in)
{
    hc_tensor *T = &m->tensors[m->n_tensors++];
    snprintf(T->layer, sizeof T->layer, "%s", layer);
    snprintf(T->param, sizeof T->param, "%s", param);
    T->rank = rank;
    T->count = 1;
    for (int i = 0; i < rank; i++) {
        T->dims[i] = dims[i];
        T->count *= (size_t)dims[i];
    }
    T->fan_in = fan_in;
    T->offset = m->n_params;
    m->n_params += T->count;
}

void model_slice_ready(const hc_model *m, size_t offset, size_t count)
{
    if (m->grad_ready) m->grad_ready(m->grad_ready_ctx, offset, count);
}

void model_tensor_ready(const hc_model *m, int t)
{
    model_slice_ready(m, m->tensors[t].offset, m->tensors[t].count);
}

int model_slice_rows(const hc_model *m, int rows, int cols)
{
    if (m->grad_slice == 0 || (size_t)rows * cols <= m->grad_slice) return rows;
    size_t r = m->grad_slice / (size_t)cols;
    return r < 1 ? 1 : (int)r;
}

/* Index of the largest value; a NaN is the largest, the first NaN wins (PyTorch). */
static int argmax_nan_first(const hc_real *v, int n)
{
    int best = 0;
    for (int j = 0; j < n; j++) {
        if (isnan(v[j])) return j;             /* the first NaN is the largest */
        if (v[j] > v[best]) best = j;
    }
    return best;
}

/* ---- the classifier head both models end with: tanh -> log-softmax -> NLL ---- */

/* The largest value of a row; a NaN only gets in when it comes first, and then every
 * difference from it, and so the row's loss, is NaN (the loss then says "diverged"). */
static hc_real row_max(const hc_real *row, int C)
{
    hc_real mx = row[0];
    for (int j = 1; j < C; j++) mx = row[j] > mx ? row[j] : mx;
    return mx;
}

/* Replaces a row of tanh outputs by its log-softmax; returns the row's lse. */
static hc_real log_softmax_row(hc_real *row, int C)
{
    hc_real mx = row_max(row, C), sum = 0;
    for (int j = 0; j < C; j++) sum += hc_exp(row[j] - mx);
    hc_real lse = mx + hc_log(sum);
    for (int j = 0; j < C; j++) row[j] -= lse;
    return lse;
}

/* The loss of n rows of tanh outputs t (n x C) and its gradient at the last layer's
 * pre-activation: d = scale (softmax(t) - onehot(y)) (1 - t^2). Returns the sum of the
 * per-sample losses. The exponentials go through one flat vectorised pass over d
 * (used as scratch), since a row of 10 classes is too short to vectorise by itself. */
double head_loss_grad(const hc_real *restrict t, const int *y, int n, int C, hc_real scale,
                           hc_real *restrict d)
{
    double loss = 0.0;
    size_t nC = (size_t)n * C;
    for (int i = 0; i < n; i++) {           /* d = t - the row's max */
        const hc_real *ti = t + (size_t)i * C;
        hc_real mx = row_max(ti, C);
        for (int j = 0; j < C; j++) d[(size_t)i * C + j] = ti[j] - mx;
    }
    for (size_t k = 0; k < nC; k++) d[k] = hc_exp_vec(d[k]);
    for (int i = 0; i < n; i++) {
        const hc_real *ti = t + (size_t)i * C;
        hc_real *di = d + (size_t)i * C;
        hc_real sum = 0;
        for (int j = 0; j < C; j++) sum += di[j];
        hc_real lse = row_max(ti, C) + hc_log(sum), inv_sum = 1 / sum;
        loss -= (double)(ti[y[i]] - lse);
        for (int j = 0; j < C; j++)
            di[j] = scale * (di[j] * inv_sum - (hc_real)(j == y[i])) * (1 - ti[j] * ti[j]);
    }
    return loss;
}

void head_score(hc_real *out, const int *y, int n, int C, double *loss_sum, double *correct)
{
    for (int i = 0; i < n; i++) {
        hc_real *o = out + (size_t)i * C;
        log_softmax_row(o, C);
        *loss_sum -= (double)o[y[i]];
        *correct += argmax_nan_first(o, C) == y[i];
    }
}
