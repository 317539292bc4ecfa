/* test_idx.c - the IDX reader: good files (plain and gzipped) load exactly, and
 * every kind of bad file fails with a message that says what is wrong. */
#define _GNU_SOURCE   /* nftw */
#include "tap.h"
#include "testdata.h"
#include "../src/data_idx.h"
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define TRAIN_IMG "train-images-idx3-ubyte"
#define TRAIN_LBL "train-labels-idx1-ubyte"
#define TEST_IMG "t10k-images-idx3-ubyte"
#define TEST_LBL "t10k-labels-idx1-ubyte"
#define MAGIC_IMG 0x00000803u
#define MAGIC_LBL 0x00000801u

/* What every case shares: the temp folder and the reference data written into it. */
typedef struct {
    char root[64];
    hc_dataset ref;   /* 7x5 images (not square, so a rows/cols swap shows) */
} fixture;

/* ---- files ---------------------------------------------------------------- */

/* buf (512 bytes) = dir/name. */
static char *path_in(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, 512, "%s/%s", dir, name) >= 512) {
        printf("Bail out! path too long: %s/%s\n", dir, name);
        exit(1);
    }
    return buf;
}

/* A fresh folder root/name holding the good reference files. */
static char *good_folder(fixture *f, const char *name, int gz, char *dir)
{
    path_in(dir, f->root, name);
    if (testdata_write_idx(&f->ref, dir, gz) != 0) {
        printf("Bail out! cannot write %s\n", dir);
        exit(1);
    }
    return dir;
}

static int write_bytes(const char *path, const void *data, size_t len, int gz)
{
    gzFile g = gzopen(path, gz ? "wb" : "wbT");
    if (!g) return -1;
    int bad = len && gzwrite(g, data, (unsigned)len) != (int)len;
    return (gzclose(g) != Z_OK || bad) ? -1 : 0;
}

/* Writes an IDX file whose header says `dims` but whose data has `len` bytes
 * (taken from `data`, then zeros), so it can be short or over-long on purpose. */
static void write_idx(const char *path, int gz, uint32_t magic, const uint32_t *dims,
                      int ndims, const uint8_t *data, size_t data_len, size_t len)
{
    size_t hdr = 4 * (size_t)(ndims + 1);
    unsigned char *buf = calloc(1, hdr + len);
    if (!buf) exit(1);
    for (int i = 0; i <= ndims; i++) {
        uint32_t v = i ? dims[i - 1] : magic;
        for (int b = 0; b < 4; b++) buf[4 * i + b] = (unsigned char)(v >> (24 - 8 * b));
    }
    memcpy(buf + hdr, data, data_len < len ? data_len : len);
    if (write_bytes(path, buf, hdr + len, gz) != 0) {
        printf("Bail out! cannot write %s\n", path);
        exit(1);
    }
    free(buf);
}

/* An image file with the given header and the train pixels resized by delta bytes;
 * a label file likewise. */
static void write_images(const fixture *f, const char *path, int gz, uint32_t magic,
                         uint32_t n, uint32_t rows, uint32_t cols, long delta)
{
    const hc_split *s = &f->ref.train;
    uint32_t dims[3] = {n, rows, cols};
    size_t full = (size_t)s->n * (size_t)f->ref.sample_size;
    write_idx(path, gz, magic, dims, 3, s->pixels, full, (size_t)((long)full + delta));
}

static void write_labels(const char *path, int gz, uint32_t magic, uint32_t n, long delta,
                         const uint8_t *labels)
{
    uint32_t dims[1] = {n};
    write_idx(path, gz, magic, dims, 1, labels, (size_t)n, (size_t)((long)n + delta));
}

/* The whole of a small file (at least 16 bytes, else bail out). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = malloc(1 << 20);
    *len = fp && buf ? fread(buf, 1, 1 << 20, fp) : 0;
    if (fp) fclose(fp);
    if (*len < 16) {
        printf("Bail out! cannot read %s\n", path);
        exit(1);
    }
    return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* ---- checks --------------------------------------------------------------- */

static int same_split(const hc_split *a, const hc_split *b, int sample_size)
{
    return a->n == b->n && !memcmp(a->pixels, b->pixels, (size_t)a->n * (size_t)sample_size) &&
           !memcmp(a->labels, b->labels, (size_t)a->n);
}

