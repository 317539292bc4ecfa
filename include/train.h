/* train.h - the data-parallel training loop: one trainer per rank, same state on all.
 *
 * A step (spec "One step, in order" and "Data parallelism"), phase by phase:
 *   gather      this rank's shard of the global batch
 *   model       forward, backward into the gradient buffer (with --bucket, each
 *               finished bucket starts its allreduce while earlier layers' backward runs)
 *   comm        every rank's arrival, then one allreduce of the gradient (by default;
 *               the buckets' rest with --bucket; a reduce-scatter under the sharded
 *               update) and of the loss and stop request, two doubles
 *   hypergrad   level-1 hypergradients g . D from the summed gradient (D is the same on
 *               every rank, so this equals the sum of the ranks' shares; sharded: this
 *               rank's part, then the parts' shares allgathered and summed in rank order)
 *   hyper       hypergradients of the higher levels, clip, their updates top down
 *   weights     level 1 updates the weights (sharded: its part, then an allgather)
 *   advance     bookkeeping, metrics row, next batch
 * Everything the step touches is allocated by trainer_init. A phase clock (off unless
 * asked for) times each phase of the real step: the bench reads it. */
#ifndef HC_TRAIN_H
#define HC_TRAIN_H
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include "comm.h"
#include "repro.h"
#include "data.h"
#include "error.h"
#include "metrics.h"
#include "model.h"
#include "runrec.h"
#include "stack.h"

typedef struct {
    const char *data_path;      /* --data */
    const char *dataset_name;   /* --dataset, NULL: inferred */
    const char *normalize;      /* --normalize train-stats|authors|unit, NULL: the data set's default */
    const char *model_name;     /* --model, "mlp" */
    const char *stack_text;     /* --stack */
    int epochs;                 /* --epochs, 1 */
    int batch;                  /* --batch: the global minibatch, 256 */
    long seed;                  /* --seed, 1 */
    long max_steps;             /* --max-steps, 0: no limit */
    int shuffle;                /* 0 with --no-shuffle */
    const char *init_path;      /* --init */
    const char *metrics_path;   /* --metrics */
    const char *checkpoint_path; /* --checkpoint */
    long checkpoint_every;      /* --checkpoint-every STEPS, 0: epoch ends only */
    const char *resume_path;    /* --resume or --resume-if-exists */
    int resume_if_exists;       /* --resume-if-exists: a missing file means a fresh start */
    int threads;                /* --threads: BLIS threads per rank, 1 */
    int progress;               /* -1 auto (a terminal), 0 never, 1 always */
    int quiet;                  /* no per-epoch lines (tests) */
    int private_data;           /* --private-data: one copy of the data set per rank */
    int overwrite;              /* --overwrite: an existing checkpoint/metrics file may be replaced */
    int new_metrics;            /* --new-metrics: a resume starts a new metrics file */
    const hc_run_record *record; /* provenance (command, hosts, ...); NULL: none */
    int watchdog;               /* --watchdog SECONDS: a rank silent this long ends the job; 0 off */
    size_t bucket_elems;        /* gradients per allreduce bucket; 0: HC_BUCKET_ELEMS */
    int reproducible;           /* --reproducible V: V virtual shards, the same bits on any
                                   number of ranks up to V (repro.h); 0: off */
    int sharded_update;         /* --sharded-update: 1 on, 0 off, -1 auto (HC_SHARD_MIN_PARAMS) */
} hc_trainer_options;

/* Gradients per allreduce bucket by default: all of them, in one tuned blocking allreduce
 * after the backward. Measured on 2 ranks, buckets overlapped with the backward through
 * non-blocking allreduces lost to it (docs/performance.md); --bucket N turns them on. */
#define HC_BUCKET_ELEMS ((size_t)0)
/* --sharded-update auto: on for models of at least this many weights, on more than one
 * rank. The per-weight pass of a 1.6 M-weight model streams ~80 MB a step on every rank;
 * sharding it costs a reduce-scatter and an allgather instead of one allreduce
 * (docs/performance.md: measured on both models). */
#define HC_SHARD_MIN_PARAMS ((size_t)500000)
#define HC_WATCHDOG_SECONDS 45

typedef enum {
    PHASE_GATHER, PHASE_MODEL, PHASE_COMM, PHASE_HYPERGRAD, PHASE_HYPER, PHASE_WEIGHTS,
    PHASE_ADVANCE, N_PHASES
} hc_phase;

/* Seconds spent in each phase since the clock was last reset; `current` is the phase
 * running now (N_PHASES: outside a step). */
