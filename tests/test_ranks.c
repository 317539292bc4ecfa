/* test_ranks.c - rank-count invariance (run as: mpirun -np 3 test_ranks).
 *
 * The same run on 1, 2 and 3 ranks (sub-communicators of the 3): after 50 steps the loss
 * and every hyperparameter of every step agree to 1e-5 relative, and within each run the
 * ranks' weights and hyperparameters are bitwise equal; the same with the sharded update
 * (each rank updates its part of the weights, whose parts cut through the tensors). The
 * data have 300 samples and a batch of 32, so every epoch ends with a smaller batch of 12. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "testdata.h"
#include "train.h"

#define STEPS 50
#define MAX_SERIES 16

typedef struct { int n; double v[MAX_SERIES][STEPS]; } trajectory;

static hc_dataset ds;

/* Runs on the first p ranks of the world; fills tr on world rank 0. */
static void run(const char *stack, int p, int sharded, trajectory *tr, int *bitwise_same)
{
    int wrank;
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm comm;
    MPI_Comm_split(MPI_COMM_WORLD, wrank < p ? 0 : MPI_UNDEFINED, wrank, &comm);
    int same = 1;
    if (comm != MPI_COMM_NULL) {
        hc_trainer_options o;
        hc_trainer t;
        hc_err e = {0};
        trainer_options_defaults(&o);
        o.stack_text = stack;
        o.batch = 32;
        o.seed = 5;
        o.quiet = 1;
        o.sharded_update = sharded;
        if (trainer_init(&t, &o, &ds, comm, &e)) { diag("rank %d: %s", wrank, e.msg); MPI_Abort(MPI_COMM_WORLD, 1); }
        if (t.comm.sharded != (sharded && p > 1)) { diag("sharded update not as asked"); MPI_Abort(MPI_COMM_WORLD, 1); }
        for (int s = 0; s < STEPS; s++) {
            if (trainer_step(&t, &e)) { diag("%s", e.msg); MPI_Abort(MPI_COMM_WORLD, 1); }
            int c = 0;
            tr->v[c++][s] = trainer_batch_loss(&t);
            for (int k = 0; k < t.stack.n_levels; k++)
                for (int h = 0; h < t.stack.level[k].n_hyper && c < MAX_SERIES; h++)
                    tr->v[c++][s] = stack_effective(&t.stack, k, h);
            tr->n = c;
        }
        /* every rank's weights against rank 0's, byte for byte */
        size_t n = t.model.n_params;
        hc_real *ref = malloc(n * sizeof *ref);
        memcpy(ref, t.param, n * sizeof *ref);
        MPI_Bcast(ref, (int)(n * sizeof *ref), MPI_BYTE, 0, comm);
        int mine = memcmp(ref, t.param, n * sizeof *ref) == 0 &&
                   t.stack.level[0].raw[0] == t.stack.level[0].raw[0];
        double raw0 = t.stack.level[0].raw[0];
        MPI_Bcast(&raw0, 1, MPI_DOUBLE, 0, comm);
        mine &= memcmp(&raw0, &t.stack.level[0].raw[0], sizeof raw0) == 0;
        MPI_Allreduce(&mine, &same, 1, MPI_INT, MPI_LAND, comm);
        free(ref);
        trainer_free(&t);
        MPI_Comm_free(&comm);
    }
    MPI_Bcast(&same, 1, MPI_INT, 0, MPI_COMM_WORLD);
    *bitwise_same = same;
}

static double max_rel(const trajectory *a, const trajectory *b)
{
    double worst = 0;
    for (int c = 0; c < a->n; c++)
        for (int s = 0; s < STEPS; s++) {
            double d = fabs(a->v[c][s] - b->v[c][s]) / (fabs(a->v[c][s]) + 1e-30);
            if (!(d <= worst)) worst = d;   /* NaN propagates as a failure */
        }
    return worst;
}

static void invariance(const char *stack)
{
    static trajectory tr[6];
    int rank, same[6];
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int p = 1; p <= 3; p++) run(stack, p, 0, &tr[p], &same[p]);
    for (int p = 2; p <= 3; p++) run(stack, p, 1, &tr[p + 2], &same[p + 2]);
    if (rank != 0) return;
    double moved = fabs(tr[1].v[1][STEPS - 1] - tr[1].v[1][0]) / fabs(tr[1].v[1][0]);
    ok(moved > 1e-6 && tr[1].v[0][STEPS - 1] < tr[1].v[0][0],
       "%s: on 1 rank the primary's alpha moves (%.2e rel) and the loss falls (%.4f -> %.4f)",
       stack, moved, tr[1].v[0][0], tr[1].v[0][STEPS - 1]);
    for (int p = 2; p <= 3; p++) {
        double r = max_rel(&tr[1], &tr[p]);
        ok(r < 1e-5, "%s: %d ranks vs 1, %d steps: loss and every hyperparameter within %.1e rel",
           stack, p, STEPS, r);
        ok(same[p], "%s: %d ranks: weights and hyperparameters bitwise equal across ranks", stack, p);
        r = max_rel(&tr[1], &tr[p + 2]);
        ok(r < 1e-5, "%s: %d ranks, sharded update, vs 1 rank: within %.1e rel", stack, p, r);
        ok(same[p + 2], "%s: %d ranks, sharded update: weights and hyperparameters bitwise equal "
           "across ranks", stack, p);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int size, rank;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (size != 3) {
        if (rank == 0) printf("Bail out! run me with mpirun -np 3 (got %d ranks)\n", size);
        MPI_Finalize();
        return 1;
    }
    if (testdata_make(&ds, 300, 64, 8, 8, 10, 3)) MPI_Abort(MPI_COMM_WORLD, 1);
    invariance("adam / sgd(alpha=1e-3, clip=on)");
    invariance("sgd(alpha=0.05) / sgd(alpha=0.01, mu=0.5, clip=on, clip_scope=global)");
    invariance("rmsprop(alpha=1e-3) / sgd(alpha=1e-4) / sgd(alpha=1e-6)");
    invariance("adagrad(alpha=0.05) / sgd(alpha=0.1, clip=on)");
    /* any optimizer at any level, and gdtuo's variants */
    invariance("sgd(alpha=0.05) / adam(alpha=1e-3)");
    invariance("adam / adam(alpha=1e-4) / sgd(alpha=1e-4)");
    invariance("rmsprop(alpha=1e-3) / adagrad(alpha=1e-4) / sgd(alpha=1e-4)");
    invariance("adam_baydin / sgd(alpha=1e-3)");
    invariance("sgd(alpha=0.05, per_tensor=on) / sgd(alpha=1e-3)");
    invariance("sgd(alpha=0.05, mu=0.9) / sgd(alpha=1e-3)");
    invariance("rmsprop_alpha(alpha=1e-3) / sgd(alpha=1e-4)");
    dataset_free(&ds);
    int code = rank == 0 ? tap_done() : 0;
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return code;
}
