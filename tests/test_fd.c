/* test_fd.c - finite-difference check of every hypergradient (double-precision build).
 *
 * HG_t(h) is the derivative of the loss at step t with respect to the raw hyperparameter
 * h as used by the update at step t-1. So: replay t-2 steps, run step t-1 phase by
 * phase and perturb h right before the level that uses it, then take step t's loss.
 * The central difference of that loss must match the trainer's HG_t(h) to 1e-5. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "testdata.h"
#include "train.h"

#define T_STEP 6

static hc_dataset ds;

/* Loss at step T_STEP with level j's raw hyperparameter h moved by delta before its use
 * at step T_STEP-1; *hg gets the trainer's hypergradient of (j, h) at step T_STEP. */
static double loss_at(const char *stack, int j, int h, double delta, double *hg, double *raw)
{
    hc_train_opts o;
    hc_trainer t;
    hc_err e = {0};
    train_opts_defaults(&o);
    o.stack_text = stack;
    o.batch = 16;
    o.shuffle = 0;
    o.seed = 7;
    o.quiet = 1;
    if (trainer_init(&t, &o, &ds, MPI_COMM_SELF, &e)) { diag("%s", e.msg); exit(1); }
    for (int s = 1; s <= T_STEP - 2; s++) trainer_step(&t, &e);
    trainer_gradients(&t, &e);                  /* step T-1, phase by phase */
    stack_hypergrads(&t.stack, trainer_hypergrads(&t));
    for (int k = t.stack.n_levels - 1; k >= 1; k--) {
        if (k == j) t.stack.level[j].raw[h] += delta;
        stack_update_level(&t.stack, k);
    }
    if (j == 0) t.stack.level[0].raw[h] += delta;
    *raw = t.stack.level[j].raw[h] - delta;
    stack_update_weights(&t.stack, t.param, t.comm.grad);
    trainer_advance(&t, &e);
    trainer_gradients(&t, &e);                  /* step T: its loss and HG */
    stack_hypergrads(&t.stack, trainer_hypergrads(&t));
    *hg = t.stack.level[j].grad[h];
    double loss = trainer_batch_loss(&t);
    trainer_free(&t);
    return loss;
}

static void check(const char *stack, int j, int h, const char *name)
{
    double hg, hg2, raw;
    loss_at(stack, j, h, 0.0, &hg, &raw);
    double delta = 1e-6 * (fabs(raw) > 1 ? fabs(raw) : 1);
    double lp = loss_at(stack, j, h, delta, &hg2, &raw);
    double lm = loss_at(stack, j, h, -delta, &hg2, &raw);
    double fd = (lp - lm) / (2 * delta);
    double rel = fabs(fd - hg) / fabs(hg);
    ok(hg != 0 && rel < 1e-5, "%-50s level %d %-6s HG %+.9e  FD %+.9e  rel %.1e", stack, j + 1,
       name, hg, fd, rel);
}

static void check_zero(const char *stack, int j, int h, const char *name)
{
    double hg, hg2, raw;
    loss_at(stack, j, h, 0.0, &hg, &raw);
    double lp = loss_at(stack, j, h, 1e-3, &hg2, &raw), l0 = loss_at(stack, j, h, 0, &hg2, &raw);
    ok(hg == 0 && lp == l0, "%-50s level %d %-6s HG exactly 0 and the loss ignores it", stack,
       j + 1, name);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (testdata_make(&ds, 64, 16, 4, 4, 10, 11)) return 99;
    ok(HC_REAL_IS_DOUBLE, "built in double precision");

    check("sgd(alpha=0.05) / sgd(alpha=1e-4)", 0, 0, "alpha");
    check_zero("sgd(alpha=0.05) / sgd(alpha=1e-4)", 0, 1, "mu");
    check("sgd(alpha=0.05, mu=0.9) / sgd(alpha=1e-4)", 0, 0, "alpha");
    check("sgd(alpha=0.05, mu=0.9) / sgd(alpha=1e-4)", 0, 1, "mu");
    check("adam(alpha=0.01) / sgd(alpha=1e-6)", 0, 0, "alpha");
    check("adam(alpha=0.01) / sgd(alpha=1e-6)", 0, 1, "beta1");
    check("adam(alpha=0.01) / sgd(alpha=1e-6)", 0, 2, "beta2");
    check("adagrad(alpha=0.05) / sgd(alpha=1e-4)", 0, 0, "alpha");
    check("rmsprop(alpha=0.01, gamma=0.9) / sgd(alpha=1e-5)", 0, 0, "alpha");
    check("rmsprop(alpha=0.01, gamma=0.9) / sgd(alpha=1e-5)", 0, 1, "gamma");
    check("adam(alpha=0.01)", 0, 0, "alpha");
    /* levels 2 and 3 of a tower */
    check("sgd(alpha=0.05) / sgd(alpha=0.01) / sgd(alpha=1e-3)", 1, 0, "alpha");
    check("sgd(alpha=0.05) / sgd(alpha=0.01) / sgd(alpha=1e-3)", 2, 0, "alpha");
    check("adam(alpha=0.01) / sgd(alpha=1e-4, clip=on) / sgd(alpha=1e-5)", 1, 0, "alpha");
    check("adam(alpha=0.01) / sgd(alpha=1e-4, clip=on) / sgd(alpha=1e-5)", 2, 0, "alpha");
    check("sgd(alpha=0.05) / sgd(alpha=0.01, mu=0.5)", 1, 0, "alpha");
    check("sgd(alpha=0.05) / sgd(alpha=0.01, mu=0.5)", 1, 1, "mu");
    dataset_free(&ds);
    MPI_Finalize();
    return tap_done();
}
