/* digest.h - a 64-bit digest of arrays as a file stores them. Each dataset's chunks carry
 * a checksum of their own bytes, which cannot say whether the chunks that make up a file
 * belong together: a checkpoint whose chunks are partly those of an older checkpoint of
 * the same run (a stale block on a storage fault, a bad copy) has every checksum right.
 * The digest of all the arrays, stored in the checksummed header, can. Not
 * cryptographic: it finds accidents, not forgeries. */
#ifndef HC_DIGEST_H
#define HC_DIGEST_H
#include <stddef.h>
#include <stdint.h>
#include "hc_real.h"

typedef struct {
    uint64_t h, bytes;
} hc_digest;

#define HC_DIGEST_TEXT 24          /* "mix64:" and 16 hex digits */

/* One array's digest: its path in the file (so that two arrays swapped differ), then its
 * values as stored. A file's digest is the sum of its arrays' digest_value()s: the same
 * whatever order a reader meets them in (info walks groups in name order). */
void digest_init(hc_digest *d, const char *path);
void digest_bytes(hc_digest *d, const void *p, size_t n);
/* hc_real values as float32, as /model stores them whatever the build's hc_real */
void digest_float32(hc_digest *d, const hc_real *p, size_t n);
uint64_t digest_value(const hc_digest *d);
void digest_text(uint64_t sum, char out[HC_DIGEST_TEXT]);

#endif
