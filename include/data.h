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

const hc_data_format *data_format(hc_data_format_kind kind);
/* The format that holds data set `name`; NULL for none (a usage error in e). */
const hc_data_format *data_format_of_name(const char *name, hc_err *e);
/* Every data set name, joined by sep ("mnist | fashion-mnist | cifar10"), the last one by
 * last_sep, into out (size bytes). */
void dataset_names(char *out, size_t size, const char *sep, const char *last_sep);
/* One line per format: indent, its names, two spaces, about. */
void data_format_help(FILE *f, const char *indent);

/* Loads the data set in folder `path`. `name` is "mnist", "fashion-mnist", "cifar10"
 * or NULL to infer it from the files (IDX files: "fashion-mnist" when the path names
 * "fashion", else "mnist"). Sets lut to pixel / 255. */
int dataset_load(hc_dataset *ds, const char *path, const char *name, hc_err *e);
void dataset_free(hc_dataset *ds);

/* Asks for 2 MB pages under both splits' pixels (dataset_load does; a data set built
 * another way can too): a shuffled batch otherwise pays a page walk per sample. */
void dataset_prefer_huge_pages(hc_dataset *ds);

/* The readers' file lookup: dir/name, else dir/name.gz, into path (size bytes). Fails
 * with "no such file: dir/name (expected name or name.gz in dir)" followed by `hint`
 * (may be ""), or "path too long". */
int dataset_find_file(const char *dir, const char *name, const char *hint, char *path,
                      size_t size, hc_err *e);

/* Sets lut to pixel / 255 for every channel. */
void dataset_set_unit_scale(hc_dataset *ds);

/* ---- CIFAR-10 and per-channel normalisation (data_cifar.c) ---- */

/* Loads data_batch_1.bin ... data_batch_5.bin (training) and test_batch.bin (test), each
 * NAME or NAME.gz, from folder `dir` into ds (3 channels, 32x32, n_classes 10); sets name
 * to "cifar10" only if ds->name is empty; leaves lut alone. Each file must be a whole,
 * non-zero number of 3073-byte records with labels < 10; every error names the file. */
int data_cifar_load(hc_dataset *ds, const char *dir, hc_err *e);

/* The authors' notebook constants (spec): mean 0.474/0.473/0.473, std 0.252/0.252/0.251. */
extern const double hc_authors_mean[3], hc_authors_std[3];

/* lut[c][p] = (p/255 - mean[c]) / std[c] (a std <= 0 counts as 1) and normalization =
 * "<label> mean=m0/m1/m2 std=s0/s1/s2" (as many values as the data set has channels). */
void dataset_set_channel_norm(hc_dataset *ds, const double mean[3], const double std[3],
                              const char *label);

/* Per-channel mean and (population) standard deviation of pixel/255 over the training
 * split; channels the data set lacks repeat its last one. */
void dataset_train_channel_stats(const hc_dataset *ds, double mean[3], double std[3]);

/* mode "unit" (pixel/255), "train-stats" (the training split's own mean and std) or
 * "authors" (the constants above; 3-channel data only). A usage error otherwise. */
int dataset_set_normalization(hc_dataset *ds, const char *mode, hc_err *e);
/* The same check of the word alone (NULL is fine), before any data is read. */
int dataset_check_normalization(const char *mode, hc_err *e);

/* Gathers samples index[0..n) of `split` into x (n * sample_size) and y (n). */
void dataset_gather(const hc_dataset *ds, const hc_split *split, const int *index, int n,
                    hc_real *x, int *y);

#endif
