/* fdutil.c - the finite-difference check of a hypergradient (see fdutil.h). */
#include "fdutil.h"
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include "tap.h"
#include "train.h"

void fd_trainer(const fd_run *r, const char *stack, hc_trainer *t)
{
    hc_trainer_options o;
    hc_err e = {0};
    trainer_options_defaults(&o);
    if (r->model) o.model_name = r->model;
    o.stack_text = stack;
    o.batch = r->batch;
    o.shuffle = 0;
    o.seed = 7;
    o.quiet = 1;
    if (trainer_init(t, &o, r->ds, MPI_COMM_SELF, &e)) { diag("%s", e.msg); exit(1); }
}

double fd_loss_at(const fd_run *r, const char *stack, int j, int h, double delta,
                  double *hg, double *raw)
{
    hc_trainer t;
    hc_err e = {0};
    fd_trainer(r, stack, &t);
    for (int s = 1; s <= r->step - 2; s++) trainer_step(&t, &e);
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

fd_result fd_check(const fd_run *r, const char *stack, int j, int h)
{
    fd_result c;
    double hg2, raw;
    fd_loss_at(r, stack, j, h, 0.0, &c.hg, &raw);
    double delta = 1e-6 * (fabs(raw) > 1 ? fabs(raw) : 1);   /* relative for large h */
    double lp = fd_loss_at(r, stack, j, h, delta, &hg2, &raw);
    double lm = fd_loss_at(r, stack, j, h, -delta, &hg2, &raw);
    c.fd = (lp - lm) / (2 * delta);
    c.rel = fabs(c.fd - c.hg) / fabs(c.hg);
    c.agree = c.hg != 0 && c.rel < 1e-5;
    return c;
}
