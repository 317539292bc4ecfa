/* comm.c - the fused allreduce and the collective error agreement. */
#include "comm.h"
#include <stdlib.h>
#include <string.h>

#define HEADER_DOUBLES 8   /* keeps the values and grad parts 64-byte aligned */

static size_t round8(size_t n) { return (n + 7) / 8 * 8; }

/* MPI calls this with whole buffers (count 1 of a contiguous type): the header says
 * where the doubles end and the reals begin. Addition is commutative bitwise, so every
 * rank ends with the same bits whatever the reduction tree. */
static void fused_sum(void *in, void *inout, int *len, MPI_Datatype *type)
{
    int bytes;
    MPI_Type_size(*type, &bytes);
    for (int e = 0; e < *len; e++) {
        char *a = (char *)in + (size_t)e * bytes, *b = (char *)inout + (size_t)e * bytes;
        const double *hin = (const double *)a;
        size_t n_doubles = (size_t)hin[0];
        const double *din = hin + HEADER_DOUBLES;
        double *dout = (double *)b + HEADER_DOUBLES;
        for (size_t i = 0; i < n_doubles; i++) dout[i] += din[i];
        size_t off = (HEADER_DOUBLES + n_doubles) * sizeof(double);
        size_t n_reals = ((size_t)bytes - off) / sizeof(hc_real);
        const hc_real *rin = (const hc_real *)(a + off);
        hc_real *rout = (hc_real *)(b + off);
        for (size_t i = 0; i < n_reals; i++) rout[i] += rin[i];
    }
}

int comm_init(hc_comm *c, MPI_Comm comm, size_t n_doubles, size_t n_reals, hc_err *e)
{
    memset(c, 0, sizeof *c);
    c->comm = comm;
    MPI_Comm_rank(comm, &c->rank);
    MPI_Comm_size(comm, &c->size);
    c->n_doubles = n_doubles;
    c->n_reals = n_reals;
    size_t nd = round8(n_doubles);
    c->buf_bytes = (HEADER_DOUBLES + nd) * sizeof(double) + round8(n_reals) * sizeof(hc_real);
    if (c->buf_bytes > (size_t)2147483647)
        return hc_fail(e, HC_ERR_RUNTIME, "gradient buffer of %zu bytes is too large for one allreduce",
                       c->buf_bytes);
    if (posix_memalign(&c->buf, 64, c->buf_bytes))
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the gradient buffer");
    memset(c->buf, 0, c->buf_bytes);
    double *header = c->buf;
    header[0] = (double)nd;
    c->values = header + HEADER_DOUBLES;
    c->grad = (hc_real *)(c->values + nd);
    MPI_Type_contiguous((int)c->buf_bytes, MPI_BYTE, &c->type);
    MPI_Type_commit(&c->type);
    MPI_Op_create(fused_sum, 1, &c->sum);
    return 0;
}

void comm_free(hc_comm *c)
{
    if (!c->buf) return;
    MPI_Op_free(&c->sum);
    MPI_Type_free(&c->type);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

int comm_allreduce(hc_comm *c, hc_err *e)
{
    if (c->size == 1) return 0;
    int rc = MPI_Allreduce(MPI_IN_PLACE, c->buf, 1, c->type, c->sum, c->comm);
    if (rc != MPI_SUCCESS) return hc_fail(e, HC_ERR_RUNTIME, "MPI_Allreduce failed (%d)", rc);
    return 0;
}

void comm_shard(const hc_comm *c, int n, int *begin, int *end)
{
    *begin = (int)((long)n * c->rank / c->size);
    *end = (int)((long)n * (c->rank + 1) / c->size);
}

int comm_agree_on(MPI_Comm comm, hc_err *e)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int mine = e->code ? rank : size, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size) return 0;
    int code = e->code;
    MPI_Bcast(&code, 1, MPI_INT, first, comm);
    MPI_Bcast(e->msg, HC_ERR_MSG, MPI_CHAR, first, comm);
    e->code = code;
    return code;
}

int comm_agree(const hc_comm *c, hc_err *e) { return comm_agree_on(c->comm, e); }

uint64_t checksum64(const void *data, size_t bytes)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

int comm_check_identical(const hc_comm *c, uint64_t sum, const char *what, hc_err *e)
{
    uint64_t lo = sum, hi = sum;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, c->comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, c->comm);
    if (lo == hi) return 0;
    return hc_fail(e, HC_ERR_RUNTIME,
                   "ranks disagree on %s (checksums %016llx .. %016llx): the run is no longer "
                   "data-parallel, stopping", what, (unsigned long long)lo, (unsigned long long)hi);
}
