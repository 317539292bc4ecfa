/* model_io.c - the /model group of --init files and checkpoints (model_io.h):
 *     /model/<layer>/<param>  float32, the tensor's dims
 * Writing converts hc_real to float32; reading accepts any float class, converts it
 * to hc_real and refuses a missing dataset, another shape, a non-float type or a
 * non-finite value with one message naming the file and the dataset. */
#include "model_io.h"
#include "digest.h"
#include "files.h"
#include "h5util.h"
#include "runrec.h"
#include <stdlib.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#if HC_REAL_IS_DOUBLE
#define HC_H5_REAL H5T_NATIVE_DOUBLE
#else
#define HC_H5_REAL H5T_NATIVE_FLOAT
#endif

#define PATH_BUF 64   /* "/model/" + layer[16] + "/" + param[8] fits easily */

/* ---- the tensor table ---- */

static void tensor_path(char buf[PATH_BUF], const hc_tensor *t)
{
    snprintf(buf, PATH_BUF, "/model/%.16s/%.8s", t->layer, t->param);
}

static void tensor_dims(const hc_tensor *t, hsize_t dims[4])
{
    for (int i = 0; i < t->rank; i++) dims[i] = (hsize_t)t->dims[i];
}

/* Guards against a model whose table does not describe its parameter vector:
 * reading or writing through it would run past the caller's buffer. */
static int check_table(const hc_model *m, hc_err *e)
{
    if (m->n_tensors < 0 || m->n_tensors > HC_MAX_TENSORS)
        return hc_fail(e, HC_ERR_RUNTIME, "%s model: bad tensor count %d", m->name, m->n_tensors);
    for (int i = 0; i < m->n_tensors; i++) {
        const hc_tensor *t = &m->tensors[i];
        size_t count = 1;
        if (t->rank < 1 || t->rank > 4)
            return hc_fail(e, HC_ERR_RUNTIME, "%s model: %s/%s has rank %d", m->name, t->layer,
                           t->param, t->rank);
        for (int d = 0; d < t->rank; d++) count *= t->dims[d] > 0 ? (size_t)t->dims[d] : 0;
        if (count == 0 || count != t->count || t->offset > m->n_params ||
            t->count > m->n_params - t->offset)
            return hc_fail(e, HC_ERR_RUNTIME, "%s model: tensor %s/%s does not fit its parameters",
                           m->name, t->layer, t->param);
    }
    return HC_OK;
}

/* ---- writing ---- */

/* Creates group `name` under loc unless it exists. */
static int ensure_group(hid_t loc, const char *name, hid_t gcpl, const char *where, hc_err *e)
{
    htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);
    if (exists < 0) return h5_fail(e, where, "cannot look up %s", name);
    if (exists) return HC_OK;
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (g < 0) return h5_fail(e, where, "cannot create group %s", name);
    H5Gclose(g);
    return HC_OK;
}

static int write_tensor(hid_t file, const hc_tensor *t, const hc_real *param, hid_t gcpl,
                        const char *where, hc_err *e)
{
    char path[PATH_BUF], group[PATH_BUF];
    hsize_t dims[4];
    tensor_path(path, t);
    snprintf(group, sizeof group, "/model/%.16s", t->layer);
    int rc = ensure_group(file, group, gcpl, where, e);
    if (rc) return rc;

    tensor_dims(t, dims);
    hid_t space = H5Screate_simple(t->rank, dims, NULL), ds = -1;
    hid_t dcpl = h5_dcpl_checked(t->rank, dims, sizeof(float));
    if (space < 0 || dcpl < 0)
        rc = h5_fail(e, where, "cannot make the dataspace of %s", path);
    else if ((ds = H5Dcreate2(file, path, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl,
                              H5P_DEFAULT)) < 0)
        rc = h5_fail(e, where, "cannot create %s", path);
    else if (H5Dwrite(ds, HC_H5_REAL, H5S_ALL, H5S_ALL, H5P_DEFAULT, param + t->offset) < 0)
        rc = h5_fail(e, where, "cannot write %s", path);
    if (rc == HC_OK) {
        char desc[160];
        const char *unit;
        runrec_describe_path(path, desc, sizeof desc, &unit);
        snprintf(desc + strlen(desc), sizeof desc - strlen(desc), " %.16s", t->layer);
        if (h5_describe(ds, desc, unit)) rc = h5_fail(e, where, "cannot describe %s", path);
    }
    h5_close(ds);
    h5_close(dcpl);
    h5_close(space);
    return rc;
}

