/* train.c - the data-parallel training loop (see train.h for the step's anatomy). */
#include "train.h"
#include "score.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include "ckpt.h"
#include "model_io.h"
#include "rng.h"

#define EPOCH_STREAM 1000u      /* rng stream of epoch e's order: EPOCH_STREAM + e */
#define METRICS_ROWS 1024       /* step rows buffered between writes */

/* Set by the signal handler, read at the next step. A handler can reach nothing else,
 * hence process-wide state (as is the watchdog's alarm text in comm.c, for the same
 * reason). */
static volatile sig_atomic_t stop_signals;

static void on_stop_signal(int sig)
{
    if (sig == SIGTERM && stop_signals > 0) _exit(128 + SIGTERM);  /* second SIGTERM: now */
    stop_signals = stop_signals + 1;
}

void trainer_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

void trainer_options_defaults(hc_trainer_options *o)
{
    memset(o, 0, sizeof *o);
    o->model_name = model_desc(0)->name;   /* the first of model_list.h */
    o->stack_text = "adam / sgd(alpha=1e-3, clip=on)";
    o->epochs = 1;
    o->batch = 256;
    o->seed = 1;
    o->shuffle = 1;
    o->threads = 1;
    o->progress = -1;
    o->watchdog = HC_WATCHDOG_SECONDS;
    o->sharded_update = -1;
}

/* --sharded-update on needs the one-piece reduction of the default step. */
static int check_sharding(const hc_trainer_options *o, hc_err *e)
{
    if (o->sharded_update > 0 && (o->reproducible || o->bucket_elems))
        return hc_fail(e, HC_ERR_USAGE, "--sharded-update on cannot be combined with %s",
                       o->reproducible ? "--reproducible (whose sums are its own)"
                                       : "--bucket (the sharded update reduces the gradient in one piece)");
    return 0;
}

int trainer_options_check(const hc_trainer_options *o, hc_err *e)
{
    hc_stack_spec spec = {0};
    if (!model_find(o->model_name, e)) return e->code;
    if (o->dataset_name && !data_format_of_name(o->dataset_name, e)) return e->code;
    if (dataset_check_normalization(o->normalize, e)) return e->code;
    if (stack_parse(o->stack_text, &spec, e)) return e->code;
    stack_spec_free(&spec);
    return check_sharding(o, e);
}

const char *const hc_phase_names[N_PHASES] = {
    "gather", "model", "comm", "hypergrad", "hyper", "weights", "advance"};

/* ---- metrics columns: steps/loss, then value/grad/clipped/threshold per hyper ---- */

static const char *const col_kinds[4] = {"value", "grad", "clipped", "threshold"};

static int make_columns(hc_trainer *t)
{
    const hc_stack *st = &t->stack;
    int n = 1;
    for (int k = 0; k < stack_n_levels(st); k++) n += 4 * stack_n_hyper(st, k);
    if (!(t->cols = calloc((size_t)n, sizeof *t->cols))) return -1;
    t->n_cols = n;
    t->cols[0] = strdup("steps/loss");
    int c = 1;
    for (int k = 0; k < stack_n_levels(st); k++)
        for (int h = 0; h < stack_n_hyper(st, k); h++)
            for (int q = 0; q < 4; q++) {
                char buf[96];
                snprintf(buf, sizeof buf, "steps/level%d/%s/%s", k + 1,
                         stack_hyper_name(st, k, h), col_kinds[q]);
                t->cols[c++] = strdup(buf);
            }
    for (int i = 0; i < n; i++)
        if (!t->cols[i]) return -1;
    return 0;
}

static void fill_row(const hc_trainer *t, double *row)
{
    int c = 0;
    row[c++] = t->loss;
    for (int k = 0; k < stack_n_levels(&t->stack); k++)
        for (int h = 0; h < stack_n_hyper(&t->stack, k); h++, c += 4)
            stack_hyper_metrics(&t->stack, k, h, row + c);
}

/* A resume continues the run's own metrics file, refused untouched when it is another
 * run's; a missing one is an error unless --new-metrics asks for a new record, which
 * states its first step. */
