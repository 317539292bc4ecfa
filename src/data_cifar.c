/* data_cifar.c - CIFAR-10's binary release.
 *
 * The release is a folder of data_batch_1.bin ... data_batch_5.bin (training) and
 * test_batch.bin, each a sequence of 3073-byte records: one label byte (< 10), then
 * 3072 pixel bytes, the 32x32 red plane, then green, then blue, rows top to bottom.
 * That is the (channel, y, x) layout hc_dataset keeps, so records are copied as they
 * are. Each file may be plain or gzipped (NAME or NAME.gz; zlib reads both); the real
 * files have 10000 records, any whole number of records is accepted (generated test
 * data is smaller). Every check names the file: missing, unreadable, corrupt gzip,
 * empty, not a whole number of records (truncated), too large, label out of range.
 * As in the IDX loader, memory grows only as bytes actually arrive. */
#include "data_cifar.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10
#define CIFAR_MAX_RECORDS 1000000u      /* per file; the real ones have 10000 */
#define CIFAR_PATH 4096
#define CIFAR_FIRST_ALLOC ((size_t)1 << 22)

/* ---- reading one file ---- */


/* The whole (decompressed) content of `file`, at most max bytes. */
static int slurp(const char *file, size_t max, unsigned char **out, size_t *len, hc_err *e)
{
    unsigned char *buf = NULL;
    size_t cap = 0, got = 0;
    *out = NULL;
    *len = 0;
    errno = 0;
    gzFile g = gzopen(file, "rb");
    if (!g) {
        if (errno == ENOENT) return hc_fail(e, HC_ERR_RUNTIME, "no such file: %s", file);
        return hc_fail(e, HC_ERR_RUNTIME, "cannot open %s: %s", file,
                       errno ? strerror(errno) : "out of memory");
    }
    gzbuffer(g, 1u << 18);
    int rc = 0;
    for (;;) {
        if (got == cap) {
            if (cap > max) {
                rc = hc_fail(e, HC_ERR_RUNTIME, "%s: more than %u records (%zu bytes); not a "
                             "CIFAR-10 batch file", file, CIFAR_MAX_RECORDS, max);
                break;
            }
            size_t next = cap ? 2 * cap : CIFAR_FIRST_ALLOC;
            if (next > max + 1) next = max + 1;   /* one byte over the limit shows it */
            unsigned char *p = realloc(buf, next);
            if (!p) {
                rc = hc_fail(e, HC_ERR_RUNTIME, "%s: out of memory after %zu bytes", file, got);
                break;
            }
            buf = p;
            cap = next;
        }
        size_t want = cap - got;
        int r = gzread(g, buf + got, (unsigned)(want < (1u << 30) ? want : (1u << 30)));
        if (r < 0) {
            rc = dataset_gz_failure(g, file, e);
            break;
        }
        if (r == 0) {
            int errnum = 0;
            gzerror(g, &errnum);
            if (errnum == Z_BUF_ERROR)
                rc = hc_fail(e, HC_ERR_RUNTIME, "%s: truncated gzip stream (it ends after %zu "
                             "bytes of data, without its end-of-stream trailer)", file, got);
            break;
        }
        got += (size_t)r;
    }
    gzclose(g);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = got;
    return 0;
}

/* A common slip: DIR is where the tarball was unpacked, not its folder. The hint a
 * missing file's message gets then. */
static const char *subfolder_hint(const char *dir)
{
    char sub[CIFAR_PATH];
    struct stat st;
    if (snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir) < (int)sizeof sub &&
        stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
        return "; the files seem to be in the cifar-10-batches-bin subfolder: pass that folder";
    return "";
}

