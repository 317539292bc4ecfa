/* test_cifar.c - the CIFAR-10 binary loader and the per-channel normalisation.
 *
 * Generated CIFAR-format folders (any whole number of 3073-byte records per file):
 * good ones, plain and gzipped, load exactly; every kind of bad file fails with one
 * line that names the file and says what is wrong. Then the normalisations: the
 * training split's own statistics against a direct two-pass computation, the
 * authors' constants, and what they put in the lookup table and the metrics label. */
#define _GNU_SOURCE   /* nftw */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "data.h"
#include "../src/data_cifar.h"
#include "tap.h"
#include "testdata.h"

#define REC 3073
#define PIX 3072

static char root[64];
static hc_dataset ref;              /* 3 x 32 x 32 samples: testdata's 96 x 32 images */
static const int per_batch[5] = {7, 3, 1, 8, 5};   /* uneven on purpose: 24 in all */
#define N_TRAIN 24
#define N_TEST 9

static const char *const batch_name[6] = {"data_batch_1.bin", "data_batch_2.bin",
                                          "data_batch_3.bin", "data_batch_4.bin",
                                          "data_batch_5.bin", "test_batch.bin"};

static int write_bytes(const char *path, const void *data, size_t len, int gz)
{
    gzFile g = gzopen(path, gz ? "wb" : "wbT");
    if (!g) return -1;
    int bad = len && gzwrite(g, data, (unsigned)len) != (int)len;
    return (gzclose(g) != Z_OK || bad) ? -1 : 0;
}

/* The records of samples [first, first + n) of split s. */
static unsigned char *records(const hc_split *s, int first, int n)
{
    unsigned char *buf = malloc((size_t)n * REC + 1);
    if (!buf) exit(1);
    for (int i = 0; i < n; i++) {
        buf[(size_t)i * REC] = s->labels[first + i];
        memcpy(buf + (size_t)i * REC + 1, s->pixels + (size_t)(first + i) * PIX, PIX);
    }
    return buf;
}

/* A fresh folder root/name with the six files of ref; gz: 0 plain, 1 gzipped, 2 mixed. */
static char *good_folder(const char *name, int gz, char *dir)
{
    char path[600];
    snprintf(dir, 512, "%s/%s", root, name);
    mkdir(dir, 0777);
    int first = 0;
    for (int b = 0; b < 6; b++) {
        const hc_split *s = b < 5 ? &ref.train : &ref.test;
        int n = b < 5 ? per_batch[b] : N_TEST, z = gz == 2 ? b % 2 : gz;
        unsigned char *buf = records(s, b < 5 ? first : 0, n);
        snprintf(path, sizeof path, "%s/%s%s", dir, batch_name[b], z ? ".gz" : "");
        if (write_bytes(path, buf, (size_t)n * REC, z)) {
            printf("Bail out! cannot write %s\n", path);
            exit(1);
        }
        free(buf);
        if (b < 5) first += n;
    }
    return dir;
}

static int same_split(const hc_split *a, const hc_split *b)
{
    return a->n == b->n && !memcmp(a->labels, b->labels, (size_t)a->n) &&
           !memcmp(a->pixels, b->pixels, (size_t)a->n * PIX);
}

static void expect_good(const char *what, const char *dir)
{
    hc_dataset ds = {0};
    hc_err e = {0};
    int rc = data_cifar_load(&ds, dir, &e);
    ok(rc == 0 && !strcmp(ds.name, "cifar10") && ds.channels == 3 && ds.height == 32 &&
       ds.width == 32 && ds.sample_size == PIX && ds.n_classes == 10 &&
       same_split(&ds.train, &ref.train) && same_split(&ds.test, &ref.test),
       "%s: loads, 3x32x32, 10 classes, %d + %d samples byte for byte in file order%s%s", what,
       ds.train.n, ds.test.n, rc ? ": " : "", rc ? e.msg : "");
    dataset_free(&ds);
}

/* Loading dir fails; the message is one line naming `file` and containing every
 * string of `want` (NULL-terminated). */
static void expect_error(const char *what, const char *dir, const char *file,
                         const char *const *want)
{
    hc_dataset ds = {0};
    hc_err e = {0};
    int rc = data_cifar_load(&ds, dir, &e);
    int has = rc == HC_ERR_RUNTIME && strstr(e.msg, file) && !strchr(e.msg, '\n');
    for (int i = 0; has && want[i]; i++) has = strstr(e.msg, want[i]) != NULL;
    ok(has && ds.train.pixels == NULL, "%s: fails naming %s: %s", what, file, e.msg);
    dataset_free(&ds);
}

