/* bench_cnn.c - the CNN's training step against BLIS's sgemm rate on the same GEMMs.
 *
 *   tools/bench_cnn [--data DIR] [--stack SPEC] [--batch B] [--steps N] [--warmup W]
 *                   [--json]
 *
 * Any number of ranks (the global batch split as the trainer splits it) and BLIS threads;
 * rank 0 reports its own clocks. The model is
 * compiled into this program with HC_CNN_PROFILE (model_cnn.c is #included below), so
 * every GEMM of the step carries its own clock by kind (convolution or dense) and is
 * logged with its shape, strides and operands. After each step, off the step's clock,
 * the logged calls are replayed as they were (same shapes, strides and buffers): that is
 * BLIS's time for exactly the step's GEMMs, measured in the same run and interleaved
 * with the steps, so both see the same machine. The step is the trainer's, phase by
 * phase as in trainer_step: gather (+ normalisation), the model (forward, loss, backward:
 * convolution GEMMs, dense GEMMs, and the rest: im2col/col2im, bias, ReLU, tanh,
 * softmax), then the optimizer stack (level-1 hypergradient shares, allreduce, the
 * levels, the weight update, bookkeeping).
 *
 *   efficiency = replayed-GEMM time / step time = step GFLOP/s / sgemm GFLOP/s
 *
 * Wall and CPU (this thread) clocks are both reported: on a shared machine the CPU
 * clock leaves out the time the thread waited for a core. Without --data the data are
 * generated in memory with CIFAR-10's shape (3x32x32, 10 classes). */
#define HC_CNN_PROFILE
#include "../src/model_cnn.c"

#include <limits.h>
#include <mpi.h>
#include <time.h>
#include "../tests/argparse.h"
#include "../tests/testdata.h"
#include "data.h"
#include "train.h"

typedef struct {
    const char *data, *stack;
    int batch, steps, warmup, json, threads, bucket, sharded_update;
} opts;

static const char usage_text[] =
    "usage: [mpirun -np P] tools/bench_cnn [--data DIR] [--stack SPEC] [--batch B] [--steps N] "
    "[--warmup W] [--threads T] [--bucket N] [--sharded-update auto|on|off] [--json]\n"
    "  defaults: generated CIFAR-shaped data, 'adam / sgd(alpha=1e-7)', --batch 256 (global) "
    "--steps 20 --warmup 3 --threads 1, the trainer's bucket size and --sharded-update\n";

static int parse_args(int argc, char **argv, opts *o)
{
    const char *me = "bench_cnn";
    *o = (opts){NULL, "adam / sgd(alpha=1e-7)", 256, 20, 3, 0, 1, 0, -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return arg_usage(stdout, usage_text, 1);
        if (!strcmp(a, "--json")) { o->json = 1; continue; }
        if (!strcmp(a, "--data") || !strcmp(a, "--stack")) {
            if (arg_value(stderr, me, a, v)) return 2;
            *(a[2] == 'd' ? &o->data : &o->stack) = v;
        } else if (!strcmp(a, "--batch")) rc = arg_int(stderr, me, a, v, 1, 1 << 16, &o->batch);
        else if (!strcmp(a, "--steps")) rc = arg_int(stderr, me, a, v, 1, INT_MAX / 2, &o->steps);
        else if (!strcmp(a, "--warmup")) rc = arg_int(stderr, me, a, v, 0, INT_MAX / 2, &o->warmup);
        else if (!strcmp(a, "--threads")) rc = arg_int(stderr, me, a, v, 1, 1024, &o->threads);
        else if (!strcmp(a, "--bucket")) rc = arg_int(stderr, me, a, v, 1, 1 << 30, &o->bucket);
        else if (!strcmp(a, "--sharded-update")) rc = arg_auto_on_off(stderr, me, a, v, &o->sharded_update);
        else {
            fprintf(stderr, "bench_cnn: unknown argument '%s'\n", a);
            return arg_usage(stderr, usage_text, 2);
        }
        if (rc) return 2;
        i++;
    }
    return 0;
}

static double wall_now(void) { return prof_now(); }
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { T_GATHER, T_MODEL, T_OPT, T_CONV, T_DENSE, T_REPLAY_CONV, T_REPLAY_DENSE, N_T };

typedef struct { double wall[N_T], cpu[N_T], comm; } clocks;

static void replay(int kind, double *wall, double *cpu)
{
    double w0 = wall_now(), c0 = cpu_now();
    for (int i = 0; i < cnn_profile.n_calls; i++) {
        const hc_cnn_gemm_call *c = &cnn_profile.calls[i];
        if (c->kind != kind) continue;
        gemm(c->m, c->n, c->k, c->alpha, c->A, c->rsa, c->csa, c->B, c->rsb, c->csb, c->beta,
             c->C, c->rsc, c->csc);
    }
    *wall += wall_now() - w0;
    *cpu += cpu_now() - c0;
}

/* One trainer_step (the trainer's own, its phase clock on), then the replay of its GEMMs.
 * T_OPT is everything after the model: the allreduce's rest, hypergradients, the stack,
 * the weight update, bookkeeping. CPU time is the step's as a whole (in T_OPT's slot
 * for the sum; the phases' split is the wall clock's). */
