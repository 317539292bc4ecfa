/* h5refilter - rewrites one dataset of an HDF5 file as a chunked dataset whose filter
 * pipeline names the identity filter 32123 (the id of tests/evil_filter.c): same data,
 * same type, same shape and maximum shape (chunks as the original's when it was chunked,
 * else one chunk of the whole dataset). A reader of the result needs the filter: HDF5
 * looks for it in HDF5_PLUGIN_PATH unless plugin loading is off. The filter is registered
 * here in-process (H5Zregister), so writing loads no plugin. The dataset's attributes
 * (description, unit) are copied.
 * usage: h5refilter FILE /path/to/dataset */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#define EVIL_FILTER_ID 32123 /* keep equal to HC_EVIL_FILTER_ID in tests/evil_filter.c */

static size_t identity(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                       size_t nbytes, size_t *buf_size, void **buf)
{
    (void)flags, (void)cd_nelmts, (void)cd_values, (void)buf_size, (void)buf;
    return nbytes;
}

static const H5Z_class2_t identity_class = {
    H5Z_CLASS_T_VERS, EVIL_FILTER_ID, 1, 1, "hyperclip test filter (identity)", NULL, NULL,
    identity,
};

static int fail(const char *file, const char *obj, const char *what)
{
    fprintf(stderr, "h5refilter: %s %s: %s\n", file, obj, what);
    return 1;
}

/* Copies one attribute of the old dataset onto the new one (data: the new dataset). */
static herr_t copy_attr(hid_t from, const char *attr, const H5A_info_t *info, void *data)
{
    (void)info;
    hid_t to = *(hid_t *)data, a = H5Aopen(from, attr, H5P_DEFAULT);
    hid_t type = a < 0 ? -1 : H5Aget_type(a), space = a < 0 ? -1 : H5Aget_space(a), b = -1;
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    void *buf = n < 0 || type < 0 ? NULL : calloc((size_t)(n ? n : 1), H5Tget_size(type));
    herr_t rc = -1;
    if (buf && H5Aread(a, type, buf) >= 0 &&
        (b = H5Acreate2(to, attr, type, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(b, type, buf) >= 0)
        rc = 0;
    if (buf && H5Tdetect_class(type, H5T_VLEN) + H5Tis_variable_str(type) > 0)
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
    free(buf);
    if (b >= 0) H5Aclose(b);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (a >= 0) H5Aclose(a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: h5refilter FILE /path/to/dataset\n");
        return 2;
    }
    const char *path = argv[1], *name = argv[2];
    hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
    if (H5Zregister(&identity_class) < 0) return fail(path, name, "cannot register the filter");
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return fail(path, name, "cannot open the file");
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return fail(path, name, "no such dataset");
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds), dcpl = H5Dget_create_plist(ds);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    if (type < 0 || dcpl < 0 || rank < 1 || n < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        return fail(path, name, "not a dataset of rank >= 1 (a scalar cannot be chunked)");
    size_t size = H5Tget_size(type);
    void *buf = malloc(n ? (size_t)n * size : 1);
    if (!buf) return fail(path, name, "out of memory");
    if (n && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        return fail(path, name, "cannot read it");
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        if (H5Pget_chunk(dcpl, rank, chunk) != rank) return fail(path, name, "cannot read its chunks");
    } else {
        for (int i = 0; i < rank; i++) chunk[i] = dims[i] ? dims[i] : 1;
    }
    hid_t ndcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (ndcpl < 0 || H5Pset_chunk(ndcpl, rank, chunk) < 0 ||
        H5Pset_filter(ndcpl, EVIL_FILTER_ID, H5Z_FLAG_MANDATORY, 0, NULL) < 0)
        return fail(path, name, "cannot make the filtered layout");
    H5Dclose(ds);
    if (H5Lmove(f, name, f, "/h5refilter-old", H5P_DEFAULT, H5P_DEFAULT) < 0)
        return fail(path, name, "cannot move the old dataset aside");
    hid_t nds = H5Dcreate2(f, name, type, space, H5P_DEFAULT, ndcpl, H5P_DEFAULT);
    if (nds < 0) return fail(path, name, "cannot create the filtered dataset");
    hid_t old = H5Dopen2(f, "/h5refilter-old", H5P_DEFAULT);
    hsize_t idx = 0;
    if (old < 0 || H5Aiterate2(old, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_attr, &nds) < 0)
        return fail(path, name, "cannot copy its attributes");
    H5Dclose(old);
    if (H5Ldelete(f, "/h5refilter-old", H5P_DEFAULT) < 0)
        return fail(path, name, "cannot unlink the old dataset");
    if (n && H5Dwrite(nds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        return fail(path, name, "cannot write the filtered dataset");
    free(buf);
    H5Dclose(nds);
    H5Pclose(ndcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(type);
    if (H5Fclose(f) < 0) return fail(path, name, "cannot close the file");
    return 0;
}