/* digest.h: the tensors' values as /model stores them. */
static void model_digest(const hc_model *m, const hc_real *param, char out[HC_DIGEST_TEXT])
{
    uint64_t sum = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        char path[PATH_BUF];
        hc_digest d;
        tensor_path(path, &m->tensors[i]);
        digest_init(&d, path);
        digest_float32(&d, param + m->tensors[i].offset, m->tensors[i].count);
        sum += digest_value(&d);
    }
    digest_text(sum, out);
}

static int write_model(hid_t file, const hc_model *m, const hc_real *param, const char *where,
                       hc_err *e)
{
    hid_t gcpl = h5_ordered_cpl(H5P_GROUP_CREATE, 0);
    if (gcpl < 0) return h5_fail(e, where, "cannot set up group properties");
    int rc = ensure_group(file, "/model", gcpl, where, e);
    for (int i = 0; i < m->n_tensors && rc == HC_OK; i++)
        rc = write_tensor(file, &m->tensors[i], param, gcpl, where, e);
    H5Pclose(gcpl);
    char digest[HC_DIGEST_TEXT];
    model_digest(m, param, digest);
    hid_t g = rc ? -1 : H5Gopen2(file, "/model", H5P_DEFAULT);
    if (rc == HC_OK && (g < 0 || h5_put_string(g, "digest", digest)))
        rc = h5_fail(e, where, "cannot write /model's digest");
    h5_close(g);
    return rc;
}

/* A /model with a digest (written since the checksums) must hold what it was written
 * with: chunks of another file of the same model, each with its checksum right, are
 * refused here. */
static int check_digest(hid_t file, const hc_model *m, const hc_real *param, const char *what,
                        hc_err *e)
{
    hid_t g = H5Gopen2(file, "/model", H5P_DEFAULT);
    char *stored = NULL, digest[HC_DIGEST_TEXT];
    htri_t has = g < 0 ? -1 : H5Aexists(g, "digest");
    int rc = has < 0 ? h5_fail(e, what, "cannot read /model's attributes")
             : has && h5_get_string(g, "digest", &stored) ? h5_fail(e, what, "cannot read /model's digest")
                                                           : HC_OK;
    h5_close(g);
    if (rc == HC_OK && stored) {
        model_digest(m, param, digest);
        if (strcmp(stored, digest))
            rc = hc_fail(e, HC_ERR_RUNTIME, "%s: /model does not match its digest (%s, the weights "
                         "read give %s): the file is damaged (parts of another file?)", what,
                         stored, digest);
    }
    free(stored);
    return rc;
}

int model_write(hid_t file, const hc_model *m, const hc_real *param, hc_err *e)
{
    int rc = check_table(m, e);
    if (rc) return rc;
    h5_quiet_state q = h5_quiet();
    char name[1024], where[1100];
    if (H5Fget_name(file, name, sizeof name) < 0) snprintf(name, sizeof name, "(unnamed file)");
    snprintf(where, sizeof where, "writing the model to %s", name);
    rc = write_model(file, m, param, where, e);
    h5_restore(q);
    return rc;
}

/* ---- reading ---- */

static const char *class_words(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integers";
    case H5T_STRING: return "strings";
    case H5T_COMPOUND: return "compound records";
    case H5T_BITFIELD: return "bit fields";
    case H5T_ENUM: return "enumeration values";
    default: return "non-numeric data";
    }
}

/* Shape and type of an open dataset against the tensor. */
static int check_dataset(hid_t ds, const hc_model *m, const hc_tensor *t, const char *path,
                         const char *what, hc_err *e)
{
    int rc = HC_OK;
    hid_t space = H5Dget_space(ds), type = H5Dget_type(ds);
    hsize_t dims[H5S_MAX_RANK], want[4];
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    tensor_dims(t, want);
    if (type < 0 || rank < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        rc = h5_fail(e, what, "cannot read the shape of %s", path);
    } else if (rank != t->rank || memcmp(dims, want, (size_t)rank * sizeof *dims) != 0) {
        char have_s[160], want_s[160];
        h5_format_shape(have_s, sizeof have_s, rank, dims);
        h5_format_shape(want_s, sizeof want_s, t->rank, want);
        rc = hc_fail(e, HC_ERR_RUNTIME, "%s: %s has shape %s, the %s model needs %s", what, path,
                     have_s, m->name, want_s);
    } else if (H5Tget_class(type) != H5T_FLOAT) {
        rc = hc_fail(e, HC_ERR_RUNTIME, "%s: %s holds %s, not floating-point weights", what, path,
                     class_words(H5Tget_class(type)));
    }
    h5_close(type);
    h5_close(space);
    return rc;
}

