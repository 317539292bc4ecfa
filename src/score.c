/* score.c - scoring a split: the loop the trainer's evaluation and `hyperclip eval`
 * share, and eval's scorer (a model and its weights, nothing of training). */
#include "score.h"
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#include "comm.h"
#include "model_io.h"

/* Subnormal floats appear in the optimizer state (Adam's m of a weight whose gradient
 * turned 0 decays by beta1 a step, through the subnormal range) and cost 10-100x per
 * operation on many Intel cores: flush them to zero, in this thread and in the BLIS
 * threads it starts later (they inherit the floating-point environment). A subnormal is
 * below 1.2e-38: flushing it changes no weight (far below their rounding) and, measured,
 * no bit of the MNIST runs (docs/performance.md). */
void hc_flush_subnormals(void)
{
#if defined(__SSE__)
    _mm_setcsr(_mm_getcsr() | 0x8040);      /* FTZ | DAZ */
#endif
}

void score_range(hc_model *m, const hc_real *param, const hc_dataset *ds, const hc_split *split,
                 int begin, int end, hc_real *x, int *y, int *index, double sums[2])
{
    for (int i = begin; i < end; i += m->max_batch) {
        int n = end - i < m->max_batch ? end - i : m->max_batch;
        for (int j = 0; j < n; j++) index[j] = i + j;
        dataset_gather(ds, split, index, n, x, y);
        m->ops->eval_batch(m, param, x, y, n, &sums[0], &sums[1]);
    }
}

void score_bcast_reals(hc_real *v, size_t n, int root, MPI_Comm comm)
{
    size_t off = 0;
    while (off < n) {           /* MPI counts are int */
        int chunk = n - off > (1u << 30) ? 1 << 30 : (int)(n - off);
        MPI_Bcast(v + off, chunk, HC_REAL_IS_DOUBLE ? MPI_DOUBLE : MPI_FLOAT, root, comm);
        off += (size_t)chunk;
    }
}

int scorer_init(hc_scorer *s, const char *path, const hc_dataset *ds, MPI_Comm comm, hc_err *e)
{
    char kind[16];
    int rank;
    memset(s, 0, sizeof *s);
    hc_flush_subnormals();         /* as the trainer: the same bits */
    MPI_Comm_rank(comm, &rank);
    model_file_kind(path, kind, sizeof kind, e);
    if (comm_agree_on(comm, e)) return e->code;
    if (model_create(&s->model, kind, ds->channels, ds->height, ds->width, ds->n_classes,
                     HC_SCORE_CHUNK, e) == 0) {
        size_t np = s->model.n_params;
        if (posix_memalign((void **)&s->param, 64, np * sizeof *s->param)) s->param = NULL;
        if (posix_memalign((void **)&s->x, 64,
                           (size_t)HC_SCORE_CHUNK * (size_t)ds->sample_size * sizeof *s->x))
            s->x = NULL;
        s->y = malloc(HC_SCORE_CHUNK * sizeof *s->y);
        s->index = malloc(HC_SCORE_CHUNK * sizeof *s->index);
        if (!s->param || !s->x || !s->y || !s->index)
            hc_fail(e, HC_ERR_RUNTIME, "out of memory for the scorer");
    }
    if (comm_agree_on(comm, e)) return e->code;
    if (rank == 0) model_read_file(path, "checkpoint", &s->model, s->param, e);
    if (comm_agree_on(comm, e)) return e->code;
    score_bcast_reals(s->param, s->model.n_params, 0, comm);   /* one reader, the same bits */
    return 0;
}

int scorer_run(hc_scorer *s, const hc_dataset *ds, const hc_split *split, MPI_Comm comm,
               double *loss, double *error, hc_err *e)
{
    int rank, size, begin, end;     /* the trainer's shares */
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    comm_shard(rank, size, split->n, &begin, &end);
    double sums[2] = {0.0, 0.0};    /* loss, correct */
    score_range(&s->model, s->param, ds, split, begin, end, s->x, s->y, s->index, sums);
    if (size > 1) MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, comm);
    *loss = sums[0] / split->n;
    *error = 1.0 - sums[1] / split->n;
    (void)e;
    return 0;
}

void scorer_free(hc_scorer *s)
{
    model_destroy(&s->model);
    free(s->param);
    free(s->x);
    free(s->y);
    free(s->index);
    memset(s, 0, sizeof *s);
}
