/* data_cifar.h - the CIFAR-10 reader (private to src/data*.c and the tests of the
 * reader). */
#ifndef HC_DATA_CIFAR_H
#define HC_DATA_CIFAR_H
#include "data_family.h"

/* Loads data_batch_1.bin ... data_batch_5.bin (training) and test_batch.bin (test), each
 * NAME or NAME.gz, from folder `dir` into ds (3 channels, 32x32, n_classes 10); sets name
 * to "cifar10" only if ds->name is empty; leaves lut alone. Each file must be a whole,
 * non-zero number of 3073-byte records with labels < 10; every error names the file. */
int data_cifar_load(hc_dataset *ds, const char *dir, hc_err *e);

#endif