/* Reads one batch file and appends its records to split s (capacity *cap samples). */
static int append_batch(const char *file, hc_split *s, size_t *cap, hc_err *e)
{
    unsigned char *buf;
    size_t len;
    int rc = slurp(file, (size_t)CIFAR_MAX_RECORDS * CIFAR_RECORD, &buf, &len, e);
    if (rc) return rc;
    if (len == 0) {
        free(buf);
        return hc_fail(e, HC_ERR_RUNTIME, "%s: empty file (no records)", file);
    }
    if (len % CIFAR_RECORD) {
        free(buf);
        return hc_fail(e, HC_ERR_RUNTIME, "%s: truncated or not a CIFAR-10 binary batch: %zu "
                       "bytes is %zu whole %d-byte records and %zu bytes over", file, len,
                       len / CIFAR_RECORD, CIFAR_RECORD, len % CIFAR_RECORD);
    }
    size_t n = len / CIFAR_RECORD;
    for (size_t i = 0; i < n; i++) {
        unsigned lab = buf[i * CIFAR_RECORD];
        if (lab >= CIFAR_CLASSES) {
            free(buf);
            return hc_fail(e, HC_ERR_RUNTIME, "%s: label of record %zu (byte offset %zu) is %u, "
                           "must be < %d", file, i, i * CIFAR_RECORD, lab, CIFAR_CLASSES);
        }
    }
    size_t have = (size_t)s->n;
    if (have + n > (size_t)INT32_MAX / CIFAR_PIXELS) {
        free(buf);
        return hc_fail(e, HC_ERR_RUNTIME, "%s: too many samples in all", file);
    }
    if (have + n > *cap) {
        size_t want = have + n;
        uint8_t *px = realloc(s->pixels, want * CIFAR_PIXELS);
        if (px) s->pixels = px;
        uint8_t *lb = px ? realloc(s->labels, want) : NULL;
        if (lb) s->labels = lb;
        if (!px || !lb) {
            free(buf);
            return hc_fail(e, HC_ERR_RUNTIME, "%s: out of memory for %zu samples", file, want);
        }
        *cap = want;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r = buf + i * CIFAR_RECORD;
        s->labels[have + i] = r[0];
        memcpy(s->pixels + (have + i) * CIFAR_PIXELS, r + 1, CIFAR_PIXELS);
    }
    s->n = (int)(have + n);
    free(buf);
    return 0;
}


int data_cifar_load(hc_dataset *ds, const char *dir, hc_err *e)
{
    static const char *const names[6] = {"data_batch_1.bin", "data_batch_2.bin",
                                         "data_batch_3.bin", "data_batch_4.bin",
                                         "data_batch_5.bin", "test_batch.bin"};
    char path[6][CIFAR_PATH];
    hc_split train = {0}, test = {0};
    size_t cap_train = 0, cap_test = 0;
    int rc = 0;
    /* every file is located before any is read: a missing one fails at once */
    const char *hint = subfolder_hint(dir);
    for (int i = 0; i < 6 && !rc; i++)
        rc = dataset_find_file(dir, names[i], hint, path[i], sizeof path[i], e);
    for (int i = 0; i < 5 && !rc; i++) rc = append_batch(path[i], &train, &cap_train, e);
    if (!rc) rc = append_batch(path[5], &test, &cap_test, e);
    if (rc) {
        dataset_free_split(&train);
        dataset_free_split(&test);
        return rc;
    }
    if (!ds->name[0]) snprintf(ds->name, sizeof ds->name, "cifar10");
    ds->channels = 3;
    ds->height = CIFAR_SIDE;
    ds->width = CIFAR_SIDE;
    ds->sample_size = CIFAR_PIXELS;
    ds->n_classes = CIFAR_CLASSES;
    ds->train = train;
    ds->test = test;
    return 0;
}

/* The CIFAR-10 binary release is a folder of data_batch_N.bin files. */
static int looks_like_cifar(const char *dir)
{
    char file[4096], gz[4096];
    struct stat st;
    if (snprintf(file, sizeof file, "%s/data_batch_1.bin", dir) >= (int)sizeof file ||
        snprintf(gz, sizeof gz, "%s.gz", file) >= (int)sizeof gz)
        return 0;
    return stat(file, &st) == 0 || stat(gz, &st) == 0;
}

const hc_data_format data_cifar = {
    .format = "cifar", .names = {"cifar10", NULL},
    .about = "data_batch_{1..5}.bin, test_batch.bin[.gz]",
    .normalization = "train-stats", .detect = looks_like_cifar, .infer_name = NULL,
    .load = data_cifar_load};
