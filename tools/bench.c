/* bench.c - times the training step phase by phase (issue 4).
 *
 *   mpirun -np P tools/bench [--data DIR] [--stack SPEC] [--batch B] [--steps N]
 *                            [--warmup W] [--threads T] [--independent] [--json]
 *   mpirun -np P tools/bench --scaling [--data DIR] [--stack SPEC] [--batch B] [--steps N]
 *
 * It builds a trainer through the public API and runs its own step, trainer_step(),
 * with the trainer's phase clock on (train.h), so the phases are those of the real step:
 *   gather        dataset_gather of this rank's shard
 *   model         forward, loss, backward (the buckets' allreduces start inside it)
 *   comm          the rest of the allreduce: the time a rank waits for the slowest and
 *                 for the transfer that the backward did not hide
 *   hypergrad     level-1 hypergradients g . D from the summed gradient
 *   hyper         higher levels' hypergradients, clip, hyperparameter updates
 *   weights       the level-1 update of the weights and its D
 *   advance       trainer_advance (bookkeeping; no metrics file here)
 * The model phase is split into GEMM and element-wise time by replaying, right after
 * the step and outside its clock, the model's GEMMs with the same shapes and strides
 * on the same inputs: what the model phase took beyond them is element-wise work
 * (activations, loss, bias gradients). A standalone loop over the same shapes,
 * interleaved with the steps so both see the same machine, gives BLIS's rate on them
 * and with it the GEMM-bound time of a step. The communication probe, also interleaved,
 * times the step's own reduction path (comm_step_begin / grad_ready / finish, no
 * compute) against one bare MPI_SUM allreduce of the same gradient bytes.
 *
 * On a shared machine a step is sometimes interrupted by another process. Every step
 * records its wall and CPU time; a step whose CPU time falls short of its wall time on
 * any rank was interrupted, and the figures are over the undisturbed steps (all steps'
 * wall-clock throughput is reported beside them). GEMM calls are screened the same way.
 *
 * --independent is the ceiling of data parallelism on this machine: every rank trains
 * its own trainer on MPI_COMM_SELF with batch B/P (its shard of the global batch), all
 * at the same time, with no allreduce. The throughput it reports (P shards per step) is
 * what P ranks would reach if communication cost nothing and the optimizer work shrank
 * with P, on these cores as they run when all are busy.
 *
 * --scaling answers "how much faster are P ranks than one" inside one run, so that the
 * ratio does not depend on which core or which minute each run got: three trainers run
 * real trainer_step()s, interleaved in blocks of 25 steps: one rank alone (rank 0, the
 * global batch on MPI_COMM_SELF; the other ranks sleep), all P ranks (the global batch
 * split, one allreduce a step), and P independent ranks (the ceiling above). It prints
 * each one's throughput over the undisturbed steps and the ratios.
 *
 * Without --data the data set is generated in memory with MNIST's shape (60000 train
 * samples of 28x28, 10 classes), so the bench runs anywhere, CI included. */
#define _GNU_SOURCE     /* blis.h would otherwise pin the headers to strict POSIX */
#include <blis.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "../tests/argparse.h"   /* the option parser shared with the generators */
#include "gemm.h"
#include "../tests/testdata.h"   /* the generated MNIST-shaped data set */
#include "data_shared.h"
#include "train.h"

/* ---- allocation counter ----
 * The step must not allocate. The bench counts the allocations made while `counting`
 * is set, i.e. inside the timed phases of a step; the allreduce is counted apart (what
 * MPI does inside is outside this project). Normally it replaces malloc, calloc and
 * realloc (glibc lets an executable do that; the real allocator stays underneath);
 * under AddressSanitizer, which owns malloc, it uses the sanitizer's allocation hook
 * (there BLIS allocates a small block per GEMM call, which it does not in a plain
 * build: trust the plain build's count). */
static int counting;            /* 1: inside trainer_step, 0: off */
static const hc_phase_clock *step_clock;   /* the trainer's: which phase allocates */
static long allocs_step, allocs_allreduce;

static void count_alloc(void)
{
    if (!counting) return;
    if (step_clock && step_clock->current == PHASE_COMM) allocs_allreduce++;
    else allocs_step++;
}

#if defined(__SANITIZE_ADDRESS__)
int __sanitizer_install_malloc_and_free_hooks(void (*on_malloc)(const volatile void *, size_t),
                                              void (*on_free)(const volatile void *));
static void on_malloc(const volatile void *p, size_t n) { count_alloc(); }
static void on_free(const volatile void *p) {}
static void alloc_counter_start(void) { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n) { count_alloc(); return __libc_malloc(n); }
void *calloc(size_t k, size_t n) { count_alloc(); return __libc_calloc(k, n); }
void *realloc(void *p, size_t n) { count_alloc(); return __libc_realloc(p, n); }
static void alloc_counter_start(void) {}
#endif

/* ---- options ---- */

typedef struct {
    const char *data, *stack;
    int batch, steps, warmup, threads, json, independent, scaling, private_data;
    long bucket;
    int reproducible, watchdog, sharded_update;
} bench_opts;

static const char usage_text[] =
    "usage: mpirun -np P tools/bench [--data DIR] [--stack SPEC] [--batch B] "
    "[--steps N] [--warmup W] [--threads T] [--bucket N] [--reproducible V] [--watchdog S] "
    "[--sharded-update auto|on|off] "
    "[--independent | --scaling] [--private-data] [--json]\n"
    "  defaults: generated MNIST-shaped data, the trainer's default stack, "
    "--batch 256 --steps 200 --warmup 20 --threads 1, the trainer's bucket size\n";