static int step(hc_trainer *t, clocks *k, hc_err *e)
{
    const hc_phase_clock *clock = trainer_clock(t);
    double before[N_PHASES];
    memcpy(before, clock->seconds, sizeof before);
    double conv0 = cnn_profile.seconds[K_CONV], dense0 = cnn_profile.seconds[K_DENSE];
    double c0 = cpu_now();
    cnn_profile.logging = 1;
    cnn_profile.n_calls = 0;
    int rc = trainer_step(t, e);
    cnn_profile.logging = 0;
    k->cpu[T_OPT] += cpu_now() - c0;
    if (rc) return rc;
    for (int p = 0; p < N_PHASES; p++) {
        double d = clock->seconds[p] - before[p];
        k->wall[p == PHASE_GATHER ? T_GATHER : p == PHASE_MODEL ? T_MODEL : T_OPT] += d;
        if (p == PHASE_COMM) k->comm += d;
    }
    /* the GEMM clocks inside the model are wall clocks (one thread: CPU ~ wall) */
    k->wall[T_CONV] += cnn_profile.seconds[K_CONV] - conv0;
    k->wall[T_DENSE] += cnn_profile.seconds[K_DENSE] - dense0;
    replay(K_CONV, &k->wall[T_REPLAY_CONV], &k->cpu[T_REPLAY_CONV]);
    replay(K_DENSE, &k->wall[T_REPLAY_DENSE], &k->cpu[T_REPLAY_DENSE]);
    return 0;
}