/* Index of the first NaN or infinity in v[0..n), or n. */
static size_t first_non_finite(const hc_real *v, size_t n)
{
    size_t i = 0;
    while (i < n && isfinite(v[i])) i++;
    return i;
}

static int read_tensor(hid_t file, const hc_model *m, const hc_tensor *t, hc_real *param,
                       const char *what, hc_err *e)
{
    char path[PATH_BUF];
    tensor_path(path, t);
    htri_t exists = h5_path_exists(file, path);
    if (exists < 0) return h5_fail(e, what, "cannot look up %s", path);
    if (!exists) return hc_fail(e, HC_ERR_RUNTIME, "%s has no %s", what, path);

    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0) return h5_fail(e, what, "%s is not a dataset", path);
    hc_real *dst = param + t->offset;
    int rc = check_dataset(ds, m, t, path, what, e);
    if (rc == HC_OK && H5Dread(ds, HC_H5_REAL, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        rc = h5_fail(e, what, "cannot read %s", path);
    H5Dclose(ds);
    if (rc) return rc;

    /* Values too large for hc_real arrive as infinities and are refused here too. */
    size_t bad = first_non_finite(dst, t->count);
    if (bad < t->count)
        return hc_fail(e, HC_ERR_RUNTIME, "%s: %s holds a non-finite value (%g at element %zu)", what,
                       path, (double)dst[bad], bad);
    return HC_OK;
}

int model_read(hid_t file, const hc_model *m, hc_real *param, const char *what, hc_err *e)
{
    int rc = check_table(m, e);
    if (rc) return rc;
    h5_quiet_state q = h5_quiet();
    for (int i = 0; i < m->n_tensors && rc == HC_OK; i++)
        rc = read_tensor(file, m, &m->tensors[i], param, what, e);
    if (rc == HC_OK) rc = check_digest(file, m, param, what, e);
    h5_restore(q);
    return rc;
}

/* Checks that path is a readable HDF5 file first, so the message says which of
 * "missing", "a directory" or "not HDF5" it is rather than HDF5's internals. Opened
 * without HDF5's file locks: reading weights must not block, or be blocked by, another
 * process that has the file open. */
static int open_file(const char *path, const char *kind, const char *what, hid_t *file,
                     hc_err *e)
{
    /* stat first: a FIFO or a device would block HDF5, a directory confuse it */
    if (file_check_input(path, kind, e)) return e->code;
    if (H5Fis_hdf5(path) <= 0) return hc_fail(e, HC_ERR_RUNTIME, "%s is not an HDF5 file", what);
    *file = h5_open_readonly(path);
    return *file < 0 ? h5_fail(e, what, "cannot open") : HC_OK;
}

int model_read_file(const char *path, const char *kind, const hc_model *m, hc_real *param,
                    hc_err *e)
{
    char what[4200];
    hid_t file = -1;
    snprintf(what, sizeof what, "%s %s", kind, path);
    h5_quiet_state q = h5_quiet();
    int rc = open_file(path, kind, what, &file, e);
    if (rc == HC_OK) {
        rc = model_read(file, m, param, what, e);
        H5Fclose(file);
    }
    h5_restore(q);
    return rc;
}

/* A file without a model attribute (an --init weights file from elsewhere): the model
 * whose marker layer it has, else the one without a marker. */
static const char *model_kind_by_layers(hid_t file)
{
    const char *fallback = model_desc(0)->name;
    for (int k = 0; k < MODEL_COUNT; k++) {
        const hc_model_desc *d = model_desc((hc_model_kind)k);
        char link[64];
        if (!d->marker_layer) {
            fallback = d->name;
            continue;
        }
        snprintf(link, sizeof link, "/model/%s", d->marker_layer);
        if (h5_path_exists(file, link) > 0) return d->name;
    }
    return fallback;
}

int model_file_kind(const char *path, char *name, size_t size, hc_err *e)
{
    hid_t file;
    char what[4200];
    snprintf(what, sizeof what, "weights file %s", path);
    h5_quiet_state q = h5_quiet();
    if (open_file(path, "weights file", what, &file, e)) {
        h5_restore(q);
        return e->code;
    }
    snprintf(name, size, "%s", model_kind_by_layers(file));
    char *kind = NULL;
    if (h5_get_string(file, "model", &kind) == 0 && kind[0]) snprintf(name, size, "%s", kind);
    free(kind);
    h5_restore(q);
    H5Fclose(file);
    return 0;
}