/* Returns 0 to run, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, bench_opts *o, int rank)
{
    hc_trainer_options d;
    trainer_options_defaults(&d);
    *o = (bench_opts){NULL, d.stack_text, 256, 200, 20, 1, 0, 0, 0, 0, 0, 0, d.watchdog,
                      d.sharded_update};
    FILE *err = rank == 0 ? stderr : NULL;   /* one message per run, from rank 0 */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (rank == 0) fputs(usage_text, stdout);
            return 1;
        } else if (!strcmp(a, "--json") || !strcmp(a, "--independent") ||
                   !strcmp(a, "--scaling") || !strcmp(a, "--private-data")) {
            *(a[2] == 'j' ? &o->json : a[2] == 'i' ? &o->independent
              : a[2] == 's' ? &o->scaling : &o->private_data) = 1;
            continue;
        } else if (!strcmp(a, "--data") || !strcmp(a, "--stack")) {
            if (arg_value(err, "bench", a, v)) return 2;
            *(a[2] == 'd' ? &o->data : &o->stack) = v;
        } else if (!strcmp(a, "--batch")) rc = arg_int(err, "bench", a, v, 1, 1 << 20, &o->batch);
        else if (!strcmp(a, "--steps")) rc = arg_int(err, "bench", a, v, 1, 10000000, &o->steps);
        else if (!strcmp(a, "--warmup")) rc = arg_int(err, "bench", a, v, 0, 10000000, &o->warmup);
        else if (!strcmp(a, "--threads")) rc = arg_int(err, "bench", a, v, 1, 1024, &o->threads);
        else if (!strcmp(a, "--watchdog"))
            rc = arg_int(err, "bench", a, v, 0, 7 * 24 * 3600, &o->watchdog);
        else if (!strcmp(a, "--sharded-update"))
            rc = arg_auto_on_off(err, "bench", a, v, &o->sharded_update);
        else if (!strcmp(a, "--reproducible"))
            rc = arg_int(err, "bench", a, v, 1, 4096, &o->reproducible);
        else if (!strcmp(a, "--bucket")) {
            int b = 0;
            rc = arg_int(err, "bench", a, v, 1, 1 << 30, &b);
            o->bucket = b;
        }
        else {
            if (rank == 0) {
                fprintf(stderr, "bench: unknown argument '%s'\n", a);
                fputs(usage_text, stderr);
            }
            return 2;
        }
        if (rc) return 2;
        i++;
    }
    if (o->independent && o->scaling) {
        if (rank == 0) fprintf(stderr, "bench: --scaling already runs the independent ranks\n");
        return 2;
    }
    return 0;
}

/* ---- clocks ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the process: on a shared machine, cpu/wall over the steps says how much
 * of the time the rank actually had a core (1.0: undisturbed). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The trainer's phases (hc_phase, in its order), then the GEMM replay. */
enum { P_GATHER, P_MODEL, P_COMM, P_HYPERGRAD, P_HYPER, P_WEIGHTS, P_ADVANCE, P_GEMM, N_BENCH_PHASES };
_Static_assert(P_GEMM == (int)N_PHASES, "the bench's phases start with the trainer's");
#undef N_PHASES
#define N_PHASES N_BENCH_PHASES

/* ---- the MLP's GEMMs, as model_mlp.c calls them ---- */

#define N_SHAPES 5

typedef struct {
    const char *name;
    dim_t m, n, k;
    const hc_real *A, *B;
    inc_t rsa, csa, rsb, csb;
    hc_real *C;
    inc_t rsc, csc;
} shape;

typedef struct {
    shape s[N_SHAPES];
    hc_real *scratch;           /* h1, out, d_out, d_h1, g_w1, g_w2: outputs and inputs */
    double flops;               /* per step, this rank: sum of 2mnk */
} gemm_set;

/* The same shapes, strides and inputs (batch x, weights) as model_mlp.c; activations and
 * gradients go to scratch so the trainer's state is untouched. Values do not change
 * BLIS's speed, so scratch holds any small numbers. */
static int gemm_set_init(gemm_set *g, const hc_trainer *t, int n)
{
    const hc_model *m = &t->model;
    const int H = m->tensors[0].dims[0], in = m->tensors[0].dims[1], C = m->tensors[2].dims[0];
    const hc_real *x = t->x, *w1 = t->param + m->tensors[0].offset,
                  *w2 = t->param + m->tensors[2].offset;
    size_t nb = n > 0 ? (size_t)n : 1;
    size_t sz[6] = {nb * H, nb * C, nb * C, nb * H, (size_t)H * in, (size_t)C * H}, total = 0;
    for (int i = 0; i < 6; i++) total += sz[i];
    if (posix_memalign((void **)&g->scratch, 64, total * sizeof(hc_real))) return -1;
    for (size_t i = 0; i < total; i++) g->scratch[i] = (hc_real)((double)(i % 97) / 97.0 - 0.5);
    hc_real *h1 = g->scratch, *out = h1 + sz[0], *d_out = out + sz[1], *d_h1 = d_out + sz[2],
            *g_w1 = d_h1 + sz[3], *g_w2 = g_w1 + sz[4];
    shape s[N_SHAPES] = {
        {"fwd1   x W1^T", n, H, in, x, w1, in, 1, 1, in, h1, H, 1},
        {"fwd2   h1 W2^T", n, C, H, h1, w2, H, 1, 1, H, out, C, 1},
        {"gradW2 dz2^T h1", C, H, n, d_out, h1, 1, C, H, 1, g_w2, H, 1},
        {"dH1    dz2 W2", n, H, C, d_out, w2, C, 1, H, 1, d_h1, H, 1},
        {"gradW1 dz1^T x", H, in, n, d_h1, x, 1, H, in, 1, g_w1, in, 1},
    };
    memcpy(g->s, s, sizeof s);
    g->flops = 0;
    for (int i = 0; i < N_SHAPES; i++) g->flops += 2.0 * s[i].m * s[i].n * s[i].k;
    return 0;
}

