/* repro.h - reproducible data parallelism (--reproducible): the same bits on any number
 * of ranks.
 *
 * The global batch of a step is cut into V fixed virtual shards (shard v holds samples
 * [v B / V, (v + 1) B / V) of the step's B); a rank computes the gradient of each of its
 * shards separately, so every shard's gradient is the same float vector whatever the
 * rank count. Shard gradients are then summed exactly: each tensor gets one power-of-two
 * scale 2^S from the largest |g| of any shard on any rank (an integer MPI_MAX, order-free),
 * every value becomes the integer round(g 2^S) (|.| < 2^50 / V, so V of them add up below
 * 2^50), the integers are added locally and across ranks with MPI_INT64_T / MPI_SUM
 * (integer addition is associative: no order matters), and the sum comes back as the
 * nearest float of sum 2^-S. Values below 2^-47 of their tensor's largest are rounded to
 * that grid; everything else keeps more precision than a float sum would (docs/
 * reproducible.md). The per-shard losses travel in V slots, one contributor each, and are
 * added in shard order; so does the evaluation, in fixed chunks of samples. */
#ifndef HC_REPRO_H
#define HC_REPRO_H
#include <stddef.h>
#include <stdint.h>
#include "comm.h"
#include "error.h"
#include "hc_real.h"

#define HC_REPRO_EVAL_CHUNK 256     /* samples per evaluation chunk, whatever the ranks */

typedef struct {
    int n_virtual;              /* V */
    int first, count;           /* this rank's shards: [first, first + count) */
    size_t n;                   /* values of a gradient */
    int n_seg;                  /* tensors: one scale each */
    size_t *seg;                /* n_seg + 1 offsets */
    hc_real *shard_grad;        /* count x n */
    int64_t *fixed;             /* n */
    int *exponent;              /* n_seg: the largest |g| is below 2^exponent */
    double *slot;               /* V shard losses, then the stop request */
    int n_eval;                 /* evaluation slots: 2 per chunk (loss, correct) */
    double *eval;
} hc_repro;

/* V virtual shards over `size` ranks (size <= V), gradients of n values cut at the
 * tensor offsets seg[0..n_seg] (seg[n_seg] = n), evaluation of up to max_eval samples. */
int repro_init(hc_repro *r, int n_virtual, int rank, int size, size_t n, int n_seg,
               const size_t *seg, int max_eval, hc_err *e);
void repro_free(hc_repro *r);

/* Samples [*begin, *end) of the step's batch of batch_n that this rank's j-th shard holds. */
void repro_shard(const hc_repro *r, int j, int batch_n, int *begin, int *end);
hc_real *repro_shard_grad(const hc_repro *r, int j);

/* Collective: grad = the exact sum of every rank's shard gradients (rounded once to
 * hc_real), *loss_sum = the shard losses (r->slot[first..]) added in shard order, *stop =
 * any rank's stop request. */
int repro_reduce(hc_repro *r, hc_comm *c, hc_real *grad, int stop_here, double *loss_sum,
                 int *stop, hc_err *e);

/* Evaluation in fixed chunks: this rank's chunks of a split of n samples ... */
void repro_eval_chunks(const hc_repro *r, int n, int rank, int size, int *first, int *end);
/* ... whose sums it records here, then the collective total, added in chunk order. */
void repro_eval_record(hc_repro *r, int chunk, double loss, double correct);
int repro_eval_total(hc_repro *r, hc_comm *c, int n_chunks, double *loss, double *correct,
                     hc_err *e);

#endif