static int open_metrics(hc_trainer *t, hc_err *e)
{
    const char *path = t->opt.metrics_path;
    if (t->comm.rank != 0 || !path) return 0;
    int exists = access(path, F_OK) == 0;
    if (t->resumed && exists && !t->opt.new_metrics) {
        hc_run_record m;
        if (runrec_read_file(path, "metrics", &m, e)) return e->code;
        /* a record started by --new-metrics holds the rows from its first step on */
        long first = m.first_step > 0 ? m.first_step : 0;
        if (m.run_id && t->record.run_id && strcmp(m.run_id, t->record.run_id))
            hc_fail(e, HC_ERR_RUNTIME, "metrics %.400s belongs to another run (run_id %.40s; the "
                    "checkpoint's run is %.40s): left untouched", path, m.run_id, t->record.run_id);
        else if (first > t->step)
            hc_fail(e, HC_ERR_RUNTIME, "metrics %.400s begins at step %ld, after the checkpoint's "
                    "step %ld: left untouched", path, first, t->step);
        runrec_free(&m);
        if (e->code) return e->code;
        if (metrics_reopen(&t->metrics, path, t->n_cols, (const char *const *)t->cols,
                           t->step - first, t->epoch - first / t->steps_per_epoch, METRICS_ROWS, e))
            return e->code;
        t->have_metrics = 1;
        return 0;
    }
    if (t->resumed && !exists && !t->opt.new_metrics)
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %.400s does not exist: this run's record up to "
                       "step %ld is gone (give --new-metrics to start a new record at step %ld)",
                       path, t->step, t->step);
    hc_run_attrs a = {
        .stack = t->stack_canon, .dataset = t->ds->name, .model = t->model.name,
        .version = HC_VERSION, .normalization = t->ds->normalization, .seed = t->opt.seed,
        .nranks = t->comm.size, .global_batch = t->opt.batch, .record = &t->record,
    };
    t->record.first_step = t->step;     /* the metrics file's own field */
    int rc = metrics_create(&t->metrics, path, t->n_cols, (const char *const *)t->cols, &a,
                            METRICS_ROWS, e);
    t->record.first_step = -1;
    if (rc) return rc;
    t->have_metrics = 1;
    return 0;
}

/* ---- set-up ---- */

/* --reproducible: V virtual shards, one exact sum scale per model tensor. */
static int reproducible_init(hc_trainer *t, hc_err *e)
{
    size_t seg[HC_MAX_TENSORS + 1];
    for (int k = 0; k < t->model.n_tensors; k++) seg[k] = t->model.tensors[k].offset;
    seg[t->model.n_tensors] = t->model.n_params;
    int most = t->ds->train.n > t->ds->test.n ? t->ds->train.n : t->ds->test.n;
    return repro_init(&t->repro, t->opt.reproducible, t->comm.rank, t->comm.size,
                      t->model.n_params, t->model.n_tensors, seg, most, e);
}

/* --sharded-update: on when asked, or (auto) for a large model on more than one rank;
 * never with --reproducible or --bucket (trainer_options_check refuses "on" with them). */
static int use_sharded_update(const hc_trainer_options *o, size_t n_params, int size)
{
    if (size == 1 || o->reproducible || o->bucket_elems) return 0;
    return o->sharded_update > 0 || (o->sharded_update < 0 && n_params >= HC_SHARD_MIN_PARAMS);
}

/* The model's backward announces finished gradients to the allreduce. */
static void on_grad_ready(void *comm, size_t offset, size_t count)
{
    comm_grad_ready(comm, offset, count);
}

static int load_init(hc_trainer *t, hc_err *e)
{
    if (t->comm.rank == 0) model_read_file(t->opt.init_path, "init file", &t->model, t->param, e);
    if (comm_agree(&t->comm, e)) return e->code;
    score_bcast_reals(t->param, t->model.n_params, 0, t->comm.comm);  /* the same bits everywhere */
    return 0;
}

static void set_epoch_order(hc_trainer *t)
{
    int n = t->ds->train.n;
    if (t->opt.shuffle) {
        hc_rng r;
        rng_seed(&r, (uint64_t)t->opt.seed, EPOCH_STREAM + (uint64_t)t->epoch);
        rng_permutation(&r, t->order, n);
    } else {
        for (int i = 0; i < n; i++) t->order[i] = i;
    }
}

static void set_batch_size(hc_trainer *t)
{
    int n = t->ds->train.n, begin = t->pos * t->opt.batch;
    t->batch_n = n - begin < t->opt.batch ? n - begin : t->opt.batch;
}

/* Recomputes the epoch's order and the batch size from (epoch, pos), after a restore. */
static void trainer_sync_position(hc_trainer *t)
{
    set_epoch_order(t);
    set_batch_size(t);
}

/* A checkpoint that cannot be written should stop the run before its first step, not
 * hours later: rank 0 creates and removes a file beside the checkpoint. */
static int probe_checkpoint_dir(const hc_trainer *t, hc_err *e)
{
    const char *path = t->opt.checkpoint_path;
    if (!path || t->comm.rank != 0) return 0;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0644);   /* a stale name of a killed run is fine */
    if (fd < 0)
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: its folder is not writable (%s)", path,
                       strerror(errno));
    close(fd);
    unlink(probe);
    return 0;
}

/* What the checkpoint holds: the weights, the run record, and the groups the trainer
 * lists at init (its position, then each level's state from the stack). */
