/* data.c - loading a data set folder, the pixel lookup table, and batch gathering. */
#include "data.h"
#include "data_idx.h"
#include "files.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* strcasestr is a GNU extension; this keeps the file portable. */
static int contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return 0;
}

static int known_name(const char *name)
{
    return !strcmp(name, "mnist") || !strcmp(name, "fashion-mnist") || !strcmp(name, "cifar10");
}

/* The CIFAR-10 binary release is a folder of data_batch_N.bin files. */
static int looks_like_cifar(const char *path)
{
    char file[4096], gz[4096];
    struct stat st;
    if (snprintf(file, sizeof file, "%s/data_batch_1.bin", path) >= (int)sizeof file ||
        snprintf(gz, sizeof gz, "%s.gz", file) >= (int)sizeof gz)
        return 0;
    return stat(file, &st) == 0 || stat(gz, &st) == 0;
}

/* What a user without the data needs to hear: where to get it. */
#define FETCH_HINT "; tools/fetch-data mnist|fashion-mnist|cifar10 DIR downloads one"

static int check_folder(const char *path, hc_err *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return hc_fail(e, HC_ERR_RUNTIME, "data folder not found: %s" FETCH_HINT, path);
    if (!S_ISDIR(st.st_mode))
        return hc_fail(e, HC_ERR_RUNTIME, "data path is not a folder: %s", path);
    return 0;
}

/* Asks for 2 MB pages under a large array that is read at random (the pixels: a shuffled
 * batch touches a different 4 KB page for nearly every sample, and with 4 KB pages each
 * of those costs a page walk; 47 MB of MNIST is 24 huge pages). MADV_COLLAPSE (Linux
 * 6.1) does it now instead of whenever khugepaged gets there; where either is missing
 * the kernel says no and nothing changes. Only whole 2 MB pages inside the array are
 * touched, so the memory around it is not affected. */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25            /* <linux/mman.h>; glibc 2.36 lacks it */
#endif
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void prefer_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t b = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
    if (b <= a) return;
    if (madvise((void *)a, b - a, MADV_HUGEPAGE) == 0) madvise((void *)a, b - a, MADV_COLLAPSE);
#endif
}

void dataset_prefer_huge_pages(hc_dataset *ds)
{
    prefer_huge_pages(ds->train.pixels, (size_t)ds->train.n * (size_t)ds->sample_size);
    prefer_huge_pages(ds->test.pixels, (size_t)ds->test.n * (size_t)ds->sample_size);
}

int dataset_load(hc_dataset *ds, const char *path, const char *name, hc_err *e)
{
    memset(ds, 0, sizeof *ds);
    if (name && !known_name(name))
        return hc_fail(e, HC_ERR_USAGE, "unknown data set '%s' (expected mnist, fashion-mnist "
                       "or cifar10)", name);
    int rc = check_folder(path, e);
    if (rc) return rc;
    if (name ? !strcmp(name, "cifar10") : looks_like_cifar(path)) {
        snprintf(ds->name, sizeof ds->name, "cifar10");
        rc = data_cifar_load(ds, path, e);
        if (!rc) rc = dataset_set_normalization(ds, "train-stats", e);   /* the spec's default */
        if (rc) {
            dataset_free(ds);
            return rc;
        }
        dataset_prefer_huge_pages(ds);
        return 0;
    }
    if (!name) name = contains_nocase(path, "fashion") ? "fashion-mnist" : "mnist";
    snprintf(ds->name, sizeof ds->name, "%s", name);
    rc = data_idx_load(ds, path, e);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    dataset_set_unit_scale(ds);
    dataset_prefer_huge_pages(ds);
    return 0;
}

void dataset_free(hc_dataset *ds)
{
    free(ds->train.pixels);
    free(ds->train.labels);
    free(ds->test.pixels);
    free(ds->test.labels);
    memset(ds, 0, sizeof *ds);
}

int dataset_find_file(const char *dir, const char *name, const char *hint, char *path,
                      size_t size, hc_err *e)
{
    static const char *const suffix[] = {"", ".gz"};
    struct stat st;
    for (int i = 0; i < 2; i++) {
        if ((size_t)snprintf(path, size, "%s/%s%s", dir, name, suffix[i]) >= size)
            return hc_fail(e, HC_ERR_RUNTIME, "path too long: %s/%s", dir, name);
        if (stat(path, &st) == 0) return file_check_input(path, "data file", e);  /* a FIFO would block */
    }
    return hc_fail(e, HC_ERR_RUNTIME, "no such file: %s/%s (expected %s or %s.gz in %s)%s"
                   FETCH_HINT, dir, name, name, name, dir, hint);
}

void dataset_set_unit_scale(hc_dataset *ds)
{
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 256; p++) ds->lut[c][p] = (hc_real)p / (hc_real)255;
    snprintf(ds->normalization, sizeof ds->normalization, "pixel/255");
}

/* True when lut is pixel / 255, computed as dataset_set_unit_scale does: then the
 * gather can convert instead of looking up, with the same bits. */
static int lut_is_unit_scale(const hc_real *lut)
{
    int same = 1;
    for (int p = 0; p < 256; p++) same &= lut[p] == (hc_real)p / (hc_real)255;
    return same;
}

/* Row i's pixels are converted while row i + AHEAD's (and its label) are fetched: the
 * samples of a shuffled batch are scattered over the whole split, and the hardware
 * prefetcher only starts on a row after its first misses. */
#define AHEAD 4

void dataset_gather(const hc_dataset *ds, const hc_split *split, const int *index, int n,
                    hc_real *x, int *y)
{
    size_t ss = (size_t)ds->sample_size, plane = (size_t)ds->height * (size_t)ds->width;
    int unit[3];
    for (int c = 0; c < ds->channels; c++) unit[c] = lut_is_unit_scale(ds->lut[c]);
    for (int i = 0; i < n; i++) {
        if (i + AHEAD < n) {
            const char *next = (const char *)(split->pixels + (size_t)index[i + AHEAD] * ss);
            for (size_t b = 0; b < ss; b += 64) __builtin_prefetch(next + b);
            __builtin_prefetch(split->labels + index[i + AHEAD]);
        }
        const uint8_t *restrict src = split->pixels + (size_t)index[i] * ss;
        hc_real *restrict dst = x + (size_t)i * ss;
        for (int c = 0; c < ds->channels; c++) {
            size_t j0 = (size_t)c * plane, j1 = j0 + plane;
            if (unit[c]) {                  /* vectorises: convert and divide */
                for (size_t j = j0; j < j1; j++) dst[j] = (hc_real)src[j] / (hc_real)255;
            } else {                        /* any other normalisation: a lookup */
                const hc_real *lut = ds->lut[c];
                for (size_t j = j0; j < j1; j++) dst[j] = lut[src[j]];
            }
        }
        if (y) y[i] = split->labels[index[i]];
    }
}
