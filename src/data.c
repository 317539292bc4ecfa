/* data.c - loading a data set folder, the pixel lookup table, and batch gathering. */
#include "data.h"
#include "data_idx.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    char file[4096];
    struct stat st;
    if (snprintf(file, sizeof file, "%s/data_batch_1.bin", path) >= (int)sizeof file) return 0;
    return stat(file, &st) == 0;
}

static int check_folder(const char *path, hc_err *e)
{
    struct stat st;
    if (stat(path, &st) != 0) return hc_fail(e, HC_ERR_RUNTIME, "data folder not found: %s", path);
    if (!S_ISDIR(st.st_mode))
        return hc_fail(e, HC_ERR_RUNTIME, "data path is not a folder: %s", path);
    return 0;
}

int dataset_load(hc_dataset *ds, const char *path, const char *name, hc_err *e)
{
    memset(ds, 0, sizeof *ds);
    if (name && !known_name(name))
        return hc_fail(e, HC_ERR_USAGE, "unknown data set '%s' (expected mnist, fashion-mnist "
                       "or cifar10)", name);
    int rc = check_folder(path, e);
    if (rc) return rc;
    if ((name && !strcmp(name, "cifar10")) || looks_like_cifar(path))
        return hc_fail(e, HC_ERR_RUNTIME, "CIFAR-10 is not supported yet (%s)", path);
    if (!name) name = contains_nocase(path, "fashion") ? "fashion-mnist" : "mnist";
    snprintf(ds->name, sizeof ds->name, "%s", name);
    rc = data_idx_load(ds, path, e);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    dataset_set_unit_scale(ds);
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

void dataset_set_unit_scale(hc_dataset *ds)
{
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 256; p++) ds->lut[c][p] = (hc_real)p / (hc_real)255;
    snprintf(ds->normalization, sizeof ds->normalization, "pixel/255");
}

void dataset_gather(const hc_dataset *ds, const hc_split *split, const int *index, int n,
                    hc_real *x, int *y)
{
    size_t ss = (size_t)ds->sample_size, plane = (size_t)ds->height * (size_t)ds->width;
    for (int i = 0; i < n; i++) {
        const uint8_t *src = split->pixels + (size_t)index[i] * ss;
        hc_real *dst = x + (size_t)i * ss;
        for (int c = 0; c < ds->channels; c++) {
            const hc_real *lut = ds->lut[c];
            for (size_t j = (size_t)c * plane; j < (size_t)(c + 1) * plane; j++)
                dst[j] = lut[src[j]];
        }
        if (y) y[i] = split->labels[index[i]];
    }
}
