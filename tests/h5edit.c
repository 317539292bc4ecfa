/* h5edit - damages HDF5 files for tests: removes one object, or writes a NaN into one
 * element of a floating-point dataset (a checkpoint whose state went bad).
 * usage: h5edit FILE /path/to/object
 *        h5edit FILE /path/to/dataset --nan INDEX */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_nan(hid_t f, const char *path, hsize_t at)
{
    hid_t ds = H5Dopen2(f, path, H5P_DEFAULT), space = ds < 0 ? -1 : H5Dget_space(ds), mem;
    hsize_t one = 1;
    double nan_value = NAN;
    if (space < 0 || H5Sselect_elements(space, H5S_SELECT_SET, 1, &at) < 0) return 1;
    mem = H5Screate_simple(1, &one, NULL);
    int rc = H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &nan_value) < 0;
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(ds);
    return rc;
}

int main(int argc, char **argv)
{
    int nan_mode = argc == 5 && !strcmp(argv[3], "--nan");
    if (argc != 3 && !nan_mode) {
        fprintf(stderr, "usage: h5edit FILE /path/to/object\n"
                        "       h5edit FILE /path/to/dataset --nan INDEX\n");
        return 2;
    }
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 1;
    int rc = nan_mode ? write_nan(f, argv[2], (hsize_t)strtoull(argv[4], NULL, 10))
                      : H5Ldelete(f, argv[2], H5P_DEFAULT) < 0;
    H5Fclose(f);
    return rc;
}
