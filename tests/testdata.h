/* testdata.h - small synthetic data sets for the tests (they never need ../shared). */
#ifndef HC_TESTDATA_H
#define HC_TESTDATA_H
#include "data.h"
#include "error.h"

/* Fills ds (name "mnist", 1 channel, rows x cols, n_classes classes, lut = pixel/255)
 * with a learnable, deterministic data set: each class has its own pattern plus noise. */
int testdata_make(hc_dataset *ds, int n_train, int n_test, int rows, int cols,
                  int n_classes, unsigned seed);
/* Writes ds as the four MNIST IDX files into dir (created if missing), gzipped when
 * gz != 0. Returns 0 on success. */
int testdata_write_idx(const hc_dataset *ds, const char *dir, int gz);
/* What `hyperclip info` prints of path (malloc'ed; NULL when out of memory), its return
 * code in *rc and its error in *e. */
char *testdata_info_text(const char *path, int *rc, hc_err *e);

#endif
