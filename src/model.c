/* model.c - the table of models: creation by name, initialisation, and the training and
 * evaluation passes (the model's layers around the shared head, model_family.c). */
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