static hc_ckpt checkpoint_contents(const hc_trainer *t)
{
    return (hc_ckpt){&t->model, t->param, &t->record, t->ckpt_group, t->n_ckpt_groups};
}

int trainer_write_checkpoint(const hc_trainer *t, const char *path, hc_err *e)
{
    hc_ckpt ck = checkpoint_contents(t);
    return ckpt_save(&ck, path, e);
}

static int list_checkpoint_groups(hc_trainer *t)
{
    int n = 1 + stack_n_levels(&t->stack);
    hc_entry_group *g = calloc((size_t)n, sizeof *g);
    if (!g) return -1;
    snprintf(g[0].path, sizeof g[0].path, "state");
    const hc_entry position[] = {
        {"step", &t->step, 1, ENTRY_LONG}, {"epoch", &t->epoch, 1, ENTRY_LONG},
        {"pos", &t->pos, 1, ENTRY_LONG}, {"epoch_loss_sum", &t->epoch_loss_sum, 1, ENTRY_DOUBLE},
        {"epoch_samples", &t->epoch_samples, 1, ENTRY_LONG}};
    g[0].n = (int)(sizeof position / sizeof *position);
    memcpy(g[0].entry, position, sizeof position);
    for (int k = 0; k + 1 < n; k++) {
        snprintf(g[1 + k].path, sizeof g[1 + k].path, "state/level%d", k + 1);
        g[1 + k].n = stack_entries(&t->stack, k, g[1 + k].entry, HC_MAX_ENTRIES);
    }
    t->ckpt_group = g;
    t->n_ckpt_groups = n;
    return 0;
}

/* After a read: the position must be one this run can be at, the levels' counters
 * possible after it, and the data order (seed, shuffle) continues as the file's run had
 * it. A division, not epoch * steps_per_epoch: the file's epoch can be anything; no run
 * has more than INT_MAX epochs (--epochs is an int, and so are the metrics' counts). */
static int check_position(hc_trainer *t, const hc_run_record *file, const char *path, hc_err *e)
{
    const char *absent = file->seed < 0 ? "seed" : file->shuffle < 0 ? "shuffle" : NULL;
    if (absent)
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: has no attribute '%s' (not a "
                       "hyperclip checkpoint?)", path, absent);
    long spe = t->steps_per_epoch;
    if (t->step < 0 || t->epoch < 0 || t->pos < 0 || t->epoch > INT_MAX ||
        t->step / spe != t->epoch || t->step % spe != t->pos || t->epoch_samples < 0 ||
        t->epoch_samples > t->ds->train.n)
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: has inconsistent step counters", path);
    int level = stack_check_counters(&t->stack, t->step);
    if (level)
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: has inconsistent update counters "
                       "under /state/level%d", path, level);
    t->opt.seed = file->seed;
    t->opt.shuffle = file->shuffle != 0;
    return 0;
}

static int resume(hc_trainer *t, hc_err *e)
{
    const char *path = t->opt.resume_path;
    if (!path || (t->opt.resume_if_exists && access(path, F_OK) != 0)) return 0;
    hc_run_record file;
    hc_ckpt ck = checkpoint_contents(t);
    if (!ckpt_load(&ck, path, &file, e)) check_position(t, &file, path, e);
    runrec_free(&file);
    if (comm_agree(&t->comm, e)) return e->code;
    trainer_sync_position(t);       /* the epoch's order and the batch from the position */
    t->resumed = 1;
    return 0;
}

/* The stack over the model's weights, sliced by tensor (per_tensor step sizes). */
static int init_stack(hc_trainer *t, const hc_stack_spec *spec, hc_err *e)
{
    char names[HC_MAX_TENSORS][32];
    const char *name[HC_MAX_TENSORS];
    size_t begin[HC_MAX_TENSORS + 1];
    const hc_model *m = &t->model;
    for (int i = 0; i < m->n_tensors; i++) {
        snprintf(names[i], sizeof names[i], "%s.%s", m->tensors[i].layer, m->tensors[i].param);
        name[i] = names[i];
        begin[i] = m->tensors[i].offset;
    }
    begin[m->n_tensors] = m->n_params;
    hc_targets w = {m->n_params, m->n_tensors, begin, name};
    return stack_init_targets(&t->stack, spec, &w, e);
}

/* The canonical text of any length: the parser accepts any number of levels. */
static int format_stack(hc_trainer *t, const hc_stack_spec *spec)
{
    for (size_t size = 1024;; size *= 2) {
        char *s = realloc(t->stack_canon, size);
        if (!s) return -1;
        t->stack_canon = s;
        stack_format(spec, s, size);
        if (strlen(s) + 1 < size) return 0;
    }
}

