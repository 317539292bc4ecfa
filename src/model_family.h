/* model_family.h - what the models share with each other (private to src/model_*.c; the
 * tests that build models by hand include it too): their constructors, the tensor table,
 * the classifier head and the passes around it. include/model.h is the interface. */
#ifndef HC_MODEL_FAMILY_H
#define HC_MODEL_FAMILY_H
#include "model.h"

/* The MLP of the spec: Linear(in -> hidden) -> tanh -> Linear(hidden -> classes) ->
 * tanh -> log-softmax, NLL. Workspace for max_batch samples. */
int model_mlp_create(hc_model *m, int input_size, int hidden, int n_classes, int max_batch,
                     hc_err *e);

/* The CIFAR-10 CNN of the spec: conv 3x3 (channels -> 16) -> ReLU -> conv 3x3 (16 -> 16)
 * -> ReLU -> Linear(16 (height-4)(width-4) -> 128) -> tanh -> Linear(128 -> classes) ->
 * tanh -> log-softmax, NLL; stride 1, no padding. Tensors conv1/conv2 weight (16, in, 3, 3)
 * and bias, fc1/fc2 weight and bias. Workspace for max_batch samples. */
int model_cnn_create(hc_model *m, int channels, int height, int width, int n_classes,
                     int max_batch, hc_err *e);

/* Appends tensor layer/param of shape dims[0..rank-1] to m's table, as the next slice of
 * the parameter vector (m->n_params grows by its size). */
void model_add_tensor(hc_model *m, const char *layer, const char *param, int rank,
                      const int *dims, int fan_in);

/* The classifier head both models end with, on n rows of tanh outputs (n x C):
 * head_loss_grad returns the sum of the NLL losses of log-softmax and writes
 * d = scale (softmax - onehot) (1 - t^2), the gradient at the last pre-activation;
 * head_score turns out into log-probabilities and adds the losses and the correct
 * argmax predictions. */
double head_loss_grad(const hc_real *t, const int *y, int n, int C, hc_real scale, hc_real *d);
void head_score(hc_real *out, const int *y, int n, int C, double *loss_sum, double *correct);

/* train_batch and eval_batch of every model (see hc_model_ops): an empty shard gives a
 * zero gradient and adds nothing; otherwise ops->forward, then the head: head_loss_grad
 * into m->d_out and ops->backward, or head_score. */
double model_train_batch(hc_model *m, const hc_real *param, const hc_real *x, const int *y,
                         int n, hc_real scale, hc_real *grad);
void model_eval_batch(hc_model *m, const hc_real *param, const hc_real *x, const int *y, int n,
                      double *loss_sum, double *correct);

/* Calls m->grad_ready, if any: tensor t's gradient is final, or (model_slice_ready) the
 * slice [offset, offset + count) of the parameter vector. */
void model_tensor_ready(const hc_model *m, int t);
void model_slice_ready(const hc_model *m, size_t offset, size_t count);

/* Rows per slice of a (rows x cols) weight gradient, for m->grad_slice. */
int model_slice_rows(const hc_model *m, int rows, int cols);

#endif
