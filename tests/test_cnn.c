/* test_cnn.c - the CIFAR-10 CNN (double-precision build).
 *
 *  1. Its forward pass equals a naive reference written from PyTorch's definitions
 *     (Conv2d is a cross-correlation with weight (out, in, kh, kw), flatten is
 *     (channel, y, x)), on a square and a non-square image: the layouts are PyTorch's.
 *  2. Finite differences of the loss match every gradient of both convolutions
 *     (weights and biases) and of fc1/fc2 on tiny images. conv1's gradients reach it
 *     through conv2's input gradient (im2col's adjoint), so they check that path too.
 *     A larger image makes the model work in several im2col blocks, the last one short.
 *  3. A level-1 hypergradient through the CNN matches its finite difference (fdutil.h's
 *     method, as in test_fd.c: steps 4 -> 5, batch 8). */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include "fdutil.h"
#include "model.h"
#include "rng.h"
#include "tap.h"
#include "testdata.h"

/* ---- the reference: direct loops, PyTorch's definitions ---- */

static double ref_loss(const hc_model *m, const double *param, const double *x, const int *y,
                       int n, int C, int H, int W, int *pred)
{
    const hc_tensor *T = m->tensors;
    const double *w1 = param + T[0].offset, *b1 = param + T[1].offset;
    const double *w2 = param + T[2].offset, *b2 = param + T[3].offset;
    const double *w3 = param + T[4].offset, *b3 = param + T[5].offset;
    const double *w4 = param + T[6].offset, *b4 = param + T[7].offset;
    const int H1 = H - 2, W1 = W - 2, H2 = H - 4, W2 = W - 4, D = 16 * H2 * W2;
    const int K = m->n_classes;
    double *a1 = malloc(sizeof(double) * 16 * H1 * W1), *a2 = malloc(sizeof(double) * D);
    double h[128], o[64], loss = 0;
    for (int s = 0; s < n; s++) {
        const double *xs = x + (size_t)s * C * H * W;
        for (int co = 0; co < 16; co++)
            for (int i = 0; i < H1; i++)
                for (int j = 0; j < W1; j++) {
                    double v = b1[co];
                    for (int ci = 0; ci < C; ci++)
                        for (int u = 0; u < 3; u++)
                            for (int t = 0; t < 3; t++)
                                v += w1[((co * C + ci) * 3 + u) * 3 + t] *
                                     xs[(ci * H + i + u) * W + j + t];
                    a1[(co * H1 + i) * W1 + j] = v > 0 ? v : 0;
                }
        for (int co = 0; co < 16; co++)
            for (int i = 0; i < H2; i++)
                for (int j = 0; j < W2; j++) {
                    double v = b2[co];
                    for (int ci = 0; ci < 16; ci++)
                        for (int u = 0; u < 3; u++)
                            for (int t = 0; t < 3; t++)
                                v += w2[((co * 16 + ci) * 3 + u) * 3 + t] *
                                     a1[(ci * H1 + i + u) * W1 + j + t];
                    a2[(co * H2 + i) * W2 + j] = v > 0 ? v : 0;   /* view(n, -1) order */
                }
        for (int k = 0; k < 128; k++) {
            double v = b3[k];
            for (int d = 0; d < D; d++) v += w3[(size_t)k * D + d] * a2[d];
            h[k] = tanh(v);
        }
        double mx = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++) {
            double v = b4[k];
            for (int d = 0; d < 128; d++) v += w4[k * 128 + d] * h[d];
            o[k] = tanh(v);
            mx = o[k] > mx ? o[k] : mx;
        }
        for (int k = 0; k < K; k++) sum += exp(o[k] - mx);
        loss -= o[y[s]] - mx - log(sum);
        int best = 0;
        for (int k = 1; k < K; k++) best = o[k] > o[best] ? k : best;
        pred[s] = best;
    }
    free(a1);
    free(a2);
    return loss;
}

/* ---- a model with random weights and inputs ---- */

typedef struct {
    hc_model m;
    int C, H, W, n;
    double *param, *grad, *x;
    int *y;
} setup;

static void make(setup *s, int C, int H, int W, int n, uint64_t seed)
{
    hc_err e = {0};
    memset(s, 0, sizeof *s);
    if (model_create(&s->m, "cnn", C, H, W, 10, n, &e)) {
        printf("Bail out! %s\n", e.msg);
        exit(1);
    }
    s->C = C, s->H = H, s->W = W, s->n = n;
    s->param = malloc(s->m.n_params * sizeof *s->param);
    s->grad = malloc(s->m.n_params * sizeof *s->grad);
    s->x = malloc((size_t)n * C * H * W * sizeof *s->x);
    s->y = malloc((size_t)n * sizeof *s->y);
    model_init_params(&s->m, s->param, seed);
    /* larger weights than PyTorch's init so that fc2's tanh is far from linear and
     * the loss depends on every layer by more than rounding */
    for (size_t i = 0; i < s->m.n_params; i++) s->param[i] *= 3;
    hc_rng r;
    rng_seed(&r, seed, 99);
    for (size_t i = 0; i < (size_t)n * C * H * W; i++) s->x[i] = 2 * rng_uniform(&r) - 1;
    for (int i = 0; i < n; i++) s->y[i] = (int)(rng_uniform(&r) * 10);
}

static void unmake(setup *s)
{
    model_destroy(&s->m);
    free(s->param); free(s->grad); free(s->x); free(s->y);
}

static double loss_of(setup *s)
{
    double loss = 0, correct = 0;
    s->m.ops->eval_batch(&s->m, s->param, s->x, s->y, s->n, &loss, &correct);
    return loss;
}

