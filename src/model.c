/* model.c - what every model shares: creation by name, the tensor table, initialisation,
 * argmax, and the classifier head with the training and evaluation passes around it. */
#include "model_family.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rng.h"

HC_TABLE_DEFINE(hc_model_desc, models, HC_MODEL_LIST, MODEL_COUNT);

const hc_model_desc *model_desc(hc_model_kind kind) { return models[kind]; }

void model_names(char *out, size_t size, const char *sep)
{
    size_t len = 0;
    out[0] = '\0';
    for (int k = 0; k < MODEL_COUNT && len < size; k++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", k ? sep : "", models[k]->name);
}

void model_help(FILE *f, const char *indent)
{
    for (int k = 0; k < MODEL_COUNT; k++)
        fprintf(f, "%s%s  %s\n", indent, models[k]->name, models[k]->about);
}

const hc_model_desc *model_find(const char *name, hc_err *e)
{
    for (int k = 0; k < MODEL_COUNT; k++)
        if (!strcmp(name, models[k]->name)) return models[k];
    char names[128];
    model_names(names, sizeof names, " or ");
    hc_fail(e, HC_ERR_USAGE, "unknown --model '%s' (expected %s)", name, names);
    return NULL;
}

int model_create(hc_model *m, const char *name, int channels, int height, int width,
                 int n_classes, int max_batch, hc_err *e)
{
    const hc_model_desc *d = model_find(name, e);
    if (!d) return e->code;
    return d->create(m, channels, height, width, n_classes, max_batch, e);
}

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

/* Each tensor draws from its own stream, so adding a layer never shifts the others. */
void model_init_params(const hc_model *m, hc_real *param, uint64_t seed)
{
    for (int t = 0; t < m->n_tensors; t++) {
        const hc_tensor *T = &m->tensors[t];
        double bound = 1.0 / sqrt((double)T->fan_in);
        hc_rng r;
        rng_seed(&r, seed, 0x100u + (uint64_t)t);
        for (size_t i = 0; i < T->count; i++)
            param[T->offset + i] = (hc_real)((2.0 * rng_uniform(&r) - 1.0) * bound);
    }
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

int argmax_nan_first(const hc_real *v, int n)
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

/* ---- the passes: the model's own layers around the head ---- */

double model_train_batch(hc_model *m, const hc_real *param, const hc_real *x, const int *y,
                         int n, hc_real scale, hc_real *grad)
{
    if (n == 0) {                       /* an empty shard contributes nothing */
        memset(grad, 0, m->n_params * sizeof *grad);
        model_slice_ready(m, 0, m->n_params);
        return 0.0;
    }
    m->ops->forward(m, param, x, n);
    double loss = head_loss_grad(m->out, y, n, m->n_classes, scale, m->d_out);
    m->ops->backward(m, param, x, n, grad);
    return loss;
}

void model_eval_batch(hc_model *m, const hc_real *param, const hc_real *x, const int *y, int n,
                      double *loss_sum, double *correct)
{
    if (n == 0) return;
    m->ops->forward(m, param, x, n);
    head_score(m->out, y, n, m->n_classes, loss_sum, correct);
}
