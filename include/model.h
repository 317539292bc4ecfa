/* model.h - a classifier behind one interface: the MLP and the CNN.
 *
 * A model owns only its workspace (activations for up to max_batch samples); the
 * parameters live in one contiguous buffer owned by the caller, so the optimizer
 * sees one vector and the gradients go straight into the allreduce buffer. The
 * tensors table maps that vector to named HDF5 datasets (/model/<layer>/<param>). */
#ifndef HC_MODEL_H
#define HC_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "hc_real.h"
#include "model_list.h"
#include "table.h"

#define HC_MAX_TENSORS 8

typedef struct {
    char layer[16];         /* "fc1" */
    char param[8];          /* "weight" | "bias" */
    int rank;               /* 1, 2 or 4 */
    int dims[4];            /* (out, in) for linear weights, (out) for biases */
    int fan_in;             /* init bound is 1/sqrt(fan_in) */
    size_t offset, count;   /* slice of the parameter vector */
} hc_tensor;

typedef struct hc_model hc_model;

typedef struct {
    /* Forward and backward on n samples: writes grad = scale * d(sum of losses)/dparam
     * (overwrites it) and returns the sum of the n per-sample losses. */
    double (*train_batch)(hc_model *m, const hc_real *param, const hc_real *x, const int *y,
                          int n, hc_real scale, hc_real *grad);
    /* Forward only: adds the sum of losses and the number of correct argmax
     * predictions (a NaN counts as the largest value, first index wins). */
    void (*eval_batch)(hc_model *m, const hc_real *param, const hc_real *x, const int *y,
                       int n, double *loss_sum, double *correct);
    /* The model's own layers, which model_train_batch and model_eval_batch (the two
     * above, for every model here) run around the shared head; 1 <= n <= max_batch.
     * forward writes the n x n_classes tanh outputs of the last layer to m->out;
     * backward, right after forward on the same param and x, turns m->d_out (the scaled
     * gradient at the last layer's pre-activation) into grad (overwrites it). */
    void (*forward)(hc_model *m, const hc_real *param, const hc_real *x, int n);
    void (*backward)(hc_model *m, const hc_real *param, const hc_real *x, int n,
                     hc_real *grad);
    void (*destroy)(hc_model *m);
} hc_model_ops;

struct hc_model {
    char name[16];          /* "mlp" */
    size_t n_params;
    int n_tensors;
    hc_tensor tensors[HC_MAX_TENSORS];
    int input_size, n_classes, max_batch;
    const hc_model_ops *ops;
    void *impl;
    /* The head's workspace (max_batch x n_classes), allocated by the model's create and
     * freed by its destroy: the last layer's tanh outputs, and the gradient at its
     * pre-activation. */
    hc_real *out, *d_out;
    /* Told by the backward each time a slice of grad (offset, count in the parameter
     * vector) is final, so that its allreduce can start while the earlier layers' backward
     * runs; count 0 only lets pending communication progress. NULL: nobody listens. Large
     * weight gradients are computed in slices of about grad_slice values (0: whole). */
    void (*grad_ready)(void *ctx, size_t offset, size_t count);
    void *grad_ready_ctx;
    size_t grad_slice;
};

/* One kind of model, as the table lists it (model_list.h). */
typedef struct {
    const char *name;       /* --model's value and the files' model attribute: "mlp" */
    const char *about;      /* one line of --help */
    /* A layer only this model's files have (/model/<layer>), to tell a weights file
     * without a model attribute; NULL: the model of such a file when no other matches. */
    const char *marker_layer;
    /* Builds the model for images of channels x height x width in n_classes classes,
     * with workspace for max_batch samples (see model_mlp_create, model_cnn_create). */
    int (*create)(hc_model *m, int channels, int height, int width, int n_classes,
                  int max_batch, hc_err *e);
} hc_model_desc;

typedef enum { HC_TABLE_ENUM(HC_MODEL_LIST) MODEL_COUNT } hc_model_kind;

const hc_model_desc *model_desc(hc_model_kind kind);
/* The model named `name`; NULL for none (a usage error in e, listing the names). */
const hc_model_desc *model_find(const char *name, hc_err *e);
/* The names joined by sep ("mlp | cnn") into out (size bytes). */
void model_names(char *out, size_t size, const char *sep);
/* One line per model: indent, name, two spaces, about. */
void model_help(FILE *f, const char *indent);

/* Creates the model named `name` (model_find) for images of that shape. */
int model_create(hc_model *m, const char *name, int channels, int height, int width,
                 int n_classes, int max_batch, hc_err *e);
void model_destroy(hc_model *m);

/* Uniform in +-1/sqrt(fan_in) for weights and biases, from `seed`. */
void model_init_params(const hc_model *m, hc_real *param, uint64_t seed);

#endif
