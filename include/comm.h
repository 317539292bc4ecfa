/* comm.h - data parallelism over MPI: the fused gradient buffer and its one allreduce.
 *
 * Buffer layout (one allocation, 64-byte aligned parts):
 *     double header[8]            header[0] = number of doubles that follow
 *     double values[n_doubles]    hypergradient shares, loss sum, ... (padded to 8)
 *     hc_real grad[n_reals]       weight gradients, written in place by the backward
 * One MPI_Allreduce with a user-defined sum over this mixed layout carries them all,
 * so gradients and hypergradients never get packed or copied. */
#ifndef HC_COMM_H
#define HC_COMM_H
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "hc_real.h"

typedef struct {
    MPI_Comm comm;          /* not owned */
    int rank, size;
    size_t n_doubles, n_reals;
    double *values;         /* n_doubles, inside buf */
    hc_real *grad;          /* n_reals, inside buf */
    void *buf;
    size_t buf_bytes;
    MPI_Datatype type;      /* the whole buffer as one element */
    MPI_Op sum;
} hc_comm;

int comm_init(hc_comm *c, MPI_Comm comm, size_t n_doubles, size_t n_reals, hc_err *e);
void comm_free(hc_comm *c);

/* Sums values and grad over all ranks, in place. */
int comm_allreduce(hc_comm *c, hc_err *e);

/* Contiguous shard [*begin, *end) of n items for this rank. */
void comm_shard(const hc_comm *c, int n, int *begin, int *end);

/* Collective: every rank passes its own status; if any failed, every rank returns the
 * same code and message (the lowest failing rank's). Returns 0 when all are fine. */
int comm_agree(const hc_comm *c, hc_err *e);
int comm_agree_on(MPI_Comm comm, hc_err *e);

/* FNV-1a over bytes, for comparing weights across ranks. */
uint64_t checksum64(const void *data, size_t bytes);

/* Collective: fails with a message naming the ranks if the checksums differ. */
int comm_check_identical(const hc_comm *c, uint64_t sum, const char *what, hc_err *e);

#endif
