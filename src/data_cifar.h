/* data_cifar.h - the CIFAR-10 reader and per-channel normalisation (private to
 * src/data*.c and the tests of the reader). */
#ifndef HC_DATA_CIFAR_H
#define HC_DATA_CIFAR_H
#include "data_family.h"

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

#endif