static char *file_in(char *buf, const char *dir, const char *name)
{
    snprintf(buf, 600, "%s/%s", dir, name);
    return buf;
}

static void loader_cases(void)
{
    char dir[512], path[600];
    expect_good("plain files", good_folder("plain", 0, dir));
    expect_good("gzipped files", good_folder("gz", 1, dir));
    expect_good("plain and gzipped mixed", good_folder("mixed", 2, dir));

    /* a record cut short in data_batch_3.bin (its only record) */
    good_folder("trunc", 0, dir);
    unsigned char *buf = records(&ref.train, 10, 1);
    write_bytes(file_in(path, dir, "data_batch_3.bin"), buf, REC - 100, 0);
    expect_error("truncated record", dir, path,
                 (const char *[]){"truncated", "0 whole 3073-byte records and 2973 bytes over",
                                  NULL});
    free(buf);

    /* one record and a half in data_batch_2.bin, gzipped */
    good_folder("trunc_gz", 1, dir);
    buf = records(&ref.train, 7, 2);
    write_bytes(file_in(path, dir, "data_batch_2.bin.gz"), buf, REC + 1500, 1);
    expect_error("truncated (gzipped) data", dir, path,
                 (const char *[]){"1 whole 3073-byte records and 1500 bytes over", NULL});
    free(buf);

    /* a gzip stream cut in the middle: zlib sees no end-of-stream */
    good_folder("cut_gz", 1, dir);
    file_in(path, dir, "data_batch_4.bin.gz");
    {
        FILE *f = fopen(path, "rb");
        unsigned char tmp[1 << 16];
        size_t n = fread(tmp, 1, sizeof tmp, f);
        fclose(f);
        f = fopen(path, "wb");
        fwrite(tmp, 1, n / 2, f);
        fclose(f);
    }
    expect_error("gzip stream cut short", dir, path, (const char *[]){"gzip", NULL});

    /* a label of 10 in record 4 of the test batch */
    good_folder("label", 0, dir);
    buf = records(&ref.test, 0, N_TEST);
    buf[4 * REC] = 10;
    write_bytes(file_in(path, dir, "test_batch.bin"), buf, (size_t)N_TEST * REC, 0);
    expect_error("label 10", dir, path,
                 (const char *[]){"label of record 4", "is 10", "must be < 10", NULL});
    buf[4 * REC] = 255;
    write_bytes(file_in(path, dir, "test_batch.bin"), buf, (size_t)N_TEST * REC, 0);
    expect_error("label 255", dir, path, (const char *[]){"is 255", NULL});
    free(buf);

    /* an empty file */
    good_folder("empty", 0, dir);
    write_bytes(file_in(path, dir, "data_batch_5.bin"), "", 0, 0);
    expect_error("empty file", dir, path, (const char *[]){"empty", NULL});

    /* missing files */
    good_folder("missing", 0, dir);
    unlink(file_in(path, dir, "test_batch.bin"));
    expect_error("no test_batch.bin", dir, path,
                 (const char *[]){"no such file", "test_batch.bin.gz", NULL});
    good_folder("missing2", 1, dir);
    unlink(file_in(path, dir, "data_batch_1.bin.gz"));
    file_in(path, dir, "data_batch_1.bin");
    expect_error("no data_batch_1", dir, path, (const char *[]){"no such file", NULL});

    /* pointed at the folder the tarball was unpacked into */
    snprintf(dir, sizeof dir, "%s/unpacked", root);
    mkdir(dir, 0777);
    good_folder("unpacked/cifar-10-batches-bin", 0, path);
    expect_error("the tarball's parent folder", dir, "data_batch_1.bin",
                 (const char *[]){"cifar-10-batches-bin subfolder", NULL});

    snprintf(dir, sizeof dir, "%s/nowhere", root);
    expect_error("no such folder", dir, "nowhere/data_batch_1.bin",
                 (const char *[]){"no such file", NULL});
}

/* ---- normalisation ---- */