int trainer_init(hc_trainer *t, const hc_trainer_options *opt, const hc_dataset *ds, MPI_Comm comm,
                 hc_err *e)
{
    hc_stack_spec spec = {0};
    memset(t, 0, sizeof *t);
    t->opt = *opt;
    t->ds = ds;
    hc_flush_subnormals();
    if (opt->batch < 1) return hc_fail(e, HC_ERR_USAGE, "--batch must be at least 1");
    if (ds->train.n < 1 || ds->test.n < 1)
        return hc_fail(e, HC_ERR_RUNTIME, "the data set has no training or no test samples");
    runrec_clear(&t->record);
    if (stack_parse(opt->stack_text, &spec, e)) return e->code;
    if (format_stack(t, &spec) || (opt->record && runrec_copy(&t->record, opt->record)) ||
        runrec_set_config(&t->record, opt->data_path, ds, opt->model_name, t->stack_canon,
                          opt->batch, opt->seed, opt->shuffle, opt->epochs, opt->checkpoint_every,
                          opt->checkpoint_path, opt->metrics_path, e)) {
        hc_fail(e, HC_ERR_RUNTIME, "out of memory for the run record");
        goto fail;
    }
    t->record.reproducible = opt->reproducible;

    int size;
    MPI_Comm_size(comm, &size);
    t->record.nranks = size;
    int local_max = (opt->batch + size - 1) / size;
    int max_batch = local_max > HC_SCORE_CHUNK ? local_max : HC_SCORE_CHUNK;  /* also the evaluation chunk */
    /* Until here every check gives the same answer on every rank; from here a rank may
     * run out of memory alone: each failure is agreed on before the next collective, so
     * that every rank stops with the same message and none waits for the one gone. */
    if (model_create(&t->model, opt->model_name, ds->channels, ds->height, ds->width,
                     ds->n_classes, max_batch, e) ||
        init_stack(t, &spec, e))
        goto agree_on_setup;
    stack_spec_free(&spec);
    if (list_checkpoint_groups(t)) hc_fail(e, HC_ERR_RUNTIME, "out of memory for the trainer");
agree_on_setup:
    if (comm_agree_on(comm, e)) goto fail;
    size_t bucket = opt->bucket_elems ? opt->bucket_elems : HC_BUCKET_ELEMS;   /* 0: one */
    if (check_sharding(opt, e)) goto fail;
    int sharded = use_sharded_update(opt, t->model.n_params, size);
    if (comm_init(&t->comm, comm, t->model.n_params, bucket, sharded, opt->watchdog, e)) goto fail;
    size_t part_lo, part_hi;
    comm_weight_part(&t->comm, &part_lo, &part_hi);
    stack_set_weight_range(&t->stack, part_lo, part_hi);
    if (opt->reproducible) {
        if (reproducible_init(t, e)) goto agree_on_buffers;
    } else {
        t->model.grad_ready = on_grad_ready;
        t->model.grad_ready_ctx = &t->comm;
        t->model.grad_slice = bucket;
    }
    t->clock.current = N_PHASES;

    size_t np = t->model.n_params;
    /* 64-byte aligned: the update and the gather write them with whole vectors */
    if (posix_memalign((void **)&t->param, 64, np * sizeof *t->param)) t->param = NULL;
    if (posix_memalign((void **)&t->x, 64, (size_t)max_batch * (size_t)ds->sample_size * sizeof *t->x))
        t->x = NULL;
    t->y = malloc((size_t)max_batch * sizeof *t->y);
    t->order = malloc((size_t)ds->train.n * sizeof *t->order);
    t->index = malloc((size_t)max_batch * sizeof *t->index);
    t->hypergrad = calloc((size_t)stack_n_hyper(&t->stack, 0), sizeof *t->hypergrad);
    if (!t->param || !t->x || !t->y || !t->order || !t->index || !t->hypergrad || make_columns(t))
        hc_fail(e, HC_ERR_RUNTIME, "out of memory for the trainer");
agree_on_buffers:
    if (comm_agree(&t->comm, e)) goto fail;
    t->steps_per_epoch = (ds->train.n + opt->batch - 1) / opt->batch;
    if (opt->init_path) {
        if (load_init(t, e)) goto fail;
    } else {
        model_init_params(&t->model, t->param, (uint64_t)opt->seed);
    }
    trainer_sync_position(t);
    if (resume(t, e)) goto fail;
    if (!probe_checkpoint_dir(t, e)) open_metrics(t, e);
    if (comm_agree_on(comm, e)) goto fail;
    return 0;
fail:
    stack_spec_free(&spec);
    trainer_free(t);
    return e->code;
}

