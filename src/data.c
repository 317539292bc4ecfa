/* data.c - the table of data formats: loading a data set folder by name or by detection,
 * the readers' file lookup, and batch gathering (the lookup table: data_norm.c). */
#include "data.h"
#include "data_family.h"
#include "files.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

HC_TABLE_DEFINE(hc_data_format, formats, HC_DATA_FORMAT_LIST, DATA_FORMAT_COUNT);


void dataset_names(char *out, size_t size, const char *sep, const char *last_sep)
{
    int total = 0, i = 0;
    size_t len = 0;
    for (int k = 0; k < DATA_FORMAT_COUNT; k++)
        for (int j = 0; formats[k]->names[j]; j++) total++;
    out[0] = '\0';
    for (int k = 0; k < DATA_FORMAT_COUNT; k++)
        for (int j = 0; formats[k]->names[j] && len < size; j++, i++)
            len += (size_t)snprintf(out + len, size - len, "%s%s",
                                    i == 0 ? "" : i == total - 1 ? last_sep : sep,
                                    formats[k]->names[j]);
}

void data_format_help(FILE *f, const char *indent)
{
    for (int k = 0; k < DATA_FORMAT_COUNT; k++) {
        fputs(indent, f);
        for (int j = 0; formats[k]->names[j]; j++)
            fprintf(f, "%s%s", j ? ", " : "", formats[k]->names[j]);
        fprintf(f, "  %s\n", formats[k]->about);
    }
}

const hc_data_format *data_format_of_name(const char *name, hc_err *e)
{
    for (int k = 0; k < DATA_FORMAT_COUNT; k++)
        for (int j = 0; formats[k]->names[j]; j++)
            if (!strcmp(name, formats[k]->names[j])) return formats[k];
    char names[160];
    dataset_names(names, sizeof names, ", ", " or ");
    hc_fail(e, HC_ERR_USAGE, "unknown data set '%s' (expected %s)", name, names);
    return NULL;
}

/* The folder's format: the first that claims it, else the one that claims nothing. */
static const hc_data_format *detect_format(const char *path)
{
    const hc_data_format *fallback = formats[0];
    for (int k = 0; k < DATA_FORMAT_COUNT; k++) {
        if (!formats[k]->detect) fallback = formats[k];
        else if (formats[k]->detect(path)) return formats[k];
    }
    return fallback;
}

/* What a user without the data needs to hear: where to get it ("; tools/fetch-data
 * mnist|fashion-mnist|cifar10 DIR downloads one"). */
static const char *fetch_hint(char *out, size_t size)
{
    char names[160];
    dataset_names(names, sizeof names, "|", "|");
    snprintf(out, size, "; tools/fetch-data %s DIR downloads one", names);
    return out;
}

static int check_folder(const char *path, hc_err *e)
{
    struct stat st;
    char hint[200];
    if (stat(path, &st) != 0 && errno != ENOENT && errno != ENOTDIR)   /* EACCES */
        return hc_fail(e, HC_ERR_RUNTIME, "data folder %s: %s", path, strerror(errno));
    if (stat(path, &st) != 0)
        return hc_fail(e, HC_ERR_RUNTIME, "data folder not found: %s%s", path,
                       fetch_hint(hint, sizeof hint));
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
    const hc_data_format *f = name ? data_format_of_name(name, e) : NULL;
    if (name && !f) return e->code;
    int rc = check_folder(path, e);
    if (rc) return rc;
    if (!f) f = detect_format(path);
    if (!name) name = f->infer_name ? f->infer_name(path) : f->names[0];
    snprintf(ds->name, sizeof ds->name, "%s", name);
    rc = f->load(ds, path, e);
    if (!rc) rc = dataset_set_normalization(ds, f->normalization, e);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    dataset_prefer_huge_pages(ds);
    return 0;
}

void dataset_free_split(hc_split *s)
{
    free(s->pixels);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

void dataset_free(hc_dataset *ds)
{
    dataset_free_split(&ds->train);
    dataset_free_split(&ds->test);
    memset(ds, 0, sizeof *ds);
}

int dataset_gz_failure(gzFile g, const char *file, hc_err *e)
{
    int errnum = 0;
    const char *why = gzerror(g, &errnum);
    if (errnum == Z_ERRNO) why = strerror(errno);
    return hc_fail(e, HC_ERR_RUNTIME, "%s: unreadable or corrupt gzip data (%s)", file, why);
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
        if (errno != ENOENT && errno != ENOTDIR)   /* there, but not for us (EACCES) */
            return hc_fail(e, HC_ERR_RUNTIME, "data file %s: %s", path, strerror(errno));
    }
    char fetch[200];
    return hc_fail(e, HC_ERR_RUNTIME, "no such file: %s/%s (expected %s or %s.gz in %s)%s%s",
                   dir, name, name, name, dir, hint, fetch_hint(fetch, sizeof fetch));
}

/* True when lut is pixel / 255, computed as dataset_set_unit_scale (data_norm.c) does: then the
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