static void norm_cases(void)
{
    hc_dataset ds = {0};
    hc_err e = {0};
    char dir[512];
    if (data_cifar_load(&ds, good_folder("norm", 0, dir), &e)) {
        printf("Bail out! %s\n", e.msg);
        exit(1);
    }
    /* the reference: two passes in double over every training pixel */
    double mean[3], std[3], rm[3], rs[3];
    for (int c = 0; c < 3; c++) {
        double s = 0, q = 0, n = (double)ds.train.n * 1024;
        for (int i = 0; i < ds.train.n; i++)
            for (int j = 0; j < 1024; j++)
                s += ds.train.pixels[(size_t)i * PIX + c * 1024 + j] / 255.0;
        rm[c] = s / n;
        for (int i = 0; i < ds.train.n; i++)
            for (int j = 0; j < 1024; j++) {
                double d = ds.train.pixels[(size_t)i * PIX + c * 1024 + j] / 255.0 - rm[c];
                q += d * d;
            }
        rs[c] = sqrt(q / n);
    }
    dataset_train_channel_stats(&ds, mean, std);
    double worst = 0;
    for (int c = 0; c < 3; c++)
        worst = fmax(worst, fmax(fabs(mean[c] - rm[c]), fabs(std[c] - rs[c])));
    ok(worst < 1e-12, "training-split channel statistics = direct two-pass values (mean "
       "%.4f/%.4f/%.4f, std %.4f/%.4f/%.4f, max diff %.1e)", mean[0], mean[1], mean[2], std[0],
       std[1], std[2], worst);

    ok(dataset_set_normalization(&ds, "train-stats", &e) == 0, "--normalize train-stats");
    char want[128];
    snprintf(want, sizeof want, "train-stats mean=%.4g/%.4g/%.4g std=%.4g/%.4g/%.4g", mean[0],
             mean[1], mean[2], std[0], std[1], std[2]);
    worst = 0;
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 256; p++)
            worst = fmax(worst, fabs(ds.lut[c][p] - (p / 255.0 - mean[c]) / std[c]));
    ok(!strcmp(ds.normalization, want) && worst < 1e-6,
       "train-stats: lut = (p/255 - mean)/std per channel (max diff %.1e), recorded as '%s'",
       worst, ds.normalization);

    /* gather applies each channel's table to its own plane */
    hc_real *x = malloc(PIX * sizeof *x);
    int idx = 3, y;
    dataset_gather(&ds, &ds.train, &idx, 1, x, &y);
    int planes = y == ds.train.labels[3];
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < 1024; j++)
            planes &= x[c * 1024 + j] == ds.lut[c][ds.train.pixels[3 * PIX + c * 1024 + j]];
    ok(planes, "dataset_gather: plane c of a sample goes through lut[c]");
    free(x);

    ok(dataset_set_normalization(&ds, "authors", &e) == 0 &&
       !strcmp(ds.normalization, "authors mean=0.474/0.473/0.473 std=0.252/0.252/0.251") &&
       fabs(ds.lut[0][255] - (1 - 0.474) / 0.252) < 1e-6 &&
       fabs(ds.lut[2][0] - (0 - 0.473) / 0.251) < 1e-6 &&
       fabs(ds.lut[1][128] - (128 / 255.0 - 0.473) / 0.252) < 1e-6,
       "authors: the notebook's constants in the lut, recorded as '%s'", ds.normalization);
    ok(dataset_set_normalization(&ds, "unit", &e) == 0 && !strcmp(ds.normalization, "pixel/255")
       && ds.lut[2][51] == (float)(51 / 255.0f), "unit: pixel/255");
    ok(dataset_set_normalization(&ds, "zscore", &e) == HC_ERR_USAGE &&
       strstr(e.msg, "'zscore'") && strstr(e.msg, "train-stats, authors or unit"),
       "an unknown mode is a usage error: %s", e.msg);
    dataset_free(&ds);

    /* a 1-channel data set: one value each, and the authors' constants do not apply */
    if (testdata_make(&ds, 40, 4, 6, 6, 10, 2)) exit(1);
    dataset_train_channel_stats(&ds, mean, std);
    dataset_set_channel_norm(&ds, mean, std, "train-stats");
    snprintf(want, sizeof want, "train-stats mean=%.4g std=%.4g", mean[0], std[0]);
    ok(!strcmp(ds.normalization, want), "1 channel: recorded as '%s'", ds.normalization);
    ok(dataset_set_normalization(&ds, "authors", &e) == HC_ERR_USAGE && strstr(e.msg, "3 channels"),
       "authors on 1-channel data: %s", e.msg);
    /* a constant channel: std 0 would divide by zero; it is only centred */
    memset(ds.train.pixels, 51, (size_t)ds.train.n * ds.sample_size);
    dataset_train_channel_stats(&ds, mean, std);
    dataset_set_channel_norm(&ds, mean, std, "train-stats");
    ok(std[0] == 0 && fabs(ds.lut[0][51]) < 1e-7 && isfinite(ds.lut[0][0]),
       "a constant channel: std 0, lut only centred (lut[51] = %g)", (double)ds.lut[0][51]);
    dataset_free(&ds);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/test_cifar.XXXXXX");
    if (!mkdtemp(root)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    if (testdata_make(&ref, N_TRAIN, N_TEST, 96, 32, 10, 17)) return 1;
    loader_cases();
    norm_cases();
    dataset_free(&ref);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return tap_done();
}
