/* data_shared.h - one copy of the data set per node, shared by the node's ranks.
 *
 * Every rank of a data-parallel run reads the whole training set, so with P ranks on a
 * node the node would hold P copies of the pixels. Here the ranks of a node that name
 * the same data folder keep one copy in an MPI shared-memory window: the node's lowest
 * rank loads the files, the others map its copy. Ranks whose folders differ (an MPMD
 * job), a node with one rank, or a window that cannot be had fall back to a private
 * copy per rank, exactly what dataset_load gives. */
#ifndef HC_DATA_SHARED_H
#define HC_DATA_SHARED_H
#include <mpi.h>
#include "data.h"

typedef struct {
    MPI_Comm node;          /* the ranks sharing the copy, or MPI_COMM_NULL */
    MPI_Win win;            /* the window holding it, or MPI_WIN_NULL */
    int ranks;              /* ranks sharing it (1: a private copy) */
} hc_data_share;

/* Collective over comm. Loads the data set in `path` as dataset_load does (same
 * arguments, same checks and messages), sharing one copy per node unless `private_copy`.
 * On error every rank of a node that shares returns the loading rank's error; the
 * caller agrees on it across nodes as after dataset_load. */
int dataset_load_shared(hc_dataset *ds, hc_data_share *sh, MPI_Comm comm, const char *path,
                        const char *name, int private_copy, hc_err *e);

/* Frees ds and the window (collective over the node when shared). */
void dataset_free_shared(hc_dataset *ds, hc_data_share *sh);

#endif
