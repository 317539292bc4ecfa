/* comm.h - data parallelism over MPI: the gradient buffer, its bucketed allreduce, the
 * step's few double sums, and a watchdog on every wait.
 *
 * The weight gradients travel as the build's real type with MPI_SUM, so Open MPI's own
 * algorithms (segmenting, pipelining, shared-memory collectives) run. They go in
 * buckets, posted as non-blocking allreduces in backward order while the earlier layers'
 * backward still runs (as DDP and Horovod do):
 *
 *     comm_step_begin()                 a new step: nothing ready, nothing posted
 *     comm_grad_ready(offset, count)    the model's backward: this part of grad is final;
 *                                       each bucket it completes is posted, always in the
 *                                       same order (last bucket first) on every rank
 *     comm_step_finish()                posts the rest and the double slots, waits for all
 *
 * With one bucket (the default) nothing is posted during the backward: finish checks that
 * every rank has arrived (empty messages, polled under the watchdog), then the slots and
 * the gradient take Open MPI's tuned blocking allreduce.
 *
 * The level-1 hypergradients are not sent: they are derived from the reduced gradient
 * (g . D with D the same on every rank), so the only doubles are the named slots below;
 * under the sharded update (below) each rank's shares of g . D are allgathered too.
 * Every wait is a watchdog: a rank that does not join within watchdog_s seconds (stopped,
 * hung, dead) ends the job with a message naming it and its host (HC_ERR_STALLED); a
 * blocking collective, which cannot be polled, runs under an alarm whose message names
 * the collective a waiting rank was left in. */
#ifndef HC_COMM_H
#define HC_COMM_H
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "hc_real.h"

/* The doubles summed over ranks with every step's gradients. */
enum { COMM_LOSS, COMM_STOP, COMM_SLOTS };

#define HC_HOST_NAME 64
#define HC_COMM_MAX_BUCKETS 64
#define HC_COMM_MAX_SHARES 64   /* hypergradient shares summed under the sharded update */

typedef struct {
    MPI_Comm comm;              /* not owned */
    MPI_Comm watch;             /* owned duplicate: the watchdog's roll call */
    int rank, size;
    size_t n_reals;
    hc_real *grad;              /* n_reals, 64-byte aligned: the backward writes it in place */
    double slot[COMM_SLOTS];    /* this rank's share before, the sum after the step */
    int n_buckets;
    size_t bucket_elems;
    size_t ready[HC_COMM_MAX_BUCKETS];  /* elements of bucket b final in this step */
    MPI_Request req[HC_COMM_MAX_BUCKETS + 1];
    int posted;                 /* buckets posted this step, from the last one down */
    double watchdog_s;
    char (*host)[HC_HOST_NAME]; /* every rank's host, for messages */
    /* the sharded update: each rank updates its part of the weights */
    int sharded;
    hc_real *reduced;           /* n_reals, 64-byte aligned: the summed gradient, this
                                   rank's part filled by the reduce-scatter */
    int *part_begin, *part_count;   /* size each: every rank's part of the weights */
    double *shares;             /* size x HC_COMM_MAX_SHARES: every rank's shares */
} hc_comm;

/* Collective; a failure on any rank is every rank's (the same code and message).
 * bucket_elems 0: one bucket (one allreduce after the whole backward); watchdog_s <= 0:
 * wait forever. sharded (one bucket only): the sharded update below. */
int comm_init(hc_comm *c, MPI_Comm comm, size_t n_reals, size_t bucket_elems, int sharded,
              double watchdog_s, hc_err *e);
void comm_free(hc_comm *c);

/* Before the trainer's communicator exists (loading the data, the run record): an alarm
 * that ends the job when a rank has waited watchdog_s (plus the roll call's grace) for
 * the others, with one line naming start-up; 0 (or one rank) clears it. comm_init's
 * own alarm takes over the signal; clear this one when start-up is over. */
void comm_startup_watch(MPI_Comm comm, double watchdog_s);

void comm_step_begin(hc_comm *c);
void comm_grad_ready(hc_comm *c, size_t offset, size_t count);
/* Sums grad and slot over all ranks, in place; sharded: the slots in place, the
 * gradient's sum for this rank's part of the weights into comm_reduced_grad (a
 * reduce-scatter: each rank receives 1/P of the bytes). */
int comm_step_finish(hc_comm *c, hc_err *e);

/* ---- the sharded update (ZeRO's stage 1): after the reduce-scatter each rank computes
 * its part's hypergradient shares and updates its part of the weights; one small
 * allgather sums the shares, one allgather of the weights makes them whole again. The
 * same clip acts on the same sums on every rank: the shares are summed in rank order. */

/* This rank's part [*lo, *hi) of the weights: all of them when not sharded. The parts
 * begin at multiples of 16 values (64 bytes), so that every rank's loops run aligned. */
void comm_weight_part(const hc_comm *c, size_t *lo, size_t *hi);
/* The summed gradient the update reads: grad, or (sharded) the part reduced here. */
const hc_real *comm_reduced_grad(const hc_comm *c);
/* Sharded: v[0..n) becomes the sum over ranks of every rank's v, added in rank order
 * (the same bits on every rank). n <= HC_COMM_MAX_SHARES. No-op when not sharded. */
int comm_sum_shares(hc_comm *c, double *v, int n, hc_err *e);
/* Sharded: every rank's part of w (n_reals values) to every rank. No-op when not sharded. */
int comm_gather_weights(hc_comm *c, hc_real *w, hc_err *e);
/* Sharded: every rank's part of v to rank 0 (the checkpoint's state). No-op otherwise. */
int comm_gather_to_root(hc_comm *c, hc_real *v, hc_err *e);

/* Any in-place allreduce of count elements, waited for under the watchdog. */
int comm_allreduce(hc_comm *c, void *buf, int count, MPI_Datatype type, MPI_Op op,
                   const char *what, hc_err *e);

/* The same, blocking, with Open MPI's tuned algorithms, under the watchdog's alarm (not
 * polled): for large buffers right after a watched wait has shown that every rank is
 * there (a non-blocking allreduce of a large buffer goes through libnbc, which progresses
 * only while polled and degrades badly on a busy node: docs/performance.md). */
int comm_allreduce_blocking(hc_comm *c, void *buf, int count, MPI_Datatype type, MPI_Op op,
                            hc_err *e);

/* The bare collective the step's communication is measured against: one MPI_SUM
 * allreduce of the whole gradient, blocking (the bench's probe). */
int comm_allreduce_bare(hc_comm *c, hc_err *e);

/* Contiguous shard [*begin, *end) of n items for rank `rank` of `size`. */
void comm_shard(int rank, int size, int n, int *begin, int *end);

/* Collective: every rank passes its own status; if any failed, every rank returns the
 * same code and message (the lowest failing rank's). Returns 0 when all are fine. The
 * hc_comm form waits under the watchdog. */
int comm_agree(hc_comm *c, hc_err *e);
/* The same, after work of one rank that the others wait for (rank 0 writing a file):
 * `what` names it in the watchdog's message. */
int comm_agree_after(hc_comm *c, const char *what, hc_err *e);
int comm_agree_on(MPI_Comm comm, hc_err *e);

/* FNV-1a over bytes, for comparing weights across ranks. */
uint64_t checksum64(const void *data, size_t bytes);

/* Collective: fails with a message naming the ranks if the checksums differ. */
int comm_check_identical(hc_comm *c, uint64_t sum, const char *what, hc_err *e);

#endif