static void run_shape(const shape *s)
{
    if (s->m == 0 || s->n == 0 || s->k == 0) return;   /* an empty shard */
    gemm(s->m, s->n, s->k, 1, s->A, s->rsa, s->csa, s->B, s->rsb, s->csb, 0, s->C, s->rsc,
         s->csc);
}

/* A stretch of time, wall and CPU, and whether the process had a core throughout. */
typedef struct { double wall0, cpu0; } span;

static span span_start(void)
{
    span sp;
    sp.cpu0 = cpu_now();        /* the CPU clock brackets the wall clock */
    sp.wall0 = now();
    return sp;
}

#define QUIET 0.9               /* CPU/wall above this: nobody else ran meanwhile */

/* Wall seconds since start; *quiet tells whether the stretch was undisturbed. */
static double span_end(span sp, int *quiet)
{
    double wall = now() - sp.wall0, cpu = cpu_now() - sp.cpu0;
    *quiet = cpu >= QUIET * wall;
    return wall;
}

/* Standalone rate: every shape is timed call by call, in blocks spread over the run;
 * per shape, the median of the undisturbed calls is kept. */
#define N_BLOCKS 8
#define BLOCK_REPS 8
#define N_CALLS (N_BLOCKS * BLOCK_REPS)

typedef struct {
    double t[N_SHAPES][N_CALLS];    /* seconds per call */
    int quiet[N_SHAPES][N_CALLS];
    int done;                       /* blocks done */
} standalone;

static void standalone_block(standalone *sa, const gemm_set *g)
{
    for (int i = 0; i < N_SHAPES; i++) {
        run_shape(&g->s[i]);        /* the first call after other work packs cold */
        for (int r = 0; r < BLOCK_REPS; r++) {
            int c = sa->done * BLOCK_REPS + r;
            span sp = span_start();
            run_shape(&g->s[i]);
            sa->t[i][c] = span_end(sp, &sa->quiet[i][c]);
        }
    }
    sa->done++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts them); 0 for none. */
