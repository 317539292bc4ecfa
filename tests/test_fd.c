/* test_fd.c - finite-difference check of every hypergradient (double-precision build),
 * by fdutil.h's method: the MLP, steps 5 -> 6, batch 16. A hyperparameter the optimizer
 * does not use has an HG of exactly 0 and no effect on the loss. */
#include <mpi.h>
#include "fdutil.h"
#include "tap.h"
#include "testdata.h"

static hc_dataset ds;
static const fd_run run = {.ds = &ds, .model = NULL, .batch = 16, .step = 6};

static void check(const char *stack, int j, int h, const char *name)
{
    fd_result c = fd_check(&run, stack, j, h);
    ok(c.agree, "%-50s level %d %-6s HG %+.9e  FD %+.9e  rel %.1e", stack, j + 1, name, c.hg,
       c.fd, c.rel);
}

static void check_zero(const char *stack, int j, int h, const char *name)
{
    double hg, hg2, raw;
    fd_loss_at(&run, stack, j, h, 0.0, &hg, &raw);
    double lp = fd_loss_at(&run, stack, j, h, 1e-3, &hg2, &raw);
    double l0 = fd_loss_at(&run, stack, j, h, 0, &hg2, &raw);
    ok(hg == 0 && lp == l0, "%-50s level %d %-6s HG exactly 0 and the loss ignores it", stack,
       j + 1, name);
}

/* Every raw hyperparameter of every level of a stack: checked against the finite
 * difference, or (SGD's mu without momentum) exactly 0 with no effect on the loss. */
static void every(const char *stack)
{
    hc_trainer t;
    fd_trainer(&run, stack, &t);
    for (int j = 0; j < t.stack.n_levels; j++)
        for (int h = 0; h < t.stack.level[j].n_hyper; h++) {
            const hc_optim *o = &t.stack.level[j].optim;
            if (o->live[o->per_tensor ? 0 : h]) check(stack, j, h, t.stack.level[j].names[h]);
            else check_zero(stack, j, h, t.stack.level[j].names[h]);
        }
    trainer_free(&t);
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
    /* any optimizer at any level (gdtuo): every raw hyperparameter of every level */
    every("sgd(alpha=0.05) / adam(alpha=1e-3)");
    every("adam(alpha=0.01) / adam(alpha=1e-4) / sgd(alpha=1e-4)");
    every("rmsprop(alpha=0.01, gamma=0.9) / adagrad(alpha=1e-3) / sgd(alpha=1e-4)");
    every("adam_baydin(alpha=0.01) / sgd(alpha=1e-5)");
    every("sgd(alpha=0.05, per_tensor=on) / sgd(alpha=1e-3)");
    every("rmsprop_alpha(alpha=0.01, gamma=0.9) / sgd(alpha=1e-4, per_tensor=on) / adam(alpha=1e-4)");
    every("sgd(alpha=0.05, mu=0.9) / rmsprop(alpha=1e-3) / adam_baydin(alpha=1e-4)");
    every("adagrad(alpha=0.05) / rmsprop_alpha(alpha=1e-4, gamma=0.9) / adagrad(alpha=1e-4)");
    dataset_free(&ds);
    MPI_Finalize();
    return tap_done();
}
