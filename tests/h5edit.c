/* h5edit - damages HDF5 files for tests: removes one object, writes a NaN into one
 * element of a floating-point dataset (a checkpoint whose state went bad), sets an
 * object's attribute to a 64-bit integer or removes the attribute, adds a dataset whose
 * data lives in another file, or copies a dataset's stored chunk from another file over
 * its own.
 * usage: h5edit FILE /path/to/object
 *        h5edit FILE /path/to/dataset --nan INDEX
 *        h5edit FILE /path/to/new/dataset --external TARGET
 *        h5edit FILE /path/to/dataset --splice-from OLDER   (the raw bytes of its chunk)
 *        h5edit FILE /path/to/object --long NAME VALUE
 *        h5edit FILE /path/to/object --no-attr NAME */
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

/* Replaces (or adds) attribute name of the object at path: one 64-bit integer. */
static int set_long(hid_t f, const char *path, const char *name, long long v)
{
    hid_t obj = H5Oopen(f, path, H5P_DEFAULT);
    if (obj < 0) return 1;
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, H5T_NATIVE_LLONG, &v) < 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Oclose(obj);
    return rc;
}

static int remove_attr(hid_t f, const char *path, const char *name)
{
    hid_t obj = H5Oopen(f, path, H5P_DEFAULT);
    int rc = obj < 0 || H5Adelete(obj, name) < 0;
    if (obj >= 0) H5Oclose(obj);
    return rc;
}

/* Adds dataset path: 1000 float64 values whose raw data is in the external file target. */
static int add_external(hid_t f, const char *path, const char *target)
{
    hsize_t n = 1000;
    hid_t space = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    int rc = H5Pset_external(dcpl, target, 0, n * 8) < 0 ||
             (ds = H5Dcreate2(f, path, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0;
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

/* The file address and size of the first chunk of dataset path in file (-1 when none). */
static int chunk_at(const char *file, const char *path, haddr_t *addr, hsize_t *size)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT), ds = f < 0 ? -1 : H5Dopen2(f, path, H5P_DEFAULT);
    hid_t space = ds < 0 ? -1 : H5Dget_space(ds);
    unsigned mask;
    hsize_t offset[H5S_MAX_RANK];
    int rc = space < 0 || H5Dget_chunk_info(ds, space, 0, offset, &mask, addr, size) < 0 ? -1 : 0;
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    return rc;
}

/* Copies the stored bytes of dataset path's first chunk in file `from` over those of the
 * same dataset in `to`, raw: each keeps a right checksum, as after a storage fault that
 * left a stale block of an older file. */
static int splice_chunk(const char *to, const char *path, const char *from)
{
    haddr_t a_to, a_from;
    hsize_t n_to, n_from;
    if (chunk_at(to, path, &a_to, &n_to) || chunk_at(from, path, &a_from, &n_from) || n_to != n_from)
        return 1;
    FILE *in = fopen(from, "rb"), *out = fopen(to, "r+b");
    char *buf = malloc(n_to);
    int rc = !in || !out || !buf || fseek(in, (long)a_from, SEEK_SET) ||
             fread(buf, 1, n_to, in) != n_to || fseek(out, (long)a_to, SEEK_SET) ||
             fwrite(buf, 1, n_to, out) != n_to;
    free(buf);
    if (in) fclose(in);
    if (out && fclose(out)) rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[3], "--splice-from")) return splice_chunk(argv[1], argv[2], argv[4]);
    int external_mode = argc == 5 && !strcmp(argv[3], "--external");
    int nan_mode = argc == 5 && !strcmp(argv[3], "--nan");
    int long_mode = argc == 6 && !strcmp(argv[3], "--long");
    int no_attr_mode = argc == 5 && !strcmp(argv[3], "--no-attr");
    if (argc != 3 && !nan_mode && !long_mode && !no_attr_mode && !external_mode) {
        fprintf(stderr, "usage: h5edit FILE /path/to/object\n"
                        "       h5edit FILE /path/to/dataset --nan INDEX\n"
                        "       h5edit FILE /path/to/new/dataset --external TARGET\n"
                        "       h5edit FILE /path/to/dataset --splice-from OLDER\n"
                        "       h5edit FILE /path/to/object --long NAME VALUE\n"
                        "       h5edit FILE /path/to/object --no-attr NAME\n");
        return 2;
    }
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 1;
    int rc = external_mode ? add_external(f, argv[2], argv[4])
             : nan_mode ? write_nan(f, argv[2], (hsize_t)strtoull(argv[4], NULL, 10))
             : long_mode ? set_long(f, argv[2], argv[4], strtoll(argv[5], NULL, 10))
             : no_attr_mode ? remove_attr(f, argv[2], argv[4])
                            : H5Ldelete(f, argv[2], H5P_DEFAULT) < 0;
    H5Fclose(f);
    return rc;
}
