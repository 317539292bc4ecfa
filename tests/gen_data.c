/* gen_data.c - writes a small synthetic MNIST-style data folder for the shell tests.
 *
 *   gen_data DIR [--train N] [--test N] [--rows R] [--cols C] [--seed S] [--gz]
 */
#include "argparse.h"
#include "testdata.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *dir;
    long train, test, rows, cols, seed;
    int gz;
} options;

static const char usage_text[] =
    "usage: gen_data DIR [--train N] [--test N] [--rows R] [--cols C] [--seed S] [--gz]\n"
    "  writes {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] into DIR\n"
    "  defaults: --train 512 --test 256 --rows 8 --cols 8 --seed 1, plain files\n";

/* The numeric option called `name`, with its allowed range; NULL if there is none. */
static long *numeric_option(options *o, const char *name, long *lo, long *hi)
{
    *lo = 1, *hi = 100000000;
    if (!strcmp(name, "--train")) return &o->train;
    if (!strcmp(name, "--test")) return &o->test;
    *hi = 1024;   /* rows * cols stays within the loader's 1 << 20 pixel limit */
    if (!strcmp(name, "--rows")) return &o->rows;
    if (!strcmp(name, "--cols")) return &o->cols;
    *lo = 0, *hi = UINT_MAX;
    if (!strcmp(name, "--seed")) return &o->seed;
    return NULL;
}

/* Returns -1 to go on, else the exit status (2 on bad arguments, 0 after --help). */
static int parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long lo, hi, *field = numeric_option(o, a, &lo, &hi);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return arg_usage(stdout, usage_text, 0);
        if (!strcmp(a, "--gz")) {
            o->gz = 1;
        } else if (field) {
            if (arg_long(stderr, "gen_data", a, i + 1 < argc ? argv[i + 1] : NULL, lo, hi, field))
                return arg_usage(stderr, usage_text, 2);
            i++;
        } else if (a[0] == '-' || o->dir) {
            fprintf(stderr, "gen_data: unexpected argument '%s'\n", a);
            return arg_usage(stderr, usage_text, 2);
        } else {
            o->dir = a;
        }
    }
    return o->dir ? -1 : arg_usage(stderr, usage_text, 2);
}

int main(int argc, char **argv)
{
    options o = {NULL, 512, 256, 8, 8, 1, 0};
    hc_dataset ds;
    int status = parse_args(argc, argv, &o);
    if (status >= 0) return status;
    if (testdata_make(&ds, (int)o.train, (int)o.test, (int)o.rows, (int)o.cols, 10,
                      (unsigned)o.seed)) {
        fprintf(stderr, "gen_data: out of memory\n");
        return 1;
    }
    int rc = testdata_write_idx(&ds, o.dir, o.gz);
    if (rc) fprintf(stderr, "gen_data: cannot write the data files into %s: %s\n", o.dir,
                    strerror(errno));
    dataset_free(&ds);
    return rc ? 1 : 0;
}
