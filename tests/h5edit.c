/* h5edit - removes one object from an HDF5 file (makes damaged checkpoints for tests).
 * usage: h5edit FILE /path/to/object */
#include <hdf5.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: h5edit FILE /path/to/object\n");
        return 2;
    }
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0 || H5Ldelete(f, argv[2], H5P_DEFAULT) < 0) return 1;
    H5Fclose(f);
    return 0;
}
