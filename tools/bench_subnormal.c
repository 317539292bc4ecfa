/* bench_subnormal.c - why the trainer flushes subnormal floats to zero (issue 11).
 *
 *   tools/bench_subnormal [--steps N]
 *
 * Times the real level-1 Adam update (optim_update) on the MNIST MLP's 101,770 weights
 * three ways: a state of ordinary values, a state whose m and gradients are subnormal
 * (as Adam's m of a weight whose gradient turned exactly 0 becomes after ~700 steps of
 * decay by beta1), and the same with FTZ|DAZ set, as trainer_init sets them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>
#include <xmmintrin.h>
#include "optim.h"

static double per_update_ms(int subnormal, int flush, int steps)
{
    const size_t n = 101770;
    const double eff[3] = {1e-3, 0.9, 0.999};
    const size_t seg[2] = {0, n};
    const char *const seg_name[1] = {"weights"};
    const hc_targets targets = {n, 1, seg, seg_name};
    hc_optim o;
    hc_err e = {0};
    if (optim_init(&o, OPT_ADAM, eff, 0, &targets, 0, &e)) {
        fprintf(stderr, "bench_subnormal: error: %s\n", e.msg);
        exit(1);
    }
    hc_real *w = calloc(n, sizeof *w), *g = calloc(n, sizeof *g);
    if (!w || !g) exit(1);
    const hc_real small = subnormal ? (hc_real)1e-39f : (hc_real)1e-3f;
    for (size_t i = 0; i < n; i++) w[i] = (hc_real)0.01f, g[i] = small, o.state[0][i] = small;
    unsigned csr = _mm_getcsr();
    _mm_setcsr(flush ? csr | 0x8040 : csr & ~0x8040u);
    double t0 = MPI_Wtime();
    for (int k = 0; k < steps; k++) optim_update(&o, w, g);
    double ms = 1e3 * (MPI_Wtime() - t0) / steps;
    _mm_setcsr(csr);
    optim_free(&o);
    free(w);
    free(g);
    return ms;
}

int main(int argc, char **argv)
{
    int steps = 200;
    if (argc == 3 && !strcmp(argv[1], "--steps")) steps = atoi(argv[2]);
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: tools/bench_subnormal [--steps N]");
        return 0;
    }
    if (steps < 1 || (argc != 1 && argc != 3)) {
        fputs("usage: tools/bench_subnormal [--steps N]\n", stderr);
        return 2;
    }
    MPI_Init(&argc, &argv);
    double normal = per_update_ms(0, 0, steps), sub = per_update_ms(1, 0, steps);
    double flushed = per_update_ms(1, 1, steps);
    printf("Adam update of 101770 weights, ms per update (%d updates each):\n"
           "  ordinary state %.3f, subnormal state %.3f (%.1fx), subnormal with FTZ|DAZ %.3f (%.2fx)\n",
           steps, normal, sub, sub / normal, flushed, flushed / normal);
    MPI_Finalize();
    return 0;
}
