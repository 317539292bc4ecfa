/* data.h - an image-classification data set held as uint8 pixels in memory.
 *
 * Pixels stay uint8 (a quarter of the memory of floats) and are turned into model
 * inputs per batch through a per-channel lookup table. */
#ifndef HC_DATA_H
#define HC_DATA_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "hc_real.h"
#include "data_format_list.h"
#include "table.h"

typedef struct {
    int n;                  /* samples */
    uint8_t *pixels;        /* n * sample_size, channel-major per sample (C, H, W) */
    uint8_t *labels;        /* n, each < n_classes */
} hc_split;

typedef struct {
    char name[32];          /* "mnist", "fashion-mnist", "cifar10" */
    int channels, height, width;
    int sample_size;        /* channels * height * width */
    int n_classes;
    hc_split train, test;
    /* input = lut[channel][pixel]; MNIST: pixel / 255 */
    hc_real lut[3][256];
    char normalization[64]; /* how lut was made, recorded in the metrics */
} hc_dataset;

/* One file format of data set folders, as the table lists it (data_format_list.h). */
typedef struct {
    const char *format;         /* "idx" */
    const char *names[4];       /* the data sets it holds (--dataset), NULL-terminated */
    const char *about;          /* one line of --help */
    const char *normalization;  /* its data sets' default --normalize word */
    /* Its files are in folder dir. NULL: the format of a folder no other one claims (its
     * loader then says which file is missing). */
    int (*detect)(const char *dir);
    /* Which of names the folder holds; NULL: names[0]. */
    const char *(*infer_name)(const char *dir);
    /* Reads the folder's files into ds (sizes, splits); sets ds->name only if empty. */
    int (*load)(hc_dataset *ds, const char *dir, hc_err *e);
} hc_data_format;

typedef enum { HC_TABLE_ENUM(HC_DATA_FORMAT_LIST) DATA_FORMAT_COUNT } hc_data_format_kind;

/* The format that holds data set `name`; NULL for none (a usage error in e). */
const hc_data_format *data_format_of_name(const char *name, hc_err *e);
/* Every data set name, joined by sep ("mnist | fashion-mnist | cifar10"), the last one by
 * last_sep, into out (size bytes). */
void dataset_names(char *out, size_t size, const char *sep, const char *last_sep);
/* One line per format: indent, its names, two spaces, about. */
void data_format_help(FILE *f, const char *indent);

/* Loads the data set in folder `path`. `name` is "mnist", "fashion-mnist", "cifar10"
 * or NULL to infer it from the files (IDX files: "fashion-mnist" when the path names
 * "fashion", else "mnist"). Applies the format's default normalization (unit for IDX,
 * train-stats for CIFAR-10). */
int dataset_load(hc_dataset *ds, const char *path, const char *name, hc_err *e);
void dataset_free(hc_dataset *ds);

/* Asks for 2 MB pages under both splits' pixels (dataset_load does; a data set built
 * another way can too): a shuffled batch otherwise pays a page walk per sample. */
void dataset_prefer_huge_pages(hc_dataset *ds);

/* mode "unit" (pixel/255), "train-stats" (the training split's own mean and std) or
 * "authors" (the clipping paper's constants, src/data_family.h; 3-channel data only). A usage error otherwise. */
int dataset_set_normalization(hc_dataset *ds, const char *mode, hc_err *e);
/* The same check of the word alone (NULL is fine), before any data is read. */
int dataset_check_normalization(const char *mode, hc_err *e);

/* Gathers samples index[0..n) of `split` into x (n * sample_size) and y (n). */
void dataset_gather(const hc_dataset *ds, const hc_split *split, const int *index, int n,
                    hc_real *x, int *y);

#endif
