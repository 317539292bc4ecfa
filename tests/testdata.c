/* testdata.c - small synthetic, learnable data sets and their IDX files.
 *
 * Each class has a fixed random prototype image; a sample is its class prototype
 * with about one pixel in five replaced by noise, so a small MLP separates the
 * classes within a few steps. Everything follows from the seed alone. */
#include "testdata.h"
#include "info.h"
#include "rng.h"
#include "../src/data_family.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define NOISE 0.2   /* probability that a pixel is replaced by a random value */

enum { STREAM_PROTOTYPES, STREAM_TRAIN, STREAM_TEST };

static uint8_t random_pixel(hc_rng *r) { return (uint8_t)(rng_next(r) >> 56); }

static int fill_split(hc_split *s, int n, int size, int n_classes, const uint8_t *proto,
                      hc_rng *r)
{
    /* malloc(0) may return NULL; a split of 0 samples still gets a valid pointer. */
    s->pixels = malloc((size_t)n * (size_t)size + 1);
    s->labels = malloc((size_t)n + 1);
    if (!s->pixels || !s->labels) return -1;
    s->n = n;
    for (int i = 0; i < n; i++) {
        int c = (int)(rng_uniform(r) * n_classes);
        const uint8_t *p = proto + (size_t)c * (size_t)size;
        uint8_t *x = s->pixels + (size_t)i * (size_t)size;
        s->labels[i] = (uint8_t)c;
        for (int j = 0; j < size; j++) x[j] = rng_uniform(r) < NOISE ? random_pixel(r) : p[j];
    }
    return 0;
}

int testdata_make(hc_dataset *ds, int n_train, int n_test, int rows, int cols,
                  int n_classes, unsigned seed)
{
    memset(ds, 0, sizeof *ds);
    if (n_train < 0 || n_test < 0 || rows < 1 || cols < 1 || n_classes < 1 || n_classes > 256)
        return -1;
    snprintf(ds->name, sizeof ds->name, "mnist");
    ds->channels = 1;
    ds->height = rows;
    ds->width = cols;
    ds->sample_size = rows * cols;
    ds->n_classes = n_classes;
    dataset_set_unit_scale(ds);

    size_t proto_bytes = (size_t)n_classes * (size_t)ds->sample_size;
    uint8_t *proto = malloc(proto_bytes);
    if (!proto) return -1;
    hc_rng r;
    rng_seed(&r, seed, STREAM_PROTOTYPES);
    for (size_t i = 0; i < proto_bytes; i++) proto[i] = random_pixel(&r);

    /* Separate streams: the test split does not change when n_train does. */
    rng_seed(&r, seed, STREAM_TRAIN);
    int rc = fill_split(&ds->train, n_train, ds->sample_size, n_classes, proto, &r);
    rng_seed(&r, seed, STREAM_TEST);
    if (!rc) rc = fill_split(&ds->test, n_test, ds->sample_size, n_classes, proto, &r);
    free(proto);
    if (rc) dataset_free(ds);
    return rc;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Writes one IDX file: magic, ndims big-endian dimensions, then the data. */
static int write_idx(const char *path, int gz, uint32_t magic, const uint32_t *dims, int ndims,
                     const uint8_t *data, size_t len)
{
    unsigned char hdr[16];
    put_be32(hdr, magic);
    for (int i = 0; i < ndims; i++) put_be32(hdr + 4 * (i + 1), dims[i]);
    gzFile g = gzopen(path, gz ? "wb" : "wbT");   /* "T": plain, uncompressed */
    if (!g) return -1;
    int bad = gzwrite(g, hdr, (unsigned)(4 * (ndims + 1))) != 4 * (ndims + 1);
    for (size_t off = 0; !bad && off < len;) {
        unsigned chunk = (unsigned)(len - off < (1u << 30) ? len - off : (1u << 30));
        bad = gzwrite(g, data + off, chunk) != (int)chunk;
        off += chunk;
    }
    return (gzclose(g) != Z_OK || bad) ? -1 : 0;
}

/* Writes dir/name[.gz] and removes the other variant, which the loader might
 * otherwise pick up from an earlier run (it prefers the plain file). */
static int write_one(const char *dir, const char *name, int gz, uint32_t magic,
                     const uint32_t *dims, int ndims, const uint8_t *data, size_t len)
{
    char path[4096], other[4096];
    if (snprintf(path, sizeof path, "%s/%s%s", dir, name, gz ? ".gz" : "") >= (int)sizeof path ||
        snprintf(other, sizeof other, "%s/%s%s", dir, name, gz ? "" : ".gz") >= (int)sizeof other)
        return -1;
    if (remove(other) != 0 && errno != ENOENT) return -1;
    return write_idx(path, gz, magic, dims, ndims, data, len);
}

static int write_split(const hc_dataset *ds, const hc_split *s, const char *dir,
                       const char *prefix, int gz)
{
    char name[64];
    uint32_t dims[3] = {(uint32_t)s->n, (uint32_t)ds->height, (uint32_t)ds->width};
    size_t bytes = (size_t)s->n * (size_t)ds->sample_size;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    if (write_one(dir, name, gz, 0x00000803u, dims, 3, s->pixels, bytes)) return -1;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    return write_one(dir, name, gz, 0x00000801u, dims, 1, s->labels, (size_t)s->n);
}

int testdata_write_idx(const hc_dataset *ds, const char *dir, int gz)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return -1;
    if (write_split(ds, &ds->train, dir, "train", gz)) return -1;
    return write_split(ds, &ds->test, dir, "t10k", gz);
}

char *testdata_info_text(const char *path, int *rc, hc_err *e)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return NULL;
    *rc = info_run(path, out, e);
    fclose(out);
    return text;
}