static void check_good(const fixture *f, const char *dir, const char *what)
{
    hc_dataset ds = {0};
    hc_err e = {0};
    int rc = data_idx_load(&ds, dir, &e);
    if (!ok(rc == 0, "%s files load", what)) diag("%s", e.msg);
    ok(ds.train.n == f->ref.train.n && ds.test.n == f->ref.test.n, "%s: n train %d test %d",
       what, ds.train.n, ds.test.n);
    ok(ds.height == 7 && ds.width == 5 && ds.channels == 1 && ds.sample_size == 35,
       "%s: rows %d cols %d channels %d", what, ds.height, ds.width, ds.channels);
    ok(ds.n_classes == 10 && !strcmp(ds.name, "mnist"), "%s: 10 classes, name '%s'",
       what, ds.name);
    ok(rc == 0 && same_split(&ds.train, &f->ref.train, 35), "%s: train pixels and labels", what);
    ok(rc == 0 && same_split(&ds.test, &f->ref.test, 35), "%s: test pixels and labels", what);
    dataset_free(&ds);
}

/* data_idx_load(dir) must fail with a message containing word1 and word2. */
static void expect_fail(const char *dir, const char *what, const char *word1, const char *word2)
{
    hc_dataset ds = {0};
    hc_err e = {0};
    int rc = data_idx_load(&ds, dir, &e);
    int words = strstr(e.msg, word1) && (!word2 || strstr(e.msg, word2));
    ok(rc != 0 && words && !ds.train.pixels && !ds.test.pixels, "%s fails: %s", what, e.msg);
    dataset_free(&ds);
    dataset_free(&ds);   /* safe twice */
}

/* Like expect_fail, in a child whose address space is capped at 1 GiB: a loader
 * that trusted the header and allocated its claimed size would fail with "out of
 * memory" instead of naming the real problem. */
static void expect_fail_small(const char *dir, const char *what, const char *word)
{
    pid_t pid;
    int status = -1;
    fflush(stdout);
    if ((pid = fork()) == 0) {
        hc_dataset ds = {0};
        hc_err e = {0};
#ifndef __SANITIZE_ADDRESS__   /* ASan reserves terabytes of shadow address space */
        struct rlimit lim = {1ul << 30, 1ul << 30};
        setrlimit(RLIMIT_AS, &lim);
#endif
        int rc = data_idx_load(&ds, dir, &e);
        diag("%s: %s", what, e.msg);
        fflush(stdout);
        _exit(rc != 0 && strstr(e.msg, word) ? 0 : 1);
    }
    if (pid > 0) waitpid(pid, &status, 0);
    ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "%s fails fast with '%s', under a 1 GiB memory cap", what, word);
}

/* ---- cases ---------------------------------------------------------------- */

static void test_good(fixture *f)
{
    char dir[512], file[512];
    check_good(f, good_folder(f, "plain", 0, dir), "plain");
    good_folder(f, "gz", 1, dir);
    size_t len;
    unsigned char *b = slurp(path_in(file, dir, TRAIN_IMG ".gz"), &len);
    ok(b[0] == 0x1f && b[1] == 0x8b, "gz files are really gzipped");
    free(b);
    check_good(f, dir, "gzipped");

    hc_dataset ds = {0};
    hc_err e = {0};
    snprintf(ds.name, sizeof ds.name, "fashion-mnist");
    data_idx_load(&ds, dir, &e);
    ok(!strcmp(ds.name, "fashion-mnist"), "data_idx_load keeps a name already set");
    dataset_free(&ds);
}

static void test_missing_and_magic(fixture *f)
{
    char dir[512], file[512];
    good_folder(f, "missing", 0, dir);
    remove(path_in(file, dir, TEST_LBL));
    expect_fail(dir, "missing t10k labels", "no such file", TEST_LBL);

    good_folder(f, "magic_img", 0, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG), 0, 0x00000802u, 60, 7, 5, 0);
    expect_fail(dir, "wrong magic in images", "magic", TRAIN_IMG);

    good_folder(f, "magic_lbl", 0, dir);
    write_labels(path_in(file, dir, TEST_LBL), 0, MAGIC_IMG, 30, 0, f->ref.test.labels);
    expect_fail(dir, "wrong magic in labels", "magic", TEST_LBL);

    hc_err e = {0};
    uint8_t *px = NULL;
    int n, rows, cols;
    int rc = idx_read_images(path_in(file, f->root, "nothing-here"), &px, &n, &rows, &cols, &e);
    ok(rc != 0 && !px && strstr(e.msg, "no such file") && strstr(e.msg, "nothing-here"),
       "idx_read_images on a missing path: %s", e.msg);
}

