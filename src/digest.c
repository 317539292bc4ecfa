/* digest.c - a 64-bit digest of arrays (digest.h): the path, then eight bytes at a time,
 * each word mixed in by xor, a multiply by an odd constant and a shift, then the length. */
#include "digest.h"
#include <stdio.h>
#include <string.h>

#define K 0x9e3779b97f4a7c15ULL

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * K;
    return h ^ (h >> 31);
}

void digest_init(hc_digest *d, const char *path)
{
    d->h = 0x6a09e667f3bcc908ULL;
    d->bytes = 0;
    digest_bytes(d, path, strlen(path));
    d->bytes = 0;
}

void digest_bytes(hc_digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = d->h, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, b + i, 8);
        h = mix(h, w);
    }
    if (i < n) {
        w = 0;
        memcpy(&w, b + i, n - i);
        h = mix(h, w ^ ((uint64_t)(n - i) << 56));
    }
    d->h = h;
    d->bytes += n;
}

void digest_float32(hc_digest *d, const hc_real *p, size_t n)
{
    if (sizeof(hc_real) == sizeof(float)) {
        digest_bytes(d, p, n * sizeof(float));
        return;
    }
    float block[256];
    for (size_t i = 0; i < n; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        for (size_t j = 0; j < k; j++) block[j] = (float)p[i + j];
        digest_bytes(d, block, k * sizeof(float));
    }
}

uint64_t digest_value(const hc_digest *d) { return mix(mix(d->h, d->bytes), K); }

void digest_text(uint64_t sum, char out[HC_DIGEST_TEXT])
{
    snprintf(out, HC_DIGEST_TEXT, "mix64:%016llx", (unsigned long long)sum);
}
