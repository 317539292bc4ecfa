/* gemm.h - every matrix product goes through BLIS's typed API with explicit strides,
 * so a transpose is a choice of strides, never a copy. */
#ifndef HC_GEMM_H
#define HC_GEMM_H
#include <blis.h>
#include "hc_real.h"

/* C (m x n) = alpha A (m x k) B (k x n) + beta C; each matrix given by its row and
 * column strides (row-major: rs = columns, cs = 1; its transpose: rs = 1, cs = columns). */
static inline void gemm(dim_t m, dim_t n, dim_t k, hc_real alpha,
                        const hc_real *A, inc_t rsa, inc_t csa,
                        const hc_real *B, inc_t rsb, inc_t csb,
                        hc_real beta, hc_real *C, inc_t rsc, inc_t csc)
{
#if HC_REAL_IS_DOUBLE
    bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, (double *)A, rsa, csa,
              (double *)B, rsb, csb, &beta, C, rsc, csc);
#else
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, (float *)A, rsa, csa,
              (float *)B, rsb, csb, &beta, C, rsc, csc);
#endif
}

#endif
