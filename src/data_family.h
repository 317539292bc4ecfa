/* data_family.h - what the data set readers share (private to src/data*.c; the tests'
 * in-memory data sets include it too). include/data.h is the interface. */
#ifndef HC_DATA_FAMILY_H
#define HC_DATA_FAMILY_H
#include "data.h"

/* The readers' file lookup: dir/name, else dir/name.gz, into path (size bytes). Fails
 * with "no such file: dir/name (expected name or name.gz in dir)" followed by `hint`
 * (may be ""), or "path too long". */
int dataset_find_file(const char *dir, const char *name, const char *hint, char *path,
                      size_t size, hc_err *e);

/* Sets lut to pixel / 255 for every channel. */
void dataset_set_unit_scale(hc_dataset *ds);

#endif
