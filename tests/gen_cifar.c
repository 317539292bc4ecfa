/* gen_cifar.c - writes a small synthetic CIFAR-10-format folder for the shell tests.
 *
 *   gen_cifar DIR [--train N] [--test N] [--seed S] [--gz]
 *
 * data_batch_1.bin ... data_batch_5.bin share the N training samples (as evenly as
 * possible, so N >= 5), test_batch.bin holds the test samples; 3073-byte records (label,
 * then the R, G and B planes of 32x32). The images are testdata's learnable class
 * patterns (96 x 32 one-channel images read as 3 x 32 x 32). */
#include "argparse.h"
#include "testdata.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define PIX 3072

static const char usage_text[] =
    "usage: gen_cifar DIR [--train N] [--test N] [--seed S] [--gz]\n"
    "  writes data_batch_{1..5}.bin and test_batch.bin (.gz with --gz) into DIR\n"
    "  defaults: --train 500 --test 100 --seed 1, plain files\n";

/* Writes samples [first, first + n) of split s as one batch file. */
static int write_batch(const char *dir, const char *name, int gz, const hc_split *s, int first,
                       int n)
{
    char path[4096], other[4096];
    if (snprintf(path, sizeof path, "%s/%s%s", dir, name, gz ? ".gz" : "") >= (int)sizeof path ||
        snprintf(other, sizeof other, "%s/%s%s", dir, name, gz ? "" : ".gz") >= (int)sizeof other)
        return -1;
    if (remove(other) != 0 && errno != ENOENT) return -1;   /* the loader prefers plain */
    gzFile g = gzopen(path, gz ? "wb" : "wbT");
    if (!g) return -1;
    int bad = 0;
    for (int i = first; i < first + n && !bad; i++) {
        unsigned char label = s->labels[i];
        bad = gzwrite(g, &label, 1) != 1 ||
              gzwrite(g, s->pixels + (size_t)i * PIX, PIX) != PIX;
    }
    return (gzclose(g) != Z_OK || bad) ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long train = 500, test = 100, seed = 1;
    int gz = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long lo = 1, hi = 1000000, *field = NULL;   /* a numeric option and its range */
        if (!strcmp(a, "--train")) field = &train, lo = 5;
        else if (!strcmp(a, "--test")) field = &test;
        else if (!strcmp(a, "--seed")) field = &seed, lo = 0, hi = UINT_MAX;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return arg_usage(stdout, usage_text, 0);
        if (!strcmp(a, "--gz")) gz = 1;
        else if (field) {
            if (arg_long(stderr, "gen_cifar", a, v, lo, hi, field)) return 2;
            i++;
        } else if (a[0] == '-' || dir) {
            fprintf(stderr, "gen_cifar: unexpected argument '%s'\n", a);
            return arg_usage(stderr, usage_text, 2);
        } else dir = a;
    }
    if (!dir) return arg_usage(stderr, usage_text, 2);
    hc_dataset ds;
    if (testdata_make(&ds, (int)train, (int)test, 96, 32, 10, (unsigned)seed)) {
        fprintf(stderr, "gen_cifar: out of memory\n");
        return 1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_cifar: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int rc = 0, first = 0;
    for (int b = 0; b < 5 && !rc; b++) {
        int n = (int)(train / 5 + (b < train % 5));
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
        rc = write_batch(dir, name, gz, &ds.train, first, n);
        first += n;
    }
    if (!rc) rc = write_batch(dir, "test_batch.bin", gz, &ds.test, 0, (int)test);
    dataset_free(&ds);
    if (rc) {
        fprintf(stderr, "gen_cifar: cannot write into %s\n", dir);
        return 1;
    }
    printf("wrote %ld training and %ld test samples (3x32x32) into %s\n", train, test, dir);
    return 0;
}