typedef struct {
    int on;
    hc_phase current;
    double mark;
    double seconds[N_PHASES];
} hc_phase_clock;

extern const char *const hc_phase_names[N_PHASES];

void trainer_options_defaults(hc_trainer_options *o);
/* Validate, then act: what can be checked before any file is read or written (the model
 * and data set names, the --normalize word, the stack), one line for the first problem. */
int trainer_options_check(const hc_trainer_options *o, hc_err *e);

typedef struct {
    hc_trainer_options opt;
    const hc_dataset *ds;       /* borrowed */
    hc_comm comm;
    hc_repro repro;             /* --reproducible only */
    hc_model model;
    hc_stack stack;
    hc_real *param;             /* all weights, contiguous */
    hc_real *x;                 /* this rank's batch inputs (max_batch * sample_size) */
    int *y;
    int *order;                 /* this epoch's sample order (n_train) */
    int *index;                 /* scratch: sample indices of a chunk */
    int steps_per_epoch;
    long step;                  /* steps done */
    long epoch;                 /* epochs done */
    long pos;                   /* steps done in the current epoch */
    int batch_n;                /* samples in the current step's global batch */
    double epoch_loss_sum;      /* sum of per-sample losses this epoch */
    long epoch_samples;
    double loss;                /* the last step's global minibatch loss */
    double *hypergrad;          /* the last step's level-1 hypergradients (level 1's n_hyper) */
    hc_phase_clock clock;
    int stop_requested;         /* a rank got SIGTERM/SIGUSR1: agreed in the allreduce */
    int resumed;
    int ckpt_writes;
    double ckpt_seconds;
    char *stack_canon;          /* the stack in canonical form, any length */
    hc_entry_group *ckpt_group; /* what the checkpoint holds: the position, each level */
    int n_ckpt_groups;
    hc_run_record record;       /* written to the checkpoint and the metrics file */
    /* metrics (rank 0 only) */
    int n_cols;
    char **cols;
    hc_metrics metrics;
    int have_metrics;
} hc_trainer;

/* Builds everything for one run on communicator comm (collective). */
/* The start line: version, ranks x threads, model, stack, data (`copies`: how the data
 * set is held), global batch. */
void trainer_print_start(const hc_trainer *t, FILE *f, int threads, const char *copies);

int trainer_init(hc_trainer *t, const hc_trainer_options *opt, const hc_dataset *ds, MPI_Comm comm,
                 hc_err *e);
void trainer_free(hc_trainer *t);

/* This step's gradients summed over ranks, and the level-1 hypergradients. */
int trainer_gradients(hc_trainer *t, hc_err *e);
/* The level-1 hypergradients and mean loss of the last trainer_gradients. */
const double *trainer_hypergrads(const hc_trainer *t);
double trainer_batch_loss(const hc_trainer *t);
/* Records the step (metrics row) and moves to the next batch. */
int trainer_advance(hc_trainer *t, hc_err *e);
/* gradients + stack_step + advance. */
int trainer_step(hc_trainer *t, hc_err *e);

/* Writes the checkpoint (ckpt.h) of t's state to path, on this rank only. Under the
 * sharded update (more than one rank) a rank holds only its part of level 1's state:
 * trainer_run's checkpoints gather it to rank 0 first, and rank 0 writes. */
int trainer_write_checkpoint(const hc_trainer *t, const char *path, hc_err *e);

/* The phase clock: on or off, and reset; the bench reads it after steps. */
void trainer_clock_start(hc_trainer *t, int on);
const hc_phase_clock *trainer_clock(const hc_trainer *t);

/* Loss and error (a fraction) over a whole split, shared across ranks (collective). */
int trainer_evaluate(hc_trainer *t, const hc_split *split, double *loss, double *error,
                     hc_err *e);

/* The whole run with its output; returns an exit code (HC_OK, HC_EXIT_DIVERGED,
 * HC_EXIT_REQUEUE after a signal and a checkpoint, ...). SIGTERM and SIGUSR1 make every
 * rank finish the step, write the checkpoint and return HC_EXIT_REQUEUE; a second
 * SIGTERM exits at once. */
int trainer_run(hc_trainer *t, hc_err *e);

/* Installs trainer_run's SIGTERM/SIGUSR1 handlers now. Call it first thing in a training
 * process: until then such a signal (a preemption at start-up) kills the process
 * without a checkpoint; after it, the first step carries the stop request. */
void trainer_catch_stop_signals(void);

#endif
