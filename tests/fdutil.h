/* fdutil.h - the finite-difference check of a hypergradient, shared by test_fd and
 * test_cnn (both built in double precision, which resolves the tiny loss changes).
 *
 * HG_t(h) is the derivative of the loss at step t with respect to the raw hyperparameter
 * h as used by the update at step t-1. So: replay t-2 steps, run step t-1 phase by
 * phase and perturb h right before the level that uses it, then take step t's loss.
 * The central difference of that loss must match the trainer's HG_t(h) to 1e-5. */
#ifndef HC_FDUTIL_H
#define HC_FDUTIL_H
#include "data.h"
#include "train.h"

/* The training run replayed: one rank, no shuffling, seed 7, quiet. */
typedef struct {
    const hc_dataset *ds;
    const char *model;      /* --model; NULL for the trainer's default */
    int batch;
    int step;               /* t: the step whose loss and HG are compared */
} fd_run;

/* Loss at step r->step with level j's raw hyperparameter h moved by delta before its use
 * at step r->step - 1; *hg gets the trainer's hypergradient of (j, h) at step r->step,
 * *raw the value of h before the move. Exits on a trainer error. */
double fd_loss_at(const fd_run *r, const char *stack, int j, int h, double delta,
                  double *hg, double *raw);

/* The trainer's HG of (j, h) and the central difference fd of the loss, with their
 * relative difference; agree when hg is not 0 and rel < 1e-5. (The caller prints the
 * TAP line: tap.h's counters are per program file.) */
typedef struct {
    double hg, fd, rel;
    int agree;
} fd_result;
fd_result fd_check(const fd_run *r, const char *stack, int j, int h);

/* The run's trainer for this stack, freshly initialised (exits on an error). */
void fd_trainer(const fd_run *r, const char *stack, hc_trainer *t);

#endif
