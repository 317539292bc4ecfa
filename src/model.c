/* model.c - what every model shares: creation by name, initialisation, argmax. */
#include "model.h"
#include <math.h>
#include <string.h>
#include "rng.h"

int model_create(hc_model *m, const char *name, int channels, int height, int width,
                 int n_classes, int max_batch, hc_err *e)
{
    if (strcmp(name, "mlp") == 0)
        return model_mlp_create(m, channels * height * width, 128, n_classes, max_batch, e);
    if (strcmp(name, "cnn") == 0)
        return model_cnn_create(m, channels, height, width, n_classes, max_batch, e);
    return hc_fail(e, HC_ERR_USAGE, "unknown --model '%s' (expected mlp or cnn)", name);
}

void model_destroy(hc_model *m)
{
    if (m->ops) m->ops->destroy(m);
    memset(m, 0, sizeof *m);
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

int argmax_nan_first(const hc_real *v, int n)
{
    int best = 0;
    for (int j = 0; j < n; j++) {
        if (isnan(v[j])) return j;             /* the first NaN is the largest */
        if (v[j] > v[best]) best = j;
    }
    return best;
}