static int bench(const opts *o, hc_err *e)
{
    hc_dataset ds = {0};
    hc_trainer t;
    char desc[4200];
    int rc;
    if (o->data) {
        rc = dataset_load(&ds, o->data, NULL, e);
        snprintf(desc, sizeof desc, "%s", o->data);
    } else {
        /* testdata's 96 x 32 one-channel images read as 3 x 32 x 32 */
        rc = testdata_make(&ds, 4 * o->batch, 64, 96, 32, 10, 1);
        if (rc) hc_fail(e, HC_ERR_RUNTIME, "out of memory for the generated data");
        ds.channels = 3, ds.height = 32, ds.width = 32;
        snprintf(ds.name, sizeof ds.name, "cifar10");
        if (!rc) rc = dataset_set_normalization(&ds, "train-stats", e);
        snprintf(desc, sizeof desc, "generated, CIFAR-10 shape");
    }
    if (rc) return rc;
    hc_trainer_options opt;
    trainer_options_defaults(&opt);
    opt.model_name = "cnn";
    opt.stack_text = o->stack;
    opt.batch = o->batch;
    opt.quiet = 1;
    opt.progress = 0;
    opt.epochs = 1 << 20;
    opt.threads = o->threads;
    opt.bucket_elems = (size_t)o->bucket;
    opt.sharded_update = o->sharded_update;
    if (trainer_init(&t, &opt, &ds, MPI_COMM_WORLD, e)) {
        dataset_free(&ds);
        return e->code;
    }
    cnn *p = t.model.impl;
    clocks k = {0};
    trainer_clock_start(&t, 1);
    double flops[2] = {0, 0}, loss_first = 0;
    for (int i = 0; i < o->warmup && !rc; i++) rc = step(&t, &k, e);
    memset(&k, 0, sizeof k);
    double f0[2] = {cnn_profile.flops[K_CONV], cnn_profile.flops[K_DENSE]};
    for (int i = 0; i < o->steps && !rc; i++) {
        rc = step(&t, &k, e);
        if (i == 0) loss_first = t.loss;
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!rc && rank == 0) {
        flops[0] = (cnn_profile.flops[K_CONV] - f0[0]) / o->steps;
        flops[1] = (cnn_profile.flops[K_DENSE] - f0[1]) / o->steps;
        double S = o->steps, ms = 1e3 / S;
        double step_w = k.wall[T_GATHER] + k.wall[T_MODEL] + k.wall[T_OPT];
        double step_c = k.cpu[T_OPT];
        double rest_w = k.wall[T_MODEL] - k.wall[T_CONV] - k.wall[T_DENSE];
        double rep_w = k.wall[T_REPLAY_CONV] + k.wall[T_REPLAY_DENSE];
        double rep_c = k.cpu[T_REPLAY_CONV] + k.cpu[T_REPLAY_DENSE];
        double fl = flops[0] + flops[1];
        double eff_w = rep_w / step_w, eff_c = rep_c / step_c;
        double eff_model = rep_w / k.wall[T_MODEL];
        if (o->json) {
            printf("{\"bench\": \"cnn\", \"batch\": %d, \"steps\": %d, \"im2col_block\": %d, "
                   "\"ms_per_step\": %.3f, \"cpu_ms_per_step\": %.3f, \"samples_per_s\": %.1f, "
                   "\"gflop_per_step\": %.4f, \"conv_gflop\": %.4f, \"dense_gflop\": %.4f, "
                   "\"ms\": {\"gather\": %.3f, \"conv_gemm\": %.3f, \"dense_gemm\": %.3f, "
                   "\"model_rest\": %.3f, \"optimizer\": %.3f}, "
                   "\"sgemm_ms\": {\"conv\": %.3f, \"dense\": %.3f}, "
                   "\"step_gflops\": %.2f, \"sgemm_gflops\": %.2f, \"efficiency\": %.4f, "
                   "\"efficiency_cpu\": %.4f, \"efficiency_model\": %.4f, "
                   "\"loss_first\": %.6g, \"loss_last\": %.6g, \"ranks\": %d, \"threads\": %d, "
                   "\"comm_ms\": %.3f, \"sharded_update\": %d}\n",
                   o->batch, o->steps, p->chunk, step_w * ms, step_c * ms, o->batch / (step_w / S),
                   fl / 1e9, flops[0] / 1e9, flops[1] / 1e9, k.wall[T_GATHER] * ms,
                   k.wall[T_CONV] * ms, k.wall[T_DENSE] * ms, rest_w * ms, k.wall[T_OPT] * ms,
                   k.wall[T_REPLAY_CONV] * ms, k.wall[T_REPLAY_DENSE] * ms, fl / (step_w / S) / 1e9,
                   fl / (rep_w / S) / 1e9, eff_w, eff_c, eff_model, loss_first, t.loss, size,
                   o->threads, k.comm * ms, t.comm.sharded);
        } else {
            printf("hyperclip bench_cnn: %d rank%s x %d BLIS thread%s (%s), global batch %d, %d "
                   "steps after %d warm-up (figures of rank 0)\n  data %s (%d x %dx%dx%d train), "
                   "stack %s\n  model cnn, %zu parameters, im2col blocks of %d samples%s\n",
                   size, size > 1 ? "s" : "", o->threads, o->threads > 1 ? "s" : "",
                   bli_arch_string(bli_arch_query_id()), o->batch, o->steps, o->warmup, desc,
                   ds.train.n, ds.channels, ds.height, ds.width, t.stack_canon, t.model.n_params,
                   p->chunk, t.comm.sharded ? "; sharded update" : "");
            printf("  step %.2f ms wall (%.2f ms CPU), %.0f samples/s; loss %.4f -> %.4f\n\n",
                   step_w * ms, step_c * ms, o->batch / (step_w / S), loss_first, t.loss);
            printf("  %-44s %9s %7s\n", "phase", "ms/step", "share");
            struct { const char *label; double s; } row[] = {
                {"data gather + normalisation", k.wall[T_GATHER]},
                {"convolution GEMMs (5 per im2col block)", k.wall[T_CONV]},
                {"dense GEMMs (fc1, fc2: 6)", k.wall[T_DENSE]},
                {"model rest (im2col, col2im, bias, ReLU, ...)", rest_w},
                {"communication not hidden (+ wait)", k.comm},
                {"optimizer stack + bookkeeping", k.wall[T_OPT] - k.comm},
            };
            for (size_t r = 0; r < sizeof row / sizeof *row; r++)
                printf("  %-44s %9.3f %6.1f%%\n", row[r].label, row[r].s * ms,
                       100 * row[r].s / step_w);
            printf("\n  GEMM work per step: %.3f GFLOP (convolutions %.3f, dense %.3f)\n",
                   fl / 1e9, flops[0] / 1e9, flops[1] / 1e9);
            printf("  BLIS sgemm on the same calls, replayed: conv %.3f ms (%.1f GFLOP/s), "
                   "dense %.3f ms (%.1f GFLOP/s)\n", k.wall[T_REPLAY_CONV] * ms,
                   flops[0] / (k.wall[T_REPLAY_CONV] / S) / 1e9, k.wall[T_REPLAY_DENSE] * ms,
                   flops[1] / (k.wall[T_REPLAY_DENSE] / S) / 1e9);
            printf("  GEMMs inside the step: conv %.1f GFLOP/s, dense %.1f GFLOP/s\n",
                   flops[0] / (k.wall[T_CONV] / S) / 1e9, flops[1] / (k.wall[T_DENSE] / S) / 1e9);
            printf("  whole step: %.1f GFLOP/s vs sgemm %.1f GFLOP/s on the same shapes: "
                   "%.1f%% (CPU clock: %.1f%%; model phase alone: %.1f%%)\n",
                   fl / (step_w / S) / 1e9, fl / (rep_w / S) / 1e9, 100 * eff_w, 100 * eff_c,
                   100 * eff_model);
        }
    }
    trainer_free(&t);
    dataset_free(&ds);
    return rc;
}

int main(int argc, char **argv)
{
    opts o;
    hc_err e = {0};
    MPI_Init(&argc, &argv);
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        MPI_Finalize();
        return rc == 1 ? 0 : rc;
    }
    bli_thread_set_num_threads(o.threads);
    rc = bench(&o, &e);
    if (rc) fprintf(stderr, "bench_cnn: error: %s\n", e.msg);
    MPI_Finalize();
    return rc;
}