static void test_truncated(fixture *f)
{
    char dir[512], file[512];
    good_folder(f, "trunc_img", 0, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG), 0, MAGIC_IMG, 60, 7, 5, -1);
    expect_fail(dir, "truncated images", "truncated", TRAIN_IMG);

    good_folder(f, "trunc_img_gz", 1, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG ".gz"), 1, MAGIC_IMG, 60, 7, 5, -35);
    expect_fail(dir, "truncated images (gz)", "truncated", TRAIN_IMG ".gz");

    /* The gzip file itself cut in half: zlib sees the stream end early. */
    good_folder(f, "cut_gz", 1, dir);
    size_t len;
    unsigned char *b = slurp(path_in(file, dir, TRAIN_IMG ".gz"), &len);
    write_bytes(file, b, len / 2, 0);
    free(b);
    expect_fail(dir, "gzip file cut in half", "truncated", TRAIN_IMG ".gz");

    good_folder(f, "trunc_lbl", 0, dir);
    write_labels(path_in(file, dir, TRAIN_LBL), 0, MAGIC_LBL, 60, -2, f->ref.train.labels);
    expect_fail(dir, "truncated labels", "truncated", TRAIN_LBL);

    good_folder(f, "empty", 0, dir);
    write_bytes(path_in(file, dir, TEST_IMG), "", 0, 0);
    expect_fail(dir, "empty image file", "truncated header", TEST_IMG);

    good_folder(f, "trailing", 0, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG), 0, MAGIC_IMG, 60, 7, 5, 3);
    expect_fail(dir, "trailing bytes", "3 trailing bytes", TRAIN_IMG);
}

static void test_contents(fixture *f)
{
    char dir[512], file[512];
    uint8_t labels[60];
    memcpy(labels, f->ref.train.labels, sizeof labels);
    labels[17] = 10;
    good_folder(f, "label_range", 0, dir);
    write_labels(path_in(file, dir, TRAIN_LBL), 0, MAGIC_LBL, 60, 0, labels);
    expect_fail(dir, "label out of range", "index 17 is 10", TRAIN_LBL);

    good_folder(f, "count", 0, dir);
    write_labels(path_in(file, dir, TRAIN_LBL), 0, MAGIC_LBL, 59, 0, f->ref.train.labels);
    expect_fail(dir, "image/label count mismatch", "60 images", "59 labels");

    good_folder(f, "zero_rows", 0, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG), 0, MAGIC_IMG, 60, 0, 5, -60 * 35);
    expect_fail(dir, "zero rows", "zero", TRAIN_IMG);

    good_folder(f, "size", 0, dir);
    write_images(f, path_in(file, dir, TEST_IMG), 0, MAGIC_IMG, 30, 5, 7, 30 * 35 - 60 * 35);
    expect_fail(dir, "train/test image size mismatch", "differs", "7x5");

    hc_err e = {0};
    uint8_t *lb = NULL;
    int n = -1;
    int rc = idx_read_labels(path_in(file, dir, TRAIN_LBL), 3, &lb, &n, &e);
    ok(rc != 0 && !lb && n == 0 && strstr(e.msg, "must be < 3"),
       "idx_read_labels with 3 classes rejects label >= 3: %s", e.msg);
}

static void test_absurd(fixture *f)
{
    char dir[512], file[512];
    good_folder(f, "absurd_n", 0, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG), 0, MAGIC_IMG, 4000000000u, 28, 28,
                 -60 * 35 + 10);
    expect_fail_small(dir, "absurd n = 4e9 in a 26-byte file", "absurd");

    good_folder(f, "absurd_size", 0, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG), 0, MAGIC_IMG, 60, 65536, 65536, 0);
    expect_fail_small(dir, "absurd 65536x65536 images", "absurd");

    /* Within the limits (78 GB claimed), but the file holds 10 bytes. */
    good_folder(f, "big_n", 1, dir);
    write_images(f, path_in(file, dir, TRAIN_IMG ".gz"), 1, MAGIC_IMG, 99999999u, 28, 28,
                 -60 * 35 + 10);
    expect_fail_small(dir, "n = 99999999 of 28x28 in a tiny gz file", "truncated");
}

