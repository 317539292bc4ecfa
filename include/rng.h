/* rng.h - a small seeded generator (xoshiro256**), identical on every rank. */
#ifndef HC_RNG_H
#define HC_RNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } hc_rng;

/* Seeds from (seed, stream): distinct streams give independent sequences, so the
 * permutation of epoch e depends on (seed, e) only, never on what ran before. */
void rng_seed(hc_rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(hc_rng *r);
double rng_uniform(hc_rng *r);                 /* in [0, 1) */
void rng_permutation(hc_rng *r, int *perm, int n); /* Fisher-Yates of 0..n-1 */

#endif
