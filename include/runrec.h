/* runrec.h - the run record: what a run is (its configuration and training set) and
 * where it came from (command, version, commit, hosts, ranks x threads, start time).
 * Written as root attributes, fixed-length UTF-8 strings and 64-bit integers, into
 * both the checkpoint and the metrics file; the two files of one run carry the same
 * run_id. A resume reads it back: options not given are taken from it, options given
 * must agree with it (except those a resume may change), and the training set's hash
 * must match. */
#ifndef HC_RUNREC_H
#define HC_RUNREC_H
#include <hdf5.h>
#include <mpi.h>
#include "data.h"
#include "error.h"

typedef struct {
    /* provenance */
    char *run_id, *command, *version, *git_commit, *hosts, *started;
    long nranks, threads;
    /* identity: configuration and data */
    char *data, *dataset, *normalization, *model, *stack, *train_set_hash;
    char *checkpoint, *metrics;
    long global_batch, seed, shuffle, epochs, checkpoint_every, n_train;
    long reproducible;      /* --reproducible V, 0: off (its bits depend on V) */
    long first_step;        /* metrics only: the step its first row is (a new record) */
} hc_run_record;

/* Every field empty: strings NULL, numbers -1. */
void runrec_clear(hc_run_record *r);
void runrec_free(hc_run_record *r);
/* dst (cleared first) becomes a deep copy of src; -1 when out of memory. */
int runrec_copy(hc_run_record *dst, const hc_run_record *src);

/* This process's record (collective over comm: the hosts of every rank). run_id is new
 * unless `run_id` (the checkpoint's, on a resume) is given. */
int runrec_init(hc_run_record *r, int argc, char **argv, const char *run_id, int threads,
                MPI_Comm comm, hc_err *e);
/* The configuration part, from the options after set-up and the loaded data set. */
int runrec_set_config(hc_run_record *r, const char *data, const hc_dataset *ds,
                      const char *model, const char *stack, long batch, long seed, int shuffle,
                      int epochs, long checkpoint_every, const char *checkpoint,
                      const char *metrics, hc_err *e);

/* "fnv1a64:<16 hex digits>" over the training split's pixels and labels. */
void runrec_train_hash(const hc_dataset *ds, char out[32]);

/* Writes/reads the record's attributes on loc (a file's root). Reading takes what is
 * there: a file of hyperclip 1.x has only part of it. It returns the name of the first
 * attribute that is there but not readable as its kind (a string, a single integer),
 * or that could not be looked up, NULL when there is none; that field stays empty.
 * *damaged is 1 when the reason was a checksum that does not match (a damaged file). */
int runrec_write(hid_t loc, const hc_run_record *r);
const char *runrec_read(hid_t loc, hc_run_record *r, int *damaged);
/* Checks path is a readable regular HDF5 file, then reads its record: an attribute of it
 * that is there but unreadable is an error (a damaged record is not an absent one). */
int runrec_read_file(const char *path, const char *what, hc_run_record *r, hc_err *e);

/* A resume's check that the checkpoint at path (its record: theirs) is of this run
 * (mine): the same model, data set, stack, normalization, global batch, number of
 * training samples and, when the file records it (version 2), training set hash. One
 * line naming the first difference or missing attribute. */
int runrec_check_same_run(const hc_run_record *theirs, const hc_run_record *mine,
                          const char *path, hc_err *e);

/* The description and unit of a dataset or column named by its path, e.g.
 * "steps/level2/alpha/grad" or "state/level1/state0": one table for both files. */
void runrec_describe_path(const char *path, char *desc, size_t n, const char **unit);

#endif
