/* data_family.h - what the data set readers share (private to src/data*.c; the tests'
 * in-memory data sets include it too). include/data.h is the interface. */
#ifndef HC_DATA_FAMILY_H
#define HC_DATA_FAMILY_H
#include <zlib.h>
#include "data.h"

/* The readers' file lookup: dir/name, else dir/name.gz, into path (size bytes). Fails
 * with "no such file: dir/name (expected name or name.gz in dir)" followed by `hint`
 * (may be ""), or "path too long". */
int dataset_find_file(const char *dir, const char *name, const char *hint, char *path,
                      size_t size, hc_err *e);

/* The one message for a failed gzip read of `file` (zlib's reason, or errno's). */
int dataset_gz_failure(gzFile g, const char *file, hc_err *e);

/* Frees a split's pixels and labels and zeroes it. */
void dataset_free_split(hc_split *s);

/* ---- the lookup table (data_norm.c) ---- */

/* Sets lut to pixel / 255 for every channel. */
void dataset_set_unit_scale(hc_dataset *ds);

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