void trainer_print_start(const hc_trainer *t, FILE *f, int threads, const char *copies)
{
    const hc_dataset *ds = t->ds;
    fprintf(f, "hyperclip %s: %d rank%s x %d BLIS thread%s; model %s, %zu parameters%s\n"
            "  stack %s\n  data %s (%s): %d train, %d test (%s); global batch %d, %d "
            "steps/epoch\n",
            HC_VERSION, t->comm.size, t->comm.size > 1 ? "s" : "", threads, threads > 1 ? "s" : "",
            t->model.name, t->model.n_params, t->comm.sharded ? "; sharded update" : "",
            t->stack_canon, ds->name, t->opt.data_path, ds->train.n, ds->test.n, copies,
            t->opt.batch, t->steps_per_epoch);
    fflush(f);
}

void trainer_free(hc_trainer *t)
{
    free(t->stack_canon);
    free(t->ckpt_group);
    runrec_free(&t->record);
    if (t->have_metrics) metrics_free(&t->metrics);
    if (t->cols)
        for (int i = 0; i < t->n_cols; i++) free(t->cols[i]);
    free(t->cols);
    free(t->param); free(t->x); free(t->y); free(t->order); free(t->index); free(t->hypergrad);
    comm_free(&t->comm);
    repro_free(&t->repro);
    stack_free(&t->stack);
    model_destroy(&t->model);
    memset(t, 0, sizeof *t);
}

/* ---- the step ---- */

static double now(void) { return MPI_Wtime(); }

void trainer_clock_start(hc_trainer *t, int on)
{
    memset(&t->clock, 0, sizeof t->clock);
    t->clock.on = on;
    t->clock.current = N_PHASES;
}

const hc_phase_clock *trainer_clock(const hc_trainer *t) { return &t->clock; }

/* Ends the running phase and starts `next` (N_PHASES: the step is over). */
static void phase(hc_trainer *t, hc_phase next)
{
    hc_phase_clock *c = &t->clock;
    if (!c->on) return;
    double n = now();
    if (c->current < N_PHASES) c->seconds[c->current] += n - c->mark;
    c->mark = n;
    c->current = next;
}

/* --reproducible: every virtual shard of this rank on its own, then the exact sum. */
static int gradients_reproducible(hc_trainer *t, hc_err *e)
{
    hc_repro *r = &t->repro;
    const int *batch = t->order + (size_t)t->pos * t->opt.batch;
    hc_real scale = (hc_real)(1.0 / t->batch_n);
    for (int j = 0; j < r->count; j++) {
        int begin, end;
        repro_shard(r, j, t->batch_n, &begin, &end);
        phase(t, PHASE_GATHER);
        dataset_gather(t->ds, &t->ds->train, batch + begin, end - begin, t->x, t->y);
        phase(t, PHASE_MODEL);
        r->slot[r->first + j] = t->model.ops->train_batch(&t->model, t->param, t->x, t->y,
                                                          end - begin, scale,
                                                          repro_shard_grad(r, j));
    }
    phase(t, PHASE_COMM);
    double loss_sum;
    int stop;
    if (repro_reduce(r, &t->comm, t->comm.grad, stop_signals > 0, &loss_sum, &stop, e))
        return e->code;
    t->loss = loss_sum / t->batch_n;
    t->stop_requested = stop;
    phase(t, PHASE_HYPERGRAD);
    stack_local_hypergrads(&t->stack, t->comm.grad, t->hypergrad);
    return 0;
}

int trainer_gradients(hc_trainer *t, hc_err *e)
{
    if (t->repro.n_virtual) return gradients_reproducible(t, e);
    int begin, end;
    comm_shard(t->comm.rank, t->comm.size, t->batch_n, &begin, &end);
    const int *idx = t->order + (size_t)t->pos * t->opt.batch + begin;
    int n = end - begin;
    /* the mean is over the step's global minibatch, whatever the number of ranks */
    hc_real scale = (hc_real)(1.0 / t->batch_n);

    phase(t, PHASE_GATHER);
    comm_step_begin(&t->comm);
    dataset_gather(t->ds, &t->ds->train, idx, n, t->x, t->y);
    phase(t, PHASE_MODEL);
    double loss_sum = t->model.ops->train_batch(&t->model, t->param, t->x, t->y, n, scale,
                                                t->comm.grad);
    phase(t, PHASE_COMM);
    t->comm.slot[COMM_LOSS] = loss_sum / t->batch_n;
    t->comm.slot[COMM_STOP] = stop_signals > 0;
    if (comm_step_finish(&t->comm, e)) return e->code;
    t->loss = t->comm.slot[COMM_LOSS];
    t->stop_requested = t->comm.slot[COMM_STOP] > 0;   /* the same on every rank */
    phase(t, PHASE_HYPERGRAD);
    stack_local_hypergrads(&t->stack, comm_reduced_grad(&t->comm), t->hypergrad);
    return comm_sum_shares(&t->comm, t->hypergrad, stack_n_hyper(&t->stack, 0), e);   /* sharded */
}

const double *trainer_hypergrads(const hc_trainer *t) { return t->hypergrad; }
double trainer_batch_loss(const hc_trainer *t) { return t->loss; }