static void check_reference(int C, int H, int W, int n)
{
    setup s;
    make(&s, C, H, W, n, 3);
    int *pred = malloc((size_t)n * sizeof *pred);
    double ref = ref_loss(&s.m, s.param, s.x, s.y, n, C, H, W, pred);
    double loss = 0, correct = 0, ref_correct = 0;
    s.m.ops->eval_batch(&s.m, s.param, s.x, s.y, n, &loss, &correct);
    for (int i = 0; i < n; i++) ref_correct += pred[i] == s.y[i];
    double train = s.m.ops->train_batch(&s.m, s.param, s.x, s.y, n, 1, s.grad);
    ok(fabs(loss - ref) < 1e-12 * fabs(ref) && correct == ref_correct && train == loss,
       "%dx%dx%d, %d samples: forward = naive PyTorch-order reference (loss %.15g vs %.15g, "
       "correct %g vs %g); train_batch's loss the same", C, H, W, n, loss, ref, correct,
       ref_correct);
    free(pred);
    unmake(&s);
}

/* Central differences of the summed loss against train_batch's gradient for every
 * `stride`-th entry of tensor t (all of them when stride is 1). */
static void check_tensor(setup *s, int t, int stride)
{
    const hc_tensor *T = &s->m.tensors[t];
    s->m.ops->train_batch(&s->m, s->param, s->x, s->y, s->n, 1, s->grad);
    double worst = 0, gmax = 0;
    int checked = 0;
    for (size_t i = 0; i < T->count; i += (size_t)stride) {
        double *w = &s->param[T->offset + i], keep = *w, d = 1e-6;
        *w = keep + d;
        double lp = loss_of(s);
        *w = keep - d;
        double lm = loss_of(s);
        *w = keep;
        double fd = (lp - lm) / (2 * d), g = s->grad[T->offset + i];
        if (fabs(fd - g) > worst) worst = fabs(fd - g);
        if (fabs(g) > gmax) gmax = fabs(g);
        checked++;
    }
    ok(gmax > 0 && worst < 1e-6 * gmax, "%dx%dx%d, %d samples: %s.%s, %d of %zu entries: "
       "max |FD - grad| %.2e, max |grad| %.2e (rel %.1e)", s->C, s->H, s->W, s->n, T->layer,
       T->param, checked, T->count, worst, gmax, worst / gmax);
}

static void check_gradients(int C, int H, int W, int n, int stride)
{
    setup s;
    make(&s, C, H, W, n, 5);
    for (int t = 0; t < s.m.n_tensors; t++) {
        const hc_tensor *T = &s.m.tensors[t];
        int st = T->layer[0] == 'f' && T->count > 200 ? 37 : stride;   /* fc weights: a sample */
        if (T->param[0] == 'b') st = 1;
        check_tensor(&s, t, st);
    }
    /* the scale multiplies every gradient; zero samples give a zero gradient */
    double *g1 = malloc(s.m.n_params * sizeof *g1);
    s.m.ops->train_batch(&s.m, s.param, s.x, s.y, n, 1, g1);
    s.m.ops->train_batch(&s.m, s.param, s.x, s.y, n, 0.25, s.grad);
    int scaled = 1;
    for (size_t i = 0; i < s.m.n_params; i++)
        scaled &= fabs(s.grad[i] - 0.25 * g1[i]) <= 1e-15 * fabs(g1[i]) + 1e-300;
    double l0 = s.m.ops->train_batch(&s.m, s.param, s.x, s.y, 0, 1, s.grad);
    int zero = l0 == 0;
    for (size_t i = 0; i < s.m.n_params; i++) zero &= s.grad[i] == 0;
    ok(scaled && zero, "%dx%dx%d: grad = scale * dL/dparam; an empty shard gives 0 and loss 0",
       C, H, W);
    free(g1);
    unmake(&s);
}

/* ---- the hypergradient through the CNN (fdutil.h) ---- */

static hc_dataset ds;
static const fd_run run = {.ds = &ds, .model = "cnn", .batch = 8, .step = 5};

static void check_hyper(const char *stack, int j, int h, const char *name)
{
    fd_result c = fd_check(&run, stack, j, h);
    ok(c.agree, "cnn %-34s level %d %-6s HG %+.9e  FD %+.9e  rel %.1e", stack, j + 1, name,
       c.hg, c.fd, c.rel);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ok(HC_REAL_IS_DOUBLE, "built in double precision");

    check_reference(3, 6, 6, 4);
    check_reference(2, 7, 9, 3);        /* H != W: a swap of rows and columns shows */
    check_reference(3, 32, 32, 2);      /* CIFAR's shape */

    check_gradients(3, 6, 6, 5, 1);     /* every conv entry, one im2col block */
    check_gradients(2, 7, 9, 3, 1);
    check_gradients(3, 12, 12, 18, 7);  /* blocks of 4 samples in double: the last short */

    hc_err e = {0};
    hc_model bad;
    ok(model_create(&bad, "cnn", 3, 4, 8, 10, 8, &e) == HC_ERR_USAGE && strstr(e.msg, "5x5"),
       "a 4x8 image is refused: %s", e.msg);

    /* 3 x 6 x 6 images: testdata's 1-channel 18 x 6 samples, read as 3 channels */
    if (testdata_make(&ds, 48, 8, 18, 6, 10, 11)) return 99;
    ds.channels = 3, ds.height = 6, ds.width = 6;
    check_hyper("adam(alpha=0.01) / sgd(alpha=1e-6)", 0, 0, "alpha");
    check_hyper("adam(alpha=0.01) / sgd(alpha=1e-6)", 0, 1, "beta1");
    check_hyper("sgd(alpha=0.05, mu=0.9) / sgd(alpha=1e-4)", 0, 0, "alpha");
    dataset_free(&ds);
    MPI_Finalize();
    return tap_done();
}
