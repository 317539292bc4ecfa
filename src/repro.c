/* repro.c - exact, order-free sums of shard gradients (see repro.h). */
#include "repro.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* x + 1.5 2^52 puts round(x) in the low mantissa bits for |x| < 2^51: a vectorisable
 * round-to-nearest-even conversion between doubles and int64 (AVX2 has no instruction). */
#define MAGIC 6755399441055744.0
#define FIXED_BITS 50               /* the sum of all shards stays below 2^50 */
#define EXP_NONFINITE INT_MAX       /* a shard gradient held Inf or NaN */
#define FIXED_BLOCK 2048            /* values summed over every shard at a time */

static int64_t magic_bits(void)
{
    double m = MAGIC;
    int64_t b;
    memcpy(&b, &m, sizeof b);
    return b;
}

int repro_init(hc_repro *r, int n_virtual, int rank, int size, size_t n, int n_seg,
               const size_t *seg, int max_eval, hc_err *e)
{
    memset(r, 0, sizeof *r);
    if (size > n_virtual)
        return hc_fail(e, HC_ERR_USAGE, "--reproducible %d cannot run on %d ranks: every rank "
                       "needs at least one of the %d virtual shards (use at most %d ranks, or "
                       "--reproducible %d)", n_virtual, size, n_virtual, n_virtual, size);
    r->n_virtual = n_virtual;
    r->first = (int)((long)n_virtual * rank / size);
    r->count = (int)((long)n_virtual * (rank + 1) / size) - r->first;
    r->n = n;
    r->n_seg = n_seg;
    r->n_eval = 2 * ((max_eval + HC_REPRO_EVAL_CHUNK - 1) / HC_REPRO_EVAL_CHUNK);
    r->seg = malloc((size_t)(n_seg + 1) * sizeof *r->seg);
    r->shard_grad = malloc((size_t)r->count * (n ? n : 1) * sizeof *r->shard_grad);
    r->fixed = malloc((n ? n : 1) * sizeof *r->fixed);
    r->exponent = malloc((size_t)(n_seg ? n_seg : 1) * sizeof *r->exponent);
    r->slot = calloc((size_t)n_virtual + 1, sizeof *r->slot);
    r->eval = calloc((size_t)(r->n_eval ? r->n_eval : 1), sizeof *r->eval);
    if (!r->seg || !r->shard_grad || !r->fixed || !r->exponent || !r->slot || !r->eval) {
        repro_free(r);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for --reproducible's shard gradients");
    }
    memcpy(r->seg, seg, (size_t)(n_seg + 1) * sizeof *seg);
    return 0;
}

void repro_free(hc_repro *r)
{
    free(r->seg); free(r->shard_grad); free(r->fixed); free(r->exponent); free(r->slot);
    free(r->eval);
    memset(r, 0, sizeof *r);
}

void repro_shard(const hc_repro *r, int j, int batch_n, int *begin, int *end)
{
    int v = r->first + j;
    *begin = (int)((long)batch_n * v / r->n_virtual);
    *end = (int)((long)batch_n * (v + 1) / r->n_virtual);
}

hc_real *repro_shard_grad(const hc_repro *r, int j) { return r->shard_grad + (size_t)j * r->n; }

/* A real's bits with the sign cleared: for non-negative reals their order is the values'
 * order, and Inf and NaN are the largest; an integer max over them vectorises. */
#if HC_REAL_IS_DOUBLE
typedef uint64_t real_bits;
#define ABS_MASK 0x7fffffffffffffffULL
#define INF_BITS 0x7ff0000000000000ULL
#else
typedef uint32_t real_bits;
#define ABS_MASK 0x7fffffffu
#define INF_BITS 0x7f800000u
#endif

static real_bits max_abs_bits(const hc_real *restrict g, size_t n, real_bits mx)
{
    for (size_t i = 0; i < n; i++) {
        real_bits b;
        memcpy(&b, &g[i], sizeof b);
        b &= ABS_MASK;
        mx = b > mx ? b : mx;
    }
    return mx;
}

/* The exponent e with every |g| of the slice below 2^e, over this rank's shards. */
static int local_exponent(const hc_repro *r, size_t lo, size_t hi)
{
    real_bits mx = 0;
    for (int j = 0; j < r->count; j++) mx = max_abs_bits(repro_shard_grad(r, j) + lo, hi - lo, mx);
    if (mx >= INF_BITS) return EXP_NONFINITE;
    hc_real m;
    memcpy(&m, &mx, sizeof m);
    int ex;
    frexp((double)m, &ex);                  /* m < 2^ex */
    return m == 0 ? INT_MIN : ex;
}

