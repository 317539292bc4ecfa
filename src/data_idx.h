/* data_idx.h - MNIST / Fashion-MNIST IDX files, gzipped or plain.
 *
 * Every check names the file and what is wrong with it: missing file, bad magic,
 * zero or absurd dimensions, truncated or over-long data, label out of range,
 * image and label counts that disagree. Nothing is allocated from a size the file
 * merely claims until the claim is checked against limits. */
#ifndef HC_DATA_IDX_H
#define HC_DATA_IDX_H
#include <stdint.h>
#include "data_family.h"
#include "error.h"

/* An idx3-ubyte image file (magic 0x00000803): n images of rows x cols. */
int idx_read_images(const char *file, uint8_t **pixels, int *n, int *rows, int *cols,
                    hc_err *e);
/* An idx1-ubyte label file (magic 0x00000801); every label must be < n_classes. */
int idx_read_labels(const char *file, int n_classes, uint8_t **labels, int *n, hc_err *e);

/* Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from folder `dir` into ds
 * (channels 1, n_classes 10); sets name only if ds->name is empty. */
int data_idx_load(hc_dataset *ds, const char *dir, hc_err *e);

#endif
