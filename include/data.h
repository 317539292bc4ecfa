/* data.h - an image-classification data set held as uint8 pixels in memory.
 *
 * Pixels stay uint8 (a quarter of the memory of floats) and are turned into model
 * inputs per batch through a per-channel lookup table. */
#ifndef HC_DATA_H
#define HC_DATA_H
#include <stdint.h>
#include "error.h"
#include "hc_real.h"

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

/* Loads the data set in folder `path`. `name` is "mnist", "fashion-mnist", "cifar10"
 * or NULL to infer it from the files (IDX files: "fashion-mnist" when the path names
 * "fashion", else "mnist"). Sets lut to pixel / 255. */
int dataset_load(hc_dataset *ds, const char *path, const char *name, hc_err *e);
void dataset_free(hc_dataset *ds);

/* Sets lut to pixel / 255 for every channel. */
void dataset_set_unit_scale(hc_dataset *ds);

/* Gathers samples index[0..n) of `split` into x (n * sample_size) and y (n). */
void dataset_gather(const hc_dataset *ds, const hc_split *split, const int *index, int n,
                    hc_real *x, int *y);

#endif