static void add_fixed(int64_t *restrict acc, const hc_real *restrict g, size_t n, double scale,
                      int64_t mb)
{
    for (size_t i = 0; i < n; i++) {
        double d = (double)g[i] * scale + MAGIC;
        int64_t b;
        memcpy(&b, &d, sizeof b);
        acc[i] += b - mb;
    }
}

static void from_fixed(hc_real *restrict g, const int64_t *restrict acc, size_t n,
                       double inv_scale, int64_t mb)
{
    for (size_t i = 0; i < n; i++) {
        int64_t b = acc[i] + mb;
        double d;
        memcpy(&d, &b, sizeof d);
        g[i] = (hc_real)((d - MAGIC) * inv_scale);
    }
}

int repro_reduce(hc_repro *r, hc_comm *c, hc_real *grad, int stop_here, double *loss_sum,
                 int *stop, hc_err *e)
{
    int shift = 0;                          /* ceil(log2 V): V shards add up below 2^50 */
    while ((1 << shift) < r->n_virtual) shift++;
    for (int s = 0; s < r->n_seg; s++)
        r->exponent[s] = local_exponent(r, r->seg[s], r->seg[s + 1]);
    if (comm_allreduce(c, r->exponent, r->n_seg, MPI_INT, MPI_MAX, "the step's allreduce", e))
        return e->code;
    const int64_t mb = magic_bits();
    memset(r->fixed, 0, r->n * sizeof *r->fixed);
    for (int s = 0; s < r->n_seg; s++) {
        size_t lo = r->seg[s], len = r->seg[s + 1] - lo;
        int ex = r->exponent[s];
        if (ex == INT_MIN || ex == EXP_NONFINITE) continue;
        double scale = ldexp(1.0, FIXED_BITS - shift - ex);
        for (size_t b = 0; b < len; b += FIXED_BLOCK) {     /* the block's sums stay in L1 */
            size_t m = len - b < FIXED_BLOCK ? len - b : FIXED_BLOCK;
            for (int j = 0; j < r->count; j++)
                add_fixed(r->fixed + lo + b, repro_shard_grad(r, j) + lo + b, m, scale, mb);
        }
    }
    r->slot[r->n_virtual] = stop_here;
    /* every rank is here (the exponents' watched allreduce): the large sum is blocking */
    if (comm_allreduce_blocking(c, r->fixed, (int)r->n, MPI_INT64_T, MPI_SUM, e) ||
        comm_allreduce_blocking(c, r->slot, r->n_virtual + 1, MPI_DOUBLE, MPI_SUM, e))
        return e->code;
    for (int s = 0; s < r->n_seg; s++) {
        size_t lo = r->seg[s], len = r->seg[s + 1] - lo;
        int ex = r->exponent[s];
        if (ex == INT_MIN) memset(grad + lo, 0, len * sizeof *grad);
        else if (ex == EXP_NONFINITE) for (size_t i = 0; i < len; i++) grad[lo + i] = (hc_real)NAN;
        else from_fixed(grad + lo, r->fixed + lo, len, ldexp(1.0, ex + shift - FIXED_BITS), mb);
    }
    double sum = 0.0;       /* one contributor per slot: exact; then in shard order */
    for (int v = 0; v < r->n_virtual; v++) sum += r->slot[v];
    *loss_sum = sum;
    *stop = r->slot[r->n_virtual] > 0;
    memset(r->slot, 0, ((size_t)r->n_virtual + 1) * sizeof *r->slot);
    return 0;
}

void repro_eval_chunks(const hc_repro *r, int n, int rank, int size, int *first, int *end)
{
    int chunks = (n + HC_REPRO_EVAL_CHUNK - 1) / HC_REPRO_EVAL_CHUNK;
    (void)r;
    *first = (int)((long)chunks * rank / size);
    *end = (int)((long)chunks * (rank + 1) / size);
}

void repro_eval_record(hc_repro *r, int chunk, double loss, double correct)
{
    r->eval[2 * chunk] = loss;
    r->eval[2 * chunk + 1] = correct;
}

int repro_eval_total(hc_repro *r, hc_comm *c, int n_chunks, double *loss, double *correct,
                     hc_err *e)
{
    if (comm_allreduce(c, r->eval, 2 * n_chunks, MPI_DOUBLE, MPI_SUM, "the evaluation's allreduce", e))
        return e->code;
    double l = 0.0, k = 0.0;
    for (int i = 0; i < n_chunks; i++) {
        l += r->eval[2 * i];
        k += r->eval[2 * i + 1];
    }
    *loss = l;
    *correct = k;
    memset(r->eval, 0, (size_t)r->n_eval * sizeof *r->eval);
    return 0;
}
