/* data_shared.c - one copy of the data set per node (see data_shared.h). */
#include "data_shared.h"
#include <stdio.h>
#include <string.h>
#include "comm.h"

/* What the loading rank tells the others: its verdict and the data set's description
 * (its pointers are the loader's own; each rank points them into the window). */
typedef struct {
    int code;
    char msg[HC_ERR_MSG];
    hc_dataset ds;
} announcement;

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

/* Byte offsets of train pixels, train labels, test pixels, test labels in the window. */
static size_t layout(const hc_dataset *ds, size_t off[4])
{
    size_t ss = (size_t)ds->sample_size;
    size_t len[4] = {(size_t)ds->train.n * ss, (size_t)ds->train.n, (size_t)ds->test.n * ss,
                     (size_t)ds->test.n};
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        off[i] = at;
        at += round64(len[i]);
    }
    return at;
}

static void point_into(hc_dataset *ds, uint8_t *base, const size_t off[4])
{
    ds->train.pixels = base + off[0];
    ds->train.labels = base + off[1];
    ds->test.pixels = base + off[2];
    ds->test.labels = base + off[3];
}

/* Do all ranks of `node` ask for the same folder and data set name? */
static int same_request(MPI_Comm node, const char *path, const char *name)
{
    uint64_t h[2] = {checksum64(path, strlen(path)), name ? checksum64(name, strlen(name)) : 0};
    uint64_t lo[2], hi[2];
    MPI_Allreduce(h, lo, 2, MPI_UINT64_T, MPI_MIN, node);
    MPI_Allreduce(h, hi, 2, MPI_UINT64_T, MPI_MAX, node);
    return lo[0] == hi[0] && lo[1] == hi[1];
}

int dataset_load_shared(hc_dataset *ds, hc_data_share *sh, MPI_Comm comm, const char *path,
                        const char *name, int private_copy, hc_err *e)
{
    sh->node = MPI_COMM_NULL;
    sh->win = MPI_WIN_NULL;
    sh->ranks = 1;
    memset(ds, 0, sizeof *ds);
    int size;
    MPI_Comm_size(comm, &size);
    if (!private_copy && size > 1) {
        MPI_Comm node;
        int n;
        MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
        MPI_Comm_size(node, &n);
        if (n > 1 && same_request(node, path, name)) sh->node = node;
        else MPI_Comm_free(&node);
    }
    if (sh->node == MPI_COMM_NULL) return dataset_load(ds, path, name, e);

    int r;
    MPI_Comm_rank(sh->node, &r);
    announcement ann, *a = &ann;
    hc_dataset mine;
    memset(a, 0, sizeof *a);
    if (r == 0) {
        a->code = dataset_load(&mine, path, name, e);
        if (a->code) snprintf(a->msg, sizeof a->msg, "%s", e->msg);
        else a->ds = mine;
    }
    MPI_Bcast(a, (int)sizeof *a, MPI_BYTE, 0, sh->node);
    if (a->code) {      /* every rank of the node reports the loader's error */
        if (r != 0) hc_fail(e, a->code, "%s", a->msg);
        MPI_Comm_free(&sh->node);
        return a->code;
    }

    size_t off[4], total = layout(&a->ds, off);
    uint8_t *base = NULL;
    MPI_Comm_set_errhandler(sh->node, MPI_ERRORS_RETURN);
    int rc = MPI_Win_allocate_shared(r == 0 ? (MPI_Aint)total : 0, 1, MPI_INFO_NULL, sh->node,
                                     &base, &sh->win);
    int ok = rc == MPI_SUCCESS, all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, sh->node);
    if (!all_ok) {      /* collective failure: a window of one rank's size failed to map */
        if (r == 0) dataset_free(&mine);
        MPI_Comm_free(&sh->node);
        sh->win = MPI_WIN_NULL;
        return hc_fail(e, HC_ERR_RUNTIME, "no shared memory for one copy of the data set per "
                       "node (%zu bytes); --private-data loads one copy per rank", total);
    }
    if (r == 0) {
        memcpy(base + off[0], mine.train.pixels, (size_t)mine.train.n * mine.sample_size);
        memcpy(base + off[1], mine.train.labels, (size_t)mine.train.n);
        memcpy(base + off[2], mine.test.pixels, (size_t)mine.test.n * mine.sample_size);
        memcpy(base + off[3], mine.test.labels, (size_t)mine.test.n);
        dataset_free(&mine);
    } else {
        MPI_Aint bytes;
        int disp;
        MPI_Win_shared_query(sh->win, 0, &bytes, &disp, &base);
    }
    MPI_Barrier(sh->node);   /* the copy is complete before anyone reads it */
    *ds = a->ds;
    point_into(ds, base, off);
    MPI_Comm_size(sh->node, &sh->ranks);
    return 0;
}

void dataset_free_shared(hc_dataset *ds, hc_data_share *sh)
{
    if (sh->win == MPI_WIN_NULL) {
        dataset_free(ds);
        return;
    }
    memset(ds, 0, sizeof *ds);      /* the arrays belong to the window */
    MPI_Win_free(&sh->win);
    MPI_Comm_free(&sh->node);
    sh->ranks = 1;
}
