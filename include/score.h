/* score.h - a model's loss and error on a split, and `hyperclip eval`'s scorer, which
 * builds only what scoring needs: the model, its parameters and one chunk of inputs
 * (no optimizer stack, no gradient buffers, no run record). */
#ifndef HC_SCORE_H
#define HC_SCORE_H
#include <mpi.h>
#include "data.h"
#include "error.h"
#include "hc_real.h"
#include "model.h"

/* The evaluation chunk of `hyperclip eval` and of --reproducible: samples per eval_batch
 * call. The trainer's workspace holds at least this; its own evaluation goes by its
 * workspace (a larger local batch, larger chunks: the error counts are the same, the
 * loss sums may differ in the last bits). */
#define HC_SCORE_CHUNK 256

/* Adds the losses and correct predictions of samples [begin, end) of split to sums[0],
 * sums[1], in chunks of m->max_batch through x, y and index (scratch of max_batch). */
void score_range(hc_model *m, const hc_real *param, const hc_dataset *ds, const hc_split *split,
                 int begin, int end, hc_real *x, int *y, int *index, double sums[2]);

/* FTZ | DAZ in this thread and the BLIS threads it starts (see score.c). */
void hc_flush_subnormals(void);

/* Rank root's n values to every rank of comm. */
void score_bcast_reals(hc_real *v, size_t n, int root, MPI_Comm comm);

typedef struct {
    hc_model model;
    hc_real *param, *x;
    int *y, *index;
} hc_scorer;

/* The model of weights file `path` (its model attribute, else its layers) for ds's
 * images, with the file's weights: read on rank 0, the same bits on every rank. */
int scorer_init(hc_scorer *s, const char *path, const hc_dataset *ds, MPI_Comm comm, hc_err *e);
/* Mean loss and error on split, each rank scoring its contiguous share. */
int scorer_run(hc_scorer *s, const hc_dataset *ds, const hc_split *split, MPI_Comm comm,
               double *loss, double *error, hc_err *e);
void scorer_free(hc_scorer *s);

#endif