static double median(double *v, int n)
{
    if (n == 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median of the undisturbed calls of shape i (of all calls if none was). */
static double standalone_median(standalone *sa, int i)
{
    double v[N_CALLS];
    int n = 0;
    for (int c = 0; c < N_CALLS; c++)
        if (sa->quiet[i][c]) v[n++] = sa->t[i][c];
    if (n == 0) {
        memcpy(v, sa->t[i], sizeof v);
        n = N_CALLS;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- one step, phase by phase (the order of trainer_step) ---- */

/* What one step leaves in the record: wall seconds per phase (P_GEMM: the replay),
 * the step's wall time without the replay, whether it was undisturbed, and its global
 * batch. Undisturbed also asks that nothing interrupted the rank since its previous
 * step (the replay, a standalone block): a rank that starts late makes the others wait
 * in a step of their own that looks undisturbed. *since is where that stretch began. */
enum { R_WALL = N_PHASES, R_QUIET, R_SAMPLES, N_REC };

static int timed_step(hc_trainer *t, const gemm_set *g, double *rec, span *since, hc_err *e)
{
    const hc_phase_clock *clock = trainer_clock(t);
    double before[P_GEMM];
    rec[R_SAMPLES] = t->batch_n;
    memcpy(before, clock->seconds, sizeof before);

    int quiet_before;
    span_end(*since, &quiet_before);
    span sp = span_start();
    step_clock = clock;
    counting = 1;
    int rc = trainer_step(t, e);
    counting = 0;
    int quiet_step, quiet_gemm = 1;
    rec[R_WALL] = span_end(sp, &quiet_step);
    *since = span_start();
    if (rc) return rc;
    for (int p = 0; p < P_GEMM; p++) rec[p] = clock->seconds[p] - before[p];

    /* The replay: the batch's GEMMs again, now on their own clock. The x of this batch
     * is still in t->x (trainer_advance only moves the position). */
    rec[P_GEMM] = 0;
    if (g->s[0].m > 0) {
        span gs = span_start();
        for (int i = 0; i < N_SHAPES; i++) run_shape(&g->s[i]);
        rec[P_GEMM] = span_end(gs, &quiet_gemm);
    }
    rec[R_QUIET] = quiet_before && quiet_step && quiet_gemm;
    return 0;
}

/* ---- the communication probe ----
 * The step's reduction path alone (the buckets announced in backward order, as the
 * backward does, then finish) against one bare MPI_SUM allreduce of the same gradient;
 * medians over the reps. Whichever collective comes first after a training step pays for
 * the caches the step evicted (about 0.015 ms here, as much as the whole difference once
 * measured), so each timed one starts from evicted caches, as the step's reduction does
 * after the backward, and the two take turns going first. */
typedef struct { int n; double step[64], bare[64], rsag[64]; } comm_probe;

/* The communication a sharded update would need instead (issue 11): reduce-scatter of
 * the gradient (each rank gets the sum of its 1/P), then an allgather of the updated
 * weights (the same bytes). Padded to a multiple of P; the scratch is the bench's. */
static double reduce_scatter_allgather(hc_comm *c)
{
    int P = c->size, part = (int)((c->n_reals + (size_t)P - 1) / (size_t)P);
    static float *buf, *mine;
    if (!buf) {
        buf = calloc((size_t)part * P, sizeof *buf);
        mine = calloc((size_t)part, sizeof *mine);
        if (!buf || !mine) return 0;
    }
    MPI_Barrier(c->comm);
    double t0 = now();
    MPI_Reduce_scatter_block(buf, mine, part, MPI_FLOAT, MPI_SUM, c->comm);
    MPI_Allgather(mine, part, MPI_FLOAT, buf, part, MPI_FLOAT, c->comm);
    return now() - t0;
}

/* Evicts what the collectives touch from the caches, as a training step does before the
 * step's reduction (the bench's scratch). */
static void evict_caches(void)
{
    enum { EVICT_BYTES = 8 << 20 };
    static volatile unsigned char *scratch;
    if (!scratch && !(scratch = calloc(EVICT_BYTES, 1))) return;
    for (size_t i = 0; i < EVICT_BYTES; i += 64) scratch[i]++;
}

/* The step's reduction path, timed from a barrier: under the sharded update also the
 * sum of the three level-1 shares and the weights' allgather (here into the gradient). */
static double probe_step_path(hc_comm *c, hc_err *e)
{
    double shares[3] = {0};
    evict_caches();
    MPI_Barrier(c->comm);
    double t0 = now();
    comm_step_begin(c);
    for (size_t end = c->n_reals; end > 0;) {
        size_t begin = end > c->bucket_elems ? end - c->bucket_elems : 0;
        comm_grad_ready(c, begin, end - begin);
        end = begin;
    }
    comm_step_finish(c, e);
    comm_sum_shares(c, shares, 3, e);
    comm_gather_weights(c, c->grad, e);
    return now() - t0;
}

/* The bare allreduce, timed from a barrier. */
static double probe_bare(hc_comm *c, hc_err *e)
{
    evict_caches();
    MPI_Barrier(c->comm);
    double t0 = now();
    comm_allreduce_bare(c, e);
    return now() - t0;
}

static void comm_probe_block(comm_probe *cp, hc_comm *c, hc_err *e)
{
    if (c->size == 1 || cp->n >= 64) return;
    if (cp->n & 1) {
        cp->bare[cp->n] = probe_bare(c, e);
        cp->step[cp->n] = probe_step_path(c, e);
    } else {
        cp->step[cp->n] = probe_step_path(c, e);
        cp->bare[cp->n] = probe_bare(c, e);
    }
    cp->rsag[cp->n] = reduce_scatter_allgather(c);
    cp->n++;
}

/* This process's proportional set size in MB (a page shared by k processes counts 1/k):
 * what a rank adds to its node's memory. 0 where /proc does not tell. */
static double pss_mb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    double kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %lf kB", &kb) == 1) break;
    fclose(f);
    return kb / 1024.0;
}

/* ---- report ---- */

typedef struct {
    int ranks, threads, batch, local_batch, steps, warmup, steps_quiet, independent;
    const char *stack, *data;
    double step_s, samples_per_s, samples_per_s_all, phase_s[N_PHASES], elementwise_s;
    double gemm_flops, gemm_gflops_step, blis_gflops, gemm_bound_s;
    double shape_gflops[N_SHAPES], shape_flops[N_SHAPES];
    double rss_mb_max, rss_mb_mean, pss_mb_min, pss_mb_max, pss_mb_sum, loss_first, loss_last;
    double cpu_share;
    long allocs_step, allocs_allreduce;
    double probe_step_s, probe_bare_s, probe_rsag_s;
    long bucket;
    int reproducible, watchdog, sharded;
} result;

static const char *const phase_key[N_PHASES] = {
    "gather", "model", "comm", "hypergrad", "hyper", "weights", "advance", "gemm"};

static void print_table(const result *r, const gemm_set *g)
{
    double ms = 1e3;
    printf("hyperclip bench: %d rank%s x %d BLIS thread%s, global batch %d (%d per rank)%s\n"
           "  stack %s\n  data %s\n", r->ranks, r->ranks > 1 ? "s" : "", r->threads,
           r->threads > 1 ? "s" : "", r->batch, r->local_batch,
           r->independent ? ", independent ranks (no allreduce: the ceiling)" : "", r->stack,
           r->data);
    if (r->sharded)
        printf("  sharded update: each rank updates its 1/%d of the weights (reduce-scatter, "
               "allgather)\n", r->ranks);
    if (r->reproducible)
        printf("  --reproducible %d: the batch in %d virtual shards, gradients summed exactly "
               "(the GEMM replay below is one shard-less batch)\n", r->reproducible,
               r->reproducible);
    printf("  %d steps after %d warm-up, %d of them undisturbed (CPU share %.2f): %.3f ms/step, "
           "%.0f samples/s\n  all steps, wall clock: %.0f samples/s; loss %.4f -> %.4f\n\n",
           r->steps, r->warmup, r->steps_quiet, r->cpu_share, r->step_s * ms, r->samples_per_s,
           r->samples_per_s_all, r->loss_first, r->loss_last);
    struct { const char *label; double s; } rows[] = {
        {"data gather", r->phase_s[P_GATHER]},
        {"GEMM (5 calls)", r->phase_s[P_GEMM]},
        {"element-wise (activations, loss, bias grads)", r->elementwise_s},
        {"communication not hidden by the backward (+ wait)", r->phase_s[P_COMM]},
        {"level-1 hypergradients (g . D)", r->phase_s[P_HYPERGRAD]},
        {"clip + hyperparameter levels", r->phase_s[P_HYPER]},
        {"weight update (level 1 + its D)", r->phase_s[P_WEIGHTS]},
        {"bookkeeping (trainer_advance)", r->phase_s[P_ADVANCE]},
    };
    printf("  %-46s %9s %7s\n", "phase (undisturbed steps, mean over ranks)", "ms/step", "share");
    double sum = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        printf("  %-46s %9.4f %6.1f%%\n", rows[i].label, rows[i].s * ms,
               100 * rows[i].s / r->step_s);
        sum += rows[i].s;
    }
    printf("  %-46s %9.4f\n\n", "sum (a step lasts as long as its slowest rank)", sum * ms);
    printf("  GEMM per rank per step: %.1f MFLOP; in the step %.1f GFLOP/s, BLIS standalone "
           "%.1f GFLOP/s on the same shapes: %.0f%% efficiency\n",
           r->gemm_flops / 1e6, r->gemm_gflops_step, r->blis_gflops,
           100 * r->gemm_gflops_step / r->blis_gflops);
    printf("    %-16s %6s %6s %6s %9s %10s\n", "shape", "m", "n", "k", "MFLOP", "GFLOP/s");
    for (int i = 0; i < N_SHAPES; i++)
        printf("    %-16s %6ld %6ld %6ld %9.2f %10.1f\n", g->s[i].name, (long)g->s[i].m,
               (long)g->s[i].n, (long)g->s[i].k, r->shape_flops[i] / 1e6, r->shape_gflops[i]);
    printf("  GEMM-bound time %.3f ms/step; step / GEMM-bound = %.2f\n", r->gemm_bound_s * ms,
           r->step_s / r->gemm_bound_s);
    printf("  peak RSS per rank: %.1f MB max, %.1f MB mean\n", r->rss_mb_max, r->rss_mb_mean);
    printf("  memory now (PSS: shared pages split among the ranks that map them): %.1f-%.1f MB "
           "per rank, %.1f MB all ranks\n", r->pss_mb_min, r->pss_mb_max, r->pss_mb_sum);
    printf("  allocations inside the step: %ld (plus %ld inside MPI's allreduce)\n", r->allocs_step,
           r->allocs_allreduce);
    if (r->ranks > 1 && !r->independent)
        printf("  communication probe (%ld values per bucket): the step's reduction alone %.4f ms, "
               "a bare MPI_SUM allreduce of the same bytes %.4f ms: %.2fx\n", r->bucket,
               r->probe_step_s * ms, r->probe_bare_s * ms, r->probe_step_s / r->probe_bare_s);
    if (r->ranks > 1 && !r->independent)
        printf("  a bare reduce-scatter + allgather of the same bytes (the sharded update's "
               "collectives) %.4f ms (%.2fx the bare allreduce)\n", r->probe_rsag_s * ms,
               r->probe_rsag_s / r->probe_bare_s);
}

/* A string as a JSON literal (the stack text and the data path are user input). */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

static void print_json(const result *r)
{
    printf("{\"bench\": \"hyperclip\", \"version\": ");
    json_string(HC_VERSION);
    printf(", \"ranks\": %d, \"threads\": %d, \"independent\": %s, \"stack\": ", r->ranks,
           r->threads, r->independent ? "true" : "false");
    json_string(r->stack);
    printf(", \"data\": ");
    json_string(r->data);
    printf(", \"batch\": %d, \"local_batch\": %d, \"steps\": %d, \"warmup\": %d", r->batch,
           r->local_batch, r->steps, r->warmup);
    printf(", \"steps_undisturbed\": %d, \"cpu_share\": %.4f", r->steps_quiet, r->cpu_share);
    printf(", \"samples_per_s\": %.1f, \"ms_per_step\": %.5f, \"samples_per_s_all\": %.1f",
           r->samples_per_s, r->step_s * 1e3, r->samples_per_s_all);
    printf(", \"breakdown_ms\": {");
    for (int p = 0; p < N_PHASES; p++) printf("\"%s\": %.5f, ", phase_key[p], r->phase_s[p] * 1e3);
    printf("\"elementwise\": %.5f}", r->elementwise_s * 1e3);
    printf(", \"gemm_mflop_per_step\": %.3f, \"gemm_gflops\": %.2f, \"blis_gflops\": %.2f, "
           "\"gemm_efficiency\": %.4f", r->gemm_flops / 1e6, r->gemm_gflops_step, r->blis_gflops,
           r->gemm_gflops_step / r->blis_gflops);
    printf(", \"blis_gflops_per_shape\": [");
    for (int i = 0; i < N_SHAPES; i++) printf("%s%.2f", i ? ", " : "", r->shape_gflops[i]);
    printf("], \"gemm_bound_ms\": %.5f, \"ratio_to_gemm_bound\": %.4f", r->gemm_bound_s * 1e3,
           r->step_s / r->gemm_bound_s);
    printf(", \"rss_mb_max\": %.2f, \"rss_mb_mean\": %.2f, \"pss_mb_min\": %.2f, "
           "\"pss_mb_max\": %.2f, \"pss_mb_sum\": %.2f", r->rss_mb_max, r->rss_mb_mean,
           r->pss_mb_min, r->pss_mb_max, r->pss_mb_sum);
    printf(", \"allocs_in_step\": %ld, \"allocs_in_allreduce\": %ld", r->allocs_step,
           r->allocs_allreduce);
    printf(", \"reproducible\": %d, \"watchdog\": %d, \"sharded_update\": %d", r->reproducible,
           r->watchdog, r->sharded);
    printf(", \"bucket\": %ld, \"probe_step_comm_ms\": %.5f, \"probe_bare_allreduce_ms\": %.5f, "
           "\"probe_reduce_scatter_allgather_ms\": %.5f", r->bucket, r->probe_step_s * 1e3,
           r->probe_bare_s * 1e3, r->probe_rsag_s * 1e3);
    printf(", \"loss_first\": %.6g, \"loss_last\": %.6g}\n", r->loss_first, r->loss_last);
}

/* ---- the trainers the bench drives ---- */

/* The trainer's options for a bench run (the batch is the caller's to set): no output,
 * as many epochs as any run needs. */
static void trainer_opts_for(const bench_opts *o, hc_trainer_options *opt)
{
    trainer_options_defaults(opt);
    opt->stack_text = o->stack;
    opt->threads = o->threads;
    opt->quiet = 1;
    opt->progress = 0;
    opt->epochs = 1 << 20;
    opt->bucket_elems = (size_t)o->bucket;
    opt->reproducible = o->reproducible;
    opt->watchdog = o->watchdog;
    opt->sharded_update = o->sharded_update;
}

/* Samples of a global batch that rank `rank` of `size` gets (the trainer's split). */
static int shard_size(int batch, int rank, int size)
{
    int b0, b1;
    comm_shard(rank, size, batch, &b0, &b1);
    return b1 - b0;
}

/* ---- --scaling: one rank, P ranks and P independent ranks, interleaved ---- */

enum { C_ONE, C_ALL, C_INDEP, N_CONFIGS };
#define SCALING_BLOCK 25

/* Waits for every rank without keeping a core busy: the ranks that sit out a block of
 * the one-rank configuration must leave its core alone, as they would not exist. */
static void sleepy_barrier(void)
{
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    while (!done) {
        struct timespec pause = {0, 50000};    /* 50 us */
        nanosleep(&pause, NULL);
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    }
}

/* K real training steps of t; per step: wall seconds, undisturbed (1/0), samples. */
static int run_block(hc_trainer *t, int k, double *wall, double *quiet, double *samples,
                     hc_err *e)
{
    for (int i = 0; i < k; i++) {
        int q;
        samples[i] = t->batch_n;
        span sp = span_start();
        if (trainer_step(t, e)) return e->code;
        wall[i] = span_end(sp, &q);
        quiet[i] = q;
    }
    return 0;
}

static int scaling(const bench_opts *o, const hc_dataset *ds, const char *data_desc, int rank,
                   int size, hc_err *e)
{
    hc_trainer t[N_CONFIGS];
    int have[N_CONFIGS] = {0};
    hc_trainer_options opt;
    trainer_opts_for(o, &opt);
    int shard = shard_size(o->batch, rank, size);
    MPI_Comm comm[N_CONFIGS] = {MPI_COMM_SELF, MPI_COMM_WORLD, MPI_COMM_SELF};
    int batch[N_CONFIGS] = {o->batch, o->batch, shard};
    if (shard < 1)
        hc_fail(e, HC_ERR_USAGE, "--scaling needs a batch of at least one sample per rank");
    int rounds = (o->steps + SCALING_BLOCK - 1) / SCALING_BLOCK, n = rounds * SCALING_BLOCK;
    size_t per = (size_t)N_CONFIGS * n;
    double *wall = calloc(per, sizeof *wall), *quiet = calloc(per, sizeof *quiet);
    double *samples = calloc(per, sizeof *samples), *red = calloc(3 * per, sizeof *red);
    if (!wall || !quiet || !samples || !red) hc_fail(e, HC_ERR_RUNTIME, "out of memory for the records");
    for (int c = 0; c < N_CONFIGS; c++) {
        opt.batch = batch[c];
        /* only rank 0 trains alone; an error anywhere stops every rank here */
        if (!e->code && (c != C_ONE || rank == 0) && !trainer_init(&t[c], &opt, ds, comm[c], e))
            have[c] = 1;
        if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    }

    /* a warm-up round, then the measured rounds; every block starts on all ranks at once */
    for (int r = -1; r < rounds; r++) {
        for (int c = 0; c < N_CONFIGS; c++) {
            size_t at = (size_t)c * n + (size_t)(r < 0 ? 0 : r) * SCALING_BLOCK;
            sleepy_barrier();
            if (c != C_ONE || rank == 0)
                run_block(&t[c], SCALING_BLOCK, wall + at, quiet + at, samples + at, e);
            if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
        }
    }
    /* a step of several ranks lasts as long as the slowest, is undisturbed when it was on
     * every rank, and the independent ranks' samples add up */
    MPI_Reduce(wall, red, (int)per, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(quiet, red + per, (int)per, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(samples, red + 2 * per, (int)per, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        double rate[N_CONFIGS], ms[N_CONFIGS];
        int counted[N_CONFIGS];
        for (int c = 0; c < N_CONFIGS; c++) {
            const double *w = (c == C_ONE ? wall : red) + (size_t)c * n;
            const double *q = (c == C_ONE ? quiet : red + per) + (size_t)c * n;
            const double *sm = (c == C_INDEP ? red + 2 * per : samples) + (size_t)c * n;
            double ws = 0, ss = 0, wa = 0, sa = 0;
            counted[c] = 0;
            for (int i = 0; i < n; i++) {
                wa += w[i];
                sa += sm[i];
                if (!q[i]) continue;
                ws += w[i];
                ss += sm[i];
                counted[c]++;
            }
            if (counted[c] * 10 < n) ws = wa, ss = sa, counted[c] = n;   /* too few: all */
            rate[c] = ss / ws;
            ms[c] = 1e3 * ws / counted[c];
        }
        if (o->json) {
            printf("{\"bench\": \"hyperclip-scaling\", \"version\": ");
            json_string(HC_VERSION);
            printf(", \"ranks\": %d, \"threads\": %d, \"stack\": ", size, o->threads);
            json_string(t[C_ALL].stack_canon);
            printf(", \"data\": ");
            json_string(data_desc);
            printf(", \"batch\": %d, \"steps\": %d, \"block\": %d", o->batch, n, SCALING_BLOCK);
            printf(", \"one_rank_samples_per_s\": %.1f, \"all_ranks_samples_per_s\": %.1f, "
                   "\"independent_samples_per_s\": %.1f", rate[C_ONE], rate[C_ALL], rate[C_INDEP]);
            printf(", \"one_rank_ms_per_step\": %.5f, \"all_ranks_ms_per_step\": %.5f, "
                   "\"independent_ms_per_step\": %.5f", ms[C_ONE], ms[C_ALL], ms[C_INDEP]);
            printf(", \"steps_undisturbed\": [%d, %d, %d]", counted[C_ONE], counted[C_ALL],
                   counted[C_INDEP]);
            printf(", \"speedup\": %.4f, \"ceiling_speedup\": %.4f, \"efficiency_vs_ceiling\": "
                   "%.4f}\n", rate[C_ALL] / rate[C_ONE], rate[C_INDEP] / rate[C_ONE],
                   rate[C_ALL] / rate[C_INDEP]);
        } else {
            printf("hyperclip bench --scaling: global batch %d, %d ranks x %d BLIS thread%s\n"
                   "  stack %s\n  data %s\n"
                   "  three configurations, real training steps, interleaved in blocks of %d "
                   "steps (%d each, after a warm-up block)\n\n",
                   o->batch, size, o->threads, o->threads > 1 ? "s" : "", t[C_ALL].stack_canon,
                   data_desc, SCALING_BLOCK, n);
            printf("  %-44s %12s %9s %11s %9s\n", "configuration", "samples/s", "ms/step",
                   "undisturbed", "vs 1 rank");
            const char *label[N_CONFIGS] = {"1 rank (the others idle)", "all ranks (one allreduce a step)",
                                            "independent ranks (no allreduce: the ceiling)"};
            for (int c = 0; c < N_CONFIGS; c++)
                printf("  %-44s %12.0f %9.3f %11d %8.2fx\n", label[c], rate[c], ms[c], counted[c],
                       rate[c] / rate[C_ONE]);
            printf("\n  %d ranks reach %.2fx one rank; the ceiling on these cores is %.2fx, so the "
                   "data-parallel step keeps %.0f%% of it\n", size, rate[C_ALL] / rate[C_ONE],
                   rate[C_INDEP] / rate[C_ONE], 100 * rate[C_ALL] / rate[C_INDEP]);
        }
        fflush(stdout);
    }
out:
    free(wall); free(quiet); free(samples); free(red);
    for (int c = 0; c < N_CONFIGS; c++)
        if (have[c]) trainer_free(&t[c]);
    return e->code;
}

/* ---- main ---- */

static int bench(const bench_opts *o, int rank, int size, hc_err *e)
{
    hc_dataset ds = {0};
    hc_data_share data_share = {MPI_COMM_NULL, MPI_WIN_NULL, 1};
    hc_trainer t;
    gemm_set g = {0};
    standalone sa = {0};
    int have_trainer = 0;
    char data_desc[4200];

    if (o->data) {
        dataset_load_shared(&ds, &data_share, MPI_COMM_WORLD, o->data, NULL, o->private_data, e);
        snprintf(data_desc, sizeof data_desc, "%s", o->data);
    } else if (testdata_make(&ds, 60000, 1000, 28, 28, 10, 1)) {
        hc_fail(e, HC_ERR_RUNTIME, "out of memory for the generated data set");
    } else {
        snprintf(data_desc, sizeof data_desc, "generated, MNIST shape");
        dataset_prefer_huge_pages(&ds);     /* as dataset_load does */
    }
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    if (ds.sample_size) {
        size_t len = strlen(data_desc);
        snprintf(data_desc + len, sizeof data_desc - len, " (%d x %d train; %s)", ds.train.n,
                 ds.sample_size, data_share.ranks > 1 ? "one copy per node" : "one copy per rank");
    }
    if (o->scaling) {
        scaling(o, &ds, data_desc, rank, size, e);
        goto out;
    }

    hc_trainer_options opt;
    trainer_opts_for(o, &opt);
    /* --independent: this rank's shard of the global batch, trained alone */
    MPI_Comm comm = o->independent ? MPI_COMM_SELF : MPI_COMM_WORLD;
    int b0, b1, shards = o->independent ? size : 1;
    opt.batch = o->independent ? shard_size(o->batch, rank, size) : o->batch;
    if (opt.batch < 1)
        hc_fail(e, HC_ERR_USAGE, "--independent needs a batch of at least one sample per rank");
    else if (!trainer_init(&t, &opt, &ds, comm, e))
        have_trainer = 1;
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;   /* comm may be this rank alone */
    if (strcmp(t.model.name, "mlp")) {
        hc_fail(e, HC_ERR_USAGE, "the bench knows the GEMMs of the mlp only");
        goto out;
    }

    /* every full global batch gives this rank the same shard size: the GEMM shapes */
    comm_shard(t.comm.rank, t.comm.size, opt.batch < ds.train.n ? opt.batch : ds.train.n, &b0, &b1);
    if (gemm_set_init(&g, &t, b1 - b0)) {
        hc_fail(e, HC_ERR_RUNTIME, "out of memory for the GEMM scratch");
    }
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;

    /* everything the measured steps record is allocated before them */
    double *rec = calloc((size_t)o->steps * N_REC, sizeof *rec), *all = NULL;
    if (rank == 0) all = malloc((size_t)size * o->steps * N_REC * sizeof *all);
    if (!rec || (rank == 0 && !all)) hc_fail(e, HC_ERR_RUNTIME, "out of memory for the records");
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out_rec;

    double loss_first = NAN;
    comm_probe cp = {0};
    trainer_clock_start(&t, 1);
    span since = span_start();
    for (int i = 0; i < o->warmup; i++)
        if (timed_step(&t, &g, rec, &since, e)) goto out_rec;
    for (int i = 0; i < 2; i++) standalone_block(&sa, &g);     /* warms the shapes too */
    sa.done = 0;
    allocs_step = allocs_allreduce = 0;
    double cpu0 = cpu_now(), wall0 = now();
    MPI_Barrier(MPI_COMM_WORLD);
    since = span_start();
    for (int i = 0; i < o->steps; i++) {
        if (timed_step(&t, &g, rec + (size_t)i * N_REC, &since, e)) goto out_rec;
        if (i == 0) loss_first = t.loss;
        /* spread the standalone blocks over the run, at the same steps on every rank */
        if (sa.done < N_BLOCKS && (long)(i + 1) * N_BLOCKS >= (long)(sa.done + 1) * o->steps)
            standalone_block(&sa, &g);
        if (!o->independent && (long)(i + 1) * 64 >= (long)(cp.n + 1) * o->steps)
            comm_probe_block(&cp, &t.comm, e);
    }
    while (sa.done < N_BLOCKS) standalone_block(&sa, &g);
    double probe[3] = {median(cp.step, cp.n), median(cp.bare, cp.n), median(cp.rsag, cp.n)};
    double probe_max[3];
    MPI_Reduce(probe, probe_max, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    double share = (cpu_now() - cpu0) / (now() - wall0), share_min;

    /* rank 0 gets every rank's records, the others reduce to figures */
    MPI_Gather(rec, o->steps * N_REC, MPI_DOUBLE, all, o->steps * N_REC, MPI_DOUBLE, 0,
               MPI_COMM_WORLD);
    MPI_Reduce(&share, &share_min, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    double shape_s[N_SHAPES], shape_max[N_SHAPES];
    for (int i = 0; i < N_SHAPES; i++) shape_s[i] = standalone_median(&sa, i);
    MPI_Reduce(shape_s, shape_max, N_SHAPES, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = (double)ru.ru_maxrss / 1024.0, rss_max, rss_sum;   /* ru_maxrss is in KiB */
    double pss = pss_mb(), pss_min, pss_max, pss_sum;
    MPI_Reduce(&pss, &pss_min, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&pss, &pss_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&pss, &pss_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rss, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rss, &rss_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    long allocs[2] = {allocs_step, allocs_allreduce}, allocs_sum[2];
    MPI_Reduce(allocs, allocs_sum, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);

    if (rank == 0) {
        result r = {0};
        /* A step lasts as long as its slowest rank; it counts as undisturbed when it was
         * on every rank. Phases are means over ranks. With too few undisturbed steps
         * (under a tenth), all steps count. */
        int n_quiet = 0;
        for (int i = 0; i < o->steps; i++) {
            int q = 1;
            for (int k = 0; k < size; k++) q &= all[((size_t)k * o->steps + i) * N_REC + R_QUIET] != 0;
            n_quiet += q;
        }
        int use_all = n_quiet * 10 < o->steps;
        double step_sum = 0, step_sum_all = 0, samples = 0, samples_all = 0;
        for (int i = 0; i < o->steps; i++) {
            double wall = 0;
            int q = 1;
            for (int k = 0; k < size; k++) {
                const double *ri = all + ((size_t)k * o->steps + i) * N_REC;
                wall = fmax(wall, ri[R_WALL]);
                q &= ri[R_QUIET] != 0;
            }
            const double *r0 = all + (size_t)i * N_REC;
            step_sum_all += wall;
            samples_all += r0[R_SAMPLES] * shards;
            if (!q && !use_all) continue;
            step_sum += wall;
            samples += r0[R_SAMPLES] * shards;
            for (int k = 0; k < size; k++)
                for (int p = 0; p < N_PHASES; p++)
                    r.phase_s[p] += all[((size_t)k * o->steps + i) * N_REC + p] / size;
        }
        int counted = use_all ? o->steps : n_quiet;
        for (int p = 0; p < N_PHASES; p++) r.phase_s[p] /= counted;
        r.ranks = size;
        r.threads = o->threads;
        r.batch = o->batch;
        r.independent = o->independent;
        r.local_batch = b1 - b0;
        r.steps = o->steps;
        r.steps_quiet = n_quiet;
        r.warmup = o->warmup;
        r.stack = t.stack_canon;
        r.data = data_desc;
        r.step_s = step_sum / counted;
        r.samples_per_s = samples / step_sum;
        r.samples_per_s_all = samples_all / step_sum_all;
        /* the replay can come out slower than the whole model phase on a noisy core */
        r.elementwise_s = fmax(0.0, r.phase_s[P_MODEL] - r.phase_s[P_GEMM]);
        r.gemm_flops = g.flops;
        r.gemm_gflops_step = g.flops / r.phase_s[P_GEMM] / 1e9;
        double bound = 0;
        for (int i = 0; i < N_SHAPES; i++) {
            const shape *s = &g.s[i];
            r.shape_flops[i] = 2.0 * s->m * s->n * s->k;
            r.shape_gflops[i] = r.shape_flops[i] / shape_max[i] / 1e9;
            if (s->m && s->n && s->k) bound += shape_max[i];
        }
        r.gemm_bound_s = bound;
        r.blis_gflops = g.flops / bound / 1e9;
        r.rss_mb_max = rss_max;
        r.pss_mb_min = pss_min;
        r.pss_mb_max = pss_max;
        r.pss_mb_sum = pss_sum;
        r.rss_mb_mean = rss_sum / size;
        r.loss_first = loss_first;
        r.loss_last = t.loss;
        r.allocs_step = allocs_sum[0];
        r.allocs_allreduce = allocs_sum[1];
        r.cpu_share = share_min;
        r.probe_step_s = probe_max[0];
        r.probe_bare_s = probe_max[1];
        r.probe_rsag_s = probe_max[2];
        r.bucket = (long)t.comm.bucket_elems;
        r.reproducible = o->reproducible;
        r.watchdog = o->watchdog;
        r.sharded = t.comm.sharded;
        if (o->json) print_json(&r);
        else print_table(&r, &g);
        fflush(stdout);
    }
out_rec:
    free(rec);
    free(all);
out:
    free(g.scratch);
    if (have_trainer) trainer_free(&t);
    dataset_free_shared(&ds, &data_share);
    return e->code;
}

int main(int argc, char **argv)
{
    int rank, size;
    bench_opts o;
    hc_err e = {0};
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = parse_args(argc, argv, &o, rank);
    if (rc) {
        MPI_Finalize();
        return rc == 1 ? 0 : 2;
    }
    /* one BLIS thread per rank unless told: ranks x threads must not exceed the cores */
    bli_thread_set_num_threads(o.threads);
    alloc_counter_start();
    rc = bench(&o, rank, size, &e);
    if (rc && rank == 0) fprintf(stderr, "bench: error: %s\n", e.msg);
    MPI_Finalize();
    return rc;
}