static void test_corrupt_gzip(fixture *f)
{
    char dir[512], file[512];
    /* A gzip header followed by bytes that are not deflate data (block type 3). */
    unsigned char junk[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memset(junk + 10, 0xff, sizeof junk - 10);
    good_folder(f, "corrupt_gz", 1, dir);
    write_bytes(path_in(file, dir, TRAIN_LBL ".gz"), junk, sizeof junk, 0);
    expect_fail(dir, "corrupt gzip", "gzip", TRAIN_LBL ".gz");

    /* Good deflate data but a wrong CRC: only reading to the end notices. */
    good_folder(f, "crc_gz", 1, dir);
    size_t len;
    unsigned char *b = slurp(path_in(file, dir, TEST_IMG ".gz"), &len);
    b[len - 8] ^= 0x55;
    write_bytes(file, b, len, 0);
    free(b);
    expect_fail(dir, "gzip with a bad CRC", "gzip", TEST_IMG ".gz");
}

static void test_gather(fixture *f)
{
    char dir[512];
    hc_dataset ds;
    hc_err e = {0};
    int rc = dataset_load(&ds, good_folder(f, "gather", 0, dir), NULL, &e);
    if (!ok(rc == 0 && !strcmp(ds.name, "mnist"), "dataset_load of a plain folder: '%s'", ds.name))
        diag("%s", e.msg);
    ok(ds.lut[0][255] == 1 && ds.lut[0][0] == 0 && !strcmp(ds.normalization, "pixel/255"),
       "lut is pixel/255 ('%s')", ds.normalization);
    if (rc) return;

    int index[3] = {3, 0, ds.train.n - 1}, y[3], bad = 0;
    hc_real x[3 * 35];
    dataset_gather(&ds, &ds.train, index, 3, x, y);
    for (int i = 0; i < 3; i++) {
        const uint8_t *px = ds.train.pixels + (size_t)index[i] * 35;
        bad += y[i] != ds.train.labels[index[i]];
        for (int j = 0; j < 35; j++)
            bad += x[i * 35 + j] != (hc_real)px[j] / (hc_real)255 ||
                   fabs((double)x[i * 35 + j] - px[j] / 255.0) > 1e-6;
    }
    ok(bad == 0, "dataset_gather gives pixel/255 and the labels (%d wrong)", bad);
    dataset_free(&ds);
    ok(!ds.train.pixels && ds.train.n == 0 && !ds.name[0], "dataset_free zeroes the struct");
}

static void expect_name(fixture *f, const char *folder, const char *name, const char *want)
{
    char dir[512];
    hc_dataset ds;
    hc_err e = {0};
    int rc = dataset_load(&ds, good_folder(f, folder, 0, dir), name, &e);
    ok(rc == 0 && !strcmp(ds.name, want), "folder %s, name %s: '%s' %s", folder,
       name ? name : "inferred", ds.name, e.msg);
    dataset_free(&ds);
}

static void expect_load_fail(const char *dir, const char *name, int code, const char *word)
{
    hc_dataset ds;
    hc_err e = {0};
    int rc = dataset_load(&ds, dir, name, &e);
    ok(rc == code && strstr(e.msg, word), "dataset_load(%s, %s) fails with %d: %s", dir,
       name ? name : "NULL", rc, e.msg);
    dataset_free(&ds);
}

static void test_dataset_load(fixture *f)
{
    char dir[512], file[512];
    expect_name(f, "fashion-x", NULL, "fashion-mnist");
    expect_name(f, "My_FASHION_data", NULL, "fashion-mnist");
    expect_name(f, "digits", NULL, "mnist");
    expect_name(f, "digits", "fashion-mnist", "fashion-mnist");

    expect_load_fail(path_in(dir, f->root, "no-such-folder"), NULL, HC_ERR_RUNTIME,
                     "data folder not found");
    expect_load_fail(path_in(dir, f->root, "digits"), "svhn", HC_ERR_USAGE, "svhn");
    expect_load_fail(dir, "cifar10", HC_ERR_RUNTIME, "data_batch_1.bin");
    good_folder(f, "cifar", 0, dir);
    write_bytes(path_in(file, dir, "data_batch_1.bin"), "x", 1, 0);
    expect_load_fail(dir, NULL, HC_ERR_RUNTIME, "data_batch_2.bin");
    expect_load_fail(path_in(dir, f->root, "magic_img"), NULL, HC_ERR_RUNTIME, "magic");
}

int main(void)
{
    fixture f;
    snprintf(f.root, sizeof f.root, "/tmp/hc_test_idx_XXXXXX");
    if (!mkdtemp(f.root)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    if (testdata_make(&f.ref, 60, 30, 7, 5, 10, 7) != 0) {
        printf("Bail out! testdata_make failed\n");
        return 1;
    }
    test_good(&f);
    test_missing_and_magic(&f);
    test_truncated(&f);
    test_contents(&f);
    test_absurd(&f);
    test_corrupt_gzip(&f);
    test_gather(&f);
    test_dataset_load(&f);

    dataset_free(&f.ref);
    ok(nftw(f.root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0, "temp folder removed");
    return tap_done();
}