int trainer_advance(hc_trainer *t, hc_err *e)
{
    if (t->have_metrics) {
        double *row;
        if (metrics_row(&t->metrics, &row, e)) return e->code;
        fill_row(t, row);
    }
    t->epoch_loss_sum += t->loss * t->batch_n;
    t->epoch_samples += t->batch_n;
    t->step++;
    if (++t->pos == t->steps_per_epoch) {
        t->pos = 0;
        t->epoch++;
        set_epoch_order(t);
    }
    set_batch_size(t);
    return 0;
}

int trainer_step(hc_trainer *t, hc_err *e)
{
    if (trainer_gradients(t, e)) return e->code;
    phase(t, PHASE_HYPER);
    stack_hypergrads(&t->stack, t->hypergrad);
    stack_update_hypers(&t->stack);
    phase(t, PHASE_WEIGHTS);
    stack_update_weights(&t->stack, t->param, comm_reduced_grad(&t->comm));
    phase(t, PHASE_COMM);
    if (comm_gather_weights(&t->comm, t->param, e)) return e->code;   /* sharded */
    phase(t, PHASE_ADVANCE);
    int rc = trainer_advance(t, e);
    phase(t, N_PHASES);
    return rc;
}

/* --reproducible: fixed chunks of samples whatever the ranks, their sums in chunk order. */
_Static_assert(HC_REPRO_EVAL_CHUNK <= HC_SCORE_CHUNK,
               "a --reproducible evaluation chunk must be one batch of the model (its bits)");
static int evaluate_reproducible(hc_trainer *t, const hc_split *split, double *sums, hc_err *e)
{
    int first, end, chunks = (split->n + HC_REPRO_EVAL_CHUNK - 1) / HC_REPRO_EVAL_CHUNK;
    repro_eval_chunks(&t->repro, split->n, t->comm.rank, t->comm.size, &first, &end);
    for (int c = first; c < end; c++) {
        int i = c * HC_REPRO_EVAL_CHUNK;
        int n = split->n - i < HC_REPRO_EVAL_CHUNK ? split->n - i : HC_REPRO_EVAL_CHUNK;
        double chunk[2] = {0.0, 0.0};  /* one batch: the model holds >= HC_SCORE_CHUNK */
        score_range(&t->model, t->param, t->ds, split, i, i + n, t->x, t->y, t->index, chunk);
        repro_eval_record(&t->repro, c, chunk[0], chunk[1]);
    }
    return repro_eval_total(&t->repro, &t->comm, chunks, &sums[0], &sums[1], e);
}

int trainer_evaluate(hc_trainer *t, const hc_split *split, double *loss, double *error,
                     hc_err *e)
{
    double sums[2] = {0.0, 0.0};    /* loss, correct */
    if (t->repro.n_virtual) {
        if (evaluate_reproducible(t, split, sums, e)) return e->code;
    } else {
        int begin, end;
        comm_shard(t->comm.rank, t->comm.size, split->n, &begin, &end);
        score_range(&t->model, t->param, t->ds, split, begin, end, t->x, t->y, t->index, sums);
        if (comm_allreduce(&t->comm, sums, 2, MPI_DOUBLE, MPI_SUM, "the evaluation's allreduce", e))
            return e->code;
    }
    *loss = sums[0] / split->n;
    *error = 1.0 - sums[1] / split->n;
    return 0;
}

/* ---- the run, with its output on rank 0 ---- */

/* Under mpirun a rank's stdout is always a pty, so "a terminal" also needs a controlling
 * terminal: a batch job or a pipe has none, an interactive shell does. */
static int on_terminal(void)
{
    if (!isatty(1)) return 0;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

static void fmt_seconds(double s, char *buf, size_t n)
{
    if (s < 60) snprintf(buf, n, "%.1fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static void print_hypers(const hc_trainer *t, FILE *f)
{
    for (int h = 0; h < stack_n_hyper(&t->stack, 0); h++)
        fprintf(f, "  %s %.4g", stack_hyper_name(&t->stack, 0, h), stack_effective(&t->stack, 0, h));
}

static void progress_bar(const hc_trainer *t, double started)
{
    int width = 30;
    long done = t->pos ? t->pos : t->steps_per_epoch;
    int fill = (int)(width * done / t->steps_per_epoch);
    double el = now() - started;
    printf("\r  epoch %ld [%.*s%*s] %ld/%d  loss %.4f  %.0f samples/s ", t->epoch + (t->pos > 0),
           fill, "==============================", width - fill, "", done, t->steps_per_epoch,
           t->loss, el > 0 ? (double)t->step * t->opt.batch / el : 0.0);
    fflush(stdout);
}

static int weights_agree(hc_trainer *t, hc_err *e)
{
    uint64_t sum = checksum64(t->param, t->model.n_params * sizeof *t->param);
    sum ^= checksum64(stack_raw(&t->stack, 0), (size_t)stack_n_hyper(&t->stack, 0) * sizeof(double));
    return comm_check_identical(&t->comm, sum, "the weights", e);
}

/* Epoch end (or the run's end mid-epoch): evaluate, check ranks, print, record. The
 * epoch's loss sums restart only at a real epoch end, so a checkpoint taken mid-epoch
 * continues the epoch's train_loss exactly. */
static int end_of_epoch(hc_trainer *t, int complete, double epoch_seconds, double rate,
                        double eta, double run_started, double *test_error, hc_err *e)
{
    double test_loss, err;
    if (trainer_evaluate(t, &t->ds->test, &test_loss, &err, e)) return e->code;
    if (weights_agree(t, e)) return e->code;
    double train_loss = t->epoch_samples ? t->epoch_loss_sum / t->epoch_samples : NAN;
    *test_error = err;
    if (t->comm.rank == 0) {
        char s_el[32], s_eta[32];
        fmt_seconds(now() - run_started, s_el, sizeof s_el);
        fmt_seconds(eta, s_eta, sizeof s_eta);
        if (!t->opt.quiet) {
            printf("%sepoch %3ld/%d  train_loss %.4f  test_loss %.4f  test_error %6.2f%%",
                   t->opt.progress ? "\r\033[K" : "", t->epoch + !complete, t->opt.epochs,
                   train_loss, test_loss, 100 * err);
            print_hypers(t, stdout);
            printf("  %.0f samples/s  elapsed %s  ETA %s\n", rate, s_el, s_eta);
            fflush(stdout);
        }
        double row[HC_EPOCH_COLS] = {train_loss, test_loss, err, epoch_seconds, rate};
        if (t->have_metrics) metrics_epoch(&t->metrics, row, e);   /* agreed below */
    }
    if (complete) {
        t->epoch_loss_sum = 0.0;
        t->epoch_samples = 0;
    }
    return comm_agree(&t->comm, e);
}

static int all_finite(const hc_real *v, size_t n)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= isfinite(v[i]) != 0;
    return ok;
}

/* Sharded update: level 1's per-weight arrays (state, D) are whole on rank 0 only after
 * every rank's part is gathered there; the checkpoint writes them. */
static int gather_weight_state(hc_trainer *t, hc_err *e)
{
    const hc_entry_group *level1 = &t->ckpt_group[1];
    for (int i = 0; i < level1->n; i++) {
        const hc_entry *en = &level1->entry[i];
        if (en->type == ENTRY_REAL && en->count == t->model.n_params &&
            comm_gather_to_root(&t->comm, en->ptr, e))
            return e->code;
    }
    return 0;
}

/* Metrics first, then the checkpoint: a metrics file never lacks a checkpointed step.
 * Weights gone non-finite (the loss follows a step later) never replace a good
 * checkpoint; every rank holds the same weights, so all skip together. */
static int checkpoint(hc_trainer *t, hc_err *e)
{
    if (!t->opt.checkpoint_path || !all_finite(t->param, t->model.n_params)) return 0;
    double started = now();
    if (gather_weight_state(t, e)) return e->code;
    if (t->comm.rank == 0 && !(t->have_metrics && metrics_flush(&t->metrics, e)))
        trainer_write_checkpoint(t, t->opt.checkpoint_path, e);
    t->ckpt_seconds += now() - started;
    t->ckpt_writes++;
    return comm_agree_after(&t->comm, "the others after its checkpoint write (a slow file "
                            "system needs a larger --watchdog)", e);
}

static void print_final(const hc_trainer *t, double test_error, double seconds)
{
    char s_el[32];
    fmt_seconds(seconds, s_el, sizeof s_el);
    if (t->ckpt_writes)
        printf("checkpoints: %d written to %s, %.1f ms each\n", t->ckpt_writes,
               t->opt.checkpoint_path, 1e3 * t->ckpt_seconds / t->ckpt_writes);
    printf("final test error: %.2f%% after %ld steps (%ld epoch%s%s), %s\n", 100 * test_error,
           t->step, t->epoch + (t->pos > 0), t->epoch + (t->pos > 0) == 1 ? "" : "s",
           t->pos > 0 ? ", the last one partial" : "", s_el);
    fflush(stdout);
}

/* How a run ended, said once: a stop by a signal (checkpoint written: exit 75 asks for a
 * requeue), a divergence (the loss, or a hyperparameter or the weights under a finite
 * loss, went non-finite), or the end; returns the exit code. */
static int run_outcome(hc_trainer *t, int diverged, const char *first_bad, long bad_step,
                       double test_error, double seconds, hc_err *e)
{
    if (t->stop_requested && !diverged) {
        if (!t->opt.checkpoint_path)
            return hc_fail(e, HC_ERR_RUNTIME, "stopped by a signal at step %ld; no --checkpoint was "
                           "given, so this run cannot be resumed", t->step);
        if (first_bad[0])
            return hc_fail(e, HC_ERR_RUNTIME, "stopped by a signal at step %ld after %s became "
                           "non-finite: the last good checkpoint was kept", t->step, first_bad);
        if (t->comm.rank == 0) {
            printf("stopped by a signal at step %ld: checkpoint %s written; exit %d asks for a "
                   "requeue (resume with --resume %s)\n", t->step, t->opt.checkpoint_path,
                   HC_EXIT_REQUEUE, t->opt.checkpoint_path);
            fflush(stdout);
        }
        return HC_EXIT_REQUEUE;
    }
    /* a hyperparameter gone non-finite under a finite loss is a divergence too: its
     * numbers are wrong, and no checkpoint was written after it (never silently) */
    int bad_hyper = first_bad[0] && !diverged;
    if (t->comm.rank == 0) {
        if (diverged)
            printf("diverged: the loss became non-finite at step %ld%s%s; stopped early\n",
                   t->step, first_bad[0] ? ", first non-finite hyperparameter: " : "", first_bad);
        if (bad_hyper)
            printf("diverged: %s became non-finite by step %ld (the loss stayed finite)%s\n",
                   first_bad, bad_step,
                   t->opt.checkpoint_path ? "; no checkpoint was written after it" : "");
        print_final(t, test_error, seconds);
    }
    return diverged || bad_hyper ? HC_EXIT_DIVERGED : HC_OK;
}

int trainer_run(hc_trainer *t, hc_err *e)
{
    long total = (long)t->opt.epochs * t->steps_per_epoch;
    if (t->opt.max_steps > 0 && t->opt.max_steps < total) total = t->opt.max_steps;
    int tty = t->comm.rank == 0 && (t->opt.progress > 0 || (t->opt.progress < 0 && on_terminal()));
    t->opt.progress = tty;
    double started = now(), epoch_started = started, last_bar = 0.0, test_error = NAN;
    long first_step = t->step, samples_before = t->epoch_samples;  /* of a resumed epoch */
    char first_bad[64] = "";
    long bad_step = 0;                  /* the step after which first_bad was non-finite */
    int diverged = 0;

    trainer_catch_stop_signals();
    if (t->resumed && t->comm.rank == 0)
        printf("resumed from %s at step %ld (epoch %ld, step %ld of it)\n", t->opt.resume_path,
               t->step, t->epoch + 1, t->pos);
    if (t->step >= total) {             /* a finished run, resumed: nothing left to do */
        double loss;
        if (trainer_evaluate(t, &t->ds->test, &loss, &test_error, e)) return e->code;
        if (t->comm.rank == 0) print_final(t, test_error, 0.0);
        return HC_OK;
    }
    while (t->step < total) {
        if (trainer_step(t, e)) return e->code;
        if (!first_bad[0] && stack_nonfinite_hyper(&t->stack, first_bad, sizeof first_bad)) bad_step = t->step;
        diverged = !isfinite(t->loss);           /* same value on every rank */
        int epoch_done = t->pos == 0;
        if (tty && !epoch_done && now() - last_bar > 0.25) {
            progress_bar(t, started);
            last_bar = now();
        }
        if (epoch_done || diverged || t->step == total) {
            double el = now() - started;
            double eta = el / (double)(t->step - first_step) * (double)(total - t->step);
            double secs = now() - epoch_started;
            double rate = (double)(t->epoch_samples - samples_before) / secs;
            if (end_of_epoch(t, epoch_done, secs, rate, eta, started, &test_error, e))
                return e->code;
            epoch_started = now();
            samples_before = 0;
        }
        if (diverged) break;                     /* keep the last good checkpoint */
        long every = t->opt.checkpoint_every;
        int due = epoch_done || t->step == total || t->stop_requested || (every && t->step % every == 0);
        if (due && !first_bad[0] && !all_finite(t->param, t->model.n_params)) {  /* same on every rank */
            snprintf(first_bad, sizeof first_bad, "the weights");
            bad_step = t->step;
        }
        if (due && !first_bad[0] && checkpoint(t, e))   /* never save a non-finite state */
            return e->code;
        if (t->stop_requested) break;
        /* rows go to disk between steps, never inside one; rank 0's outcome is agreed */
        if (t->step % METRICS_ROWS == 0) {
            if (t->have_metrics) metrics_flush(&t->metrics, e);
            if (comm_agree(&t->comm, e)) return e->code;
        }
    }
    if (t->have_metrics) metrics_flush(&t->metrics, e);
    if (comm_agree(&t->comm, e)) return e->code;
    return run_outcome(t, diverged, first_bad, bad_step, test_error, now() - started, e);
}
