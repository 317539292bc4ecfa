/* metrics.c - the per-step and per-epoch HDF5 record (metrics.h, interfaces.md).
 *
 * Every column is a 1-D float64 dataset, chunked and extendible. Rows are kept in
 * one buffer allocated at create/reopen time; a flush opens the file, appends the
 * buffered rows to every column and closes it again, so between flushes the file
 * on disk is complete and readable by any tool.
 *
 * Each public function silences HDF5's own error printing while it runs (and
 * restores the caller's setting), and turns a failure into one message naming the
 * file, what failed and, when HDF5 knows it, the operating system's reason. */
#include "metrics.h"
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include "h5util.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CHUNK_ROWS 1024

/* The per-epoch columns, in the order of the rows given to metrics_epoch(). */
static const char *const epoch_cols[HC_EPOCH_COLS] = {
    "epochs/train_loss", "epochs/test_loss", "epochs/test_error", "epochs/seconds",
    "epochs/samples_per_second"};

/* "metrics PATH: WHAT (reason)" */
static int fail_h5(hc_err *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_h5(hc_err *e, const char *path, const char *fmt, ...)
{
    char where[4200];
    snprintf(where, sizeof where, "metrics %s", path);
    va_list ap;
    va_start(ap, fmt);
    int rc = h5_vfail(e, where, fmt, ap);
    va_end(ap);
    return rc;
}

/* Closes the file; a failure here can be a late write error (disk full). */
static int close_file(hid_t file, int rc, const char *path, hc_err *e)
{
    if (file < 0) return rc;
    if (H5Fclose(file) < 0 && rc == HC_OK)
        return fail_h5(e, path, "cannot finish writing the file");
    return rc;
}

/* HDF5 1.10 cannot survive a failed H5Fclose: the file's id stays registered with
 * freed memory behind it and the library crashes at exit (HDFGroup/hdf5 PR 2291,
 * fixed in 1.14.1). A close fails when the disk fills up while HDF5 writes out its
 * caches, so before HDF5 opens the file we reserve, past its end, the space the
 * session may need: running out of space is then an error before HDF5 has written
 * anything. HDF5 sees the longer file and truncates it to its real end on close. */
static int reserve_space(const char *path, off_t bytes, hc_err *e)
{
    struct stat st;
    int err = 0, fd = open(path, O_WRONLY);
    if (fd < 0)
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: cannot open the file for writing (%s)", path,
                       strerror(errno));
    if (fstat(fd, &st) != 0)
        err = errno;
    else if (S_ISREG(st.st_mode))
        err = posix_fallocate(fd, st.st_size, bytes);
    close(fd);
    /* A file system without fallocate support still gets written, unprotected. */
    if (err == 0 || err == EINVAL || err == EOPNOTSUPP || err == ENODEV) return HC_OK;
    return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: no room for %lld more bytes (%s)", path,
                   (long long)bytes, strerror(err));
}

/* Upper bound of what appending n_rows rows to n_cols columns may add to the file:
 * up to two partly filled 8 KiB chunks and a chunk-index node per column on top of
 * the data, plus room for object headers. */
static off_t append_bytes(int n_cols, int n_rows)
{
    return (off_t)n_cols * ((off_t)n_rows * 8 + 3 * 8 * CHUNK_ROWS + 4096) + 256 * 1024;
}

/* Opens the file for a writing session that may add up to `bytes` bytes, without HDF5's
 * file locks: a reader that keeps the file open (h5py, `hyperclip info`) must not make
 * the trainer's next flush fail. */
static hid_t open_rw(const char *path, off_t bytes, hc_err *e)
{
    /* Opened read-only first: the reservation grows the file, which would hide a
     * truncated file from HDF5's end-of-file check (HDF5 then trusts sizes read from
     * the damaged part: fuzz_ckpt saw a 650 GB allocation) and, when HDF5 refuses the
     * file anyway, leave it grown. A file refused here is left exactly as it was. */
    struct stat st;
    hid_t fapl = h5_fapl_nolock();
    if (fapl < 0) {
        fail_h5(e, path, "cannot set up file access");
        return -1;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        fail_h5(e, path, "cannot open the file (truncated or corrupt?)");
        H5Pclose(fapl);
        return -1;
    }
    H5Fclose(file);
    if (stat(path, &st) != 0) {
        hc_fail(e, HC_ERR_RUNTIME, "metrics %s: %s", path, strerror(errno));
        H5Pclose(fapl);
        return -1;
    }
    if (reserve_space(path, bytes, e)) {
        H5Pclose(fapl);
        return -1;
    }
    file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (file < 0) {
        fail_h5(e, path, "cannot open the file for writing");
        if (truncate(path, st.st_size) != 0) { /* the error above is the one to report */ }
    }
    H5Pclose(fapl);
    return file;
}

/* ---- the in-memory side ---- */

static int valid_col(const char *col)
{
    size_t n = col ? strlen(col) : 0;
    return n > 0 && col[n - 1] != '/' && !strstr(col, "//");
}

/* Validates the arguments and allocates everything once; m is zeroed first, so
 * metrics_free(m) is always safe afterwards. */
static int metrics_init(hc_metrics *m, const char *path, int n_cols, const char *const *cols,
                        int capacity, hc_err *e)
{
    memset(m, 0, sizeof *m);
    if (!path || !*path) return hc_fail(e, HC_ERR_RUNTIME, "metrics: no file name");
    if (n_cols < 1 || !cols || capacity < 1)
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: needs at least one column and one buffered row",
                       path);
    if ((size_t)capacity > SIZE_MAX / sizeof(double) / (size_t)n_cols)
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: row buffer too large", path);
    for (int c = 0; c < n_cols; c++)
        if (!valid_col(cols[c]))
            return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: bad column name '%s'", path,
                           cols[c] ? cols[c] : "(null)");

    m->path = strdup(path);
    m->cols = calloc((size_t)n_cols, sizeof *m->cols);
    m->rows = malloc((size_t)capacity * (size_t)n_cols * sizeof *m->rows);
    if (!m->path || !m->cols || !m->rows) goto oom;
    m->n_cols = n_cols;
    for (int c = 0; c < n_cols; c++)
        if (!(m->cols[c] = strdup(cols[c]))) goto oom;
    m->capacity = capacity;
    return HC_OK;
oom:
    metrics_free(m);
    return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: out of memory", path);
}

void metrics_free(hc_metrics *m)
{
    if (!m) return;
    if (m->cols)
        for (int c = 0; c < m->n_cols; c++) free(m->cols[c]);
    free(m->cols);
    free(m->rows);
    free(m->path);
    memset(m, 0, sizeof *m);
}

/* ---- creating the file ---- */

/* Empty rows read as NaN: a column extended but not yet written is visibly so. Each
 * chunk carries a Fletcher32 checksum: damaged rows are found when the file is reopened. */
static hid_t make_column_dcpl(void)
{
    hsize_t chunk = CHUNK_ROWS;
    double fill = NAN;
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (p >= 0 && (H5Pset_chunk(p, 1, &chunk) < 0 || H5Pset_fletcher32(p) < 0 ||
                   H5Pset_fill_value(p, H5T_NATIVE_DOUBLE, &fill) < 0)) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

/* Creates the groups above `col` that do not exist yet (intermediate groups are
 * made here rather than by a link creation property so they get gcpl). */
static int make_parents(hid_t file, const char *col, hid_t gcpl, const char *path, hc_err *e)
{
    char *prefix = strdup(col);
    if (!prefix) return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: out of memory", path);
    int rc = HC_OK;
    for (char *s = strchr(prefix + 1, '/'); s && rc == HC_OK; s = strchr(s + 1, '/')) {
        *s = '\0';
        htri_t exists = H5Lexists(file, prefix, H5P_DEFAULT);
        if (exists < 0) {
            rc = fail_h5(e, path, "cannot look up group %s", prefix);
        } else if (!exists) {
            hid_t g = H5Gcreate2(file, prefix, H5P_DEFAULT, gcpl, H5P_DEFAULT);
            if (g < 0) rc = fail_h5(e, path, "cannot create group %s", prefix);
            h5_close(g);
        }
        *s = '/';
    }
    free(prefix);
    return rc;
}

/* An empty, unlimited float64 column. */
static int create_column(hid_t file, const char *col, hid_t gcpl, hid_t dcpl, const char *path,
                         hc_err *e)
{
    hsize_t zero = 0, unlimited = H5S_UNLIMITED;
    int rc = make_parents(file, col, gcpl, path, e);
    if (rc) return rc;
    hid_t space = H5Screate_simple(1, &zero, &unlimited);
    if (space < 0) return fail_h5(e, path, "cannot make the dataspace of %s", col);
    hid_t ds = H5Dcreate2(file, col, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    char desc[160];
    const char *unit;
    runrec_describe_path(col, desc, sizeof desc, &unit);
    if (ds < 0) rc = fail_h5(e, path, "cannot create dataset %s", col);
    else if (h5_describe(ds, desc, unit)) rc = fail_h5(e, path, "cannot describe dataset %s", col);
    h5_close(ds);
    h5_close(space);
    return rc;
}

/* A UTF-8 string (h5util.h: fixed-length, under the header's checksum). */
static int write_string_attr(hid_t loc, const char *name, const char *value, const char *path,
                             hc_err *e)
{
    return h5_put_string(loc, name, value) ? fail_h5(e, path, "cannot write attribute %s", name)
                                           : HC_OK;
}

static int write_number_attr(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                             const void *value, const char *path, hc_err *e)
{
    return h5_put_scalar(loc, name, file_type, mem_type, value)
               ? fail_h5(e, path, "cannot write attribute %s", name) : HC_OK;
}

static int write_run_attrs(hid_t file, const hc_run_attrs *a, const char *path, hc_err *e)
{
    const struct {
        const char *name, *value;
    } strs[] = {{"stack", a->stack},     {"dataset", a->dataset}, {"model", a->model},
                {"version", a->version}, {"normalization", a->normalization}};
    int64_t seed = a->seed;
    int32_t nranks = a->nranks, global_batch = a->global_batch;
    int rc = HC_OK;
    if (a->record)
        return runrec_write(file, a->record) ? fail_h5(e, path, "cannot write the run record") : HC_OK;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0] && rc == HC_OK; i++)
        rc = write_string_attr(file, strs[i].name, strs[i].value, path, e);
    if (rc == HC_OK)
        rc = write_number_attr(file, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &seed, path, e);
    if (rc == HC_OK)
        rc = write_number_attr(file, "nranks", H5T_STD_I32LE, H5T_NATIVE_INT32, &nranks, path, e);
    if (rc == HC_OK)
        rc = write_number_attr(file, "global_batch", H5T_STD_I32LE, H5T_NATIVE_INT32,
                               &global_batch, path, e);
    return rc;
}

/* A truncated file holding only the superblock and the root group (which track
 * creation order). HDF5 writes these within H5Fcreate, so closing it writes next
 * to nothing; the objects are then added in a session with space reserved. */
static int create_empty(const char *path, hc_err *e)
{
    int rc = HC_OK;
    hid_t fapl = h5_fapl_create(1), fcpl = h5_ordered_cpl(H5P_FILE_CREATE, 1), file = -1;
    if (fapl < 0 || fcpl < 0)
        rc = fail_h5(e, path, "cannot set up file properties");
    else if ((file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
        rc = fail_h5(e, path, "cannot create the file");
    rc = close_file(file, rc, path, e);
    h5_close(fcpl);
    h5_close(fapl);
    return rc;
}

/* Every column and the attributes, into a freshly truncated file. */
static int create_file(const hc_metrics *m, const hc_run_attrs *attrs, hc_err *e)
{
    int rc = create_empty(m->path, e);
    if (rc) return rc;
    hid_t gcpl = h5_ordered_cpl(H5P_GROUP_CREATE, 0), dcpl = make_column_dcpl(), file = -1;
    if (gcpl < 0 || dcpl < 0)
        rc = fail_h5(e, m->path, "cannot set up dataset properties");
    else if ((file = open_rw(m->path, append_bytes(m->n_cols + HC_EPOCH_COLS, 0), e)) < 0)
        rc = e->code;
    if (attrs && rc == HC_OK) rc = write_run_attrs(file, attrs, m->path, e);
    for (int c = 0; c < m->n_cols && rc == HC_OK; c++)
        rc = create_column(file, m->cols[c], gcpl, dcpl, m->path, e);
    for (int c = 0; c < HC_EPOCH_COLS && rc == HC_OK; c++)
        rc = create_column(file, epoch_cols[c], gcpl, dcpl, m->path, e);
    rc = close_file(file, rc, m->path, e);
    h5_close(dcpl);
    h5_close(gcpl);
    return rc;
}

int metrics_create(hc_metrics *m, const char *path, int n_cols, const char *const *cols,
                   const hc_run_attrs *attrs, int capacity, hc_err *e)
{
    int rc = metrics_init(m, path, n_cols, cols, capacity, e);
    if (rc) return rc;
    h5_quiet_state q = h5_quiet();
    rc = create_file(m, attrs, e);
    h5_restore(q);
    /* a file this call made and could not complete (a full disk) is not left behind to
     * be refused as "already exists" by the next run; a device is never removed */
    struct stat st;
    if (rc && stat(path, &st) == 0 && S_ISREG(st.st_mode)) unlink(path);
    if (rc) metrics_free(m);
    return rc;
}

/* ---- appending ---- */

/* Writes column c of a row-major block of n_rows x n_cols doubles to rows
 * [offset, offset + n_rows) of dataset col, extending it to offset + n_rows. The
 * extent is set absolutely, so a flush that failed half-way can simply be retried. */
static int append_column(hid_t file, const char *col, long offset, const double *block,
                         int n_rows, int n_cols, int c, const char *path, hc_err *e)
{
    int rc = HC_OK;
    hid_t ds = -1, fspace = -1, mspace = -1;
    hsize_t size = (hsize_t)offset + (hsize_t)n_rows;
    hsize_t fstart = (hsize_t)offset, fcount = (hsize_t)n_rows;
    hsize_t mdims[2] = {(hsize_t)n_rows, (hsize_t)n_cols};
    hsize_t mstart[2] = {0, (hsize_t)c}, mcount[2] = {(hsize_t)n_rows, 1};

    if ((ds = H5Dopen2(file, col, H5P_DEFAULT)) < 0) {
        rc = fail_h5(e, path, "cannot open dataset %s", col);
    } else if (H5Dset_extent(ds, &size) < 0) {
        rc = fail_h5(e, path, "cannot extend %s to %llu rows", col, (unsigned long long)size);
    } else if ((fspace = H5Dget_space(ds)) < 0 ||
               H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &fstart, NULL, &fcount, NULL) < 0 ||
               (mspace = H5Screate_simple(2, mdims, NULL)) < 0 ||
               H5Sselect_hyperslab(mspace, H5S_SELECT_SET, mstart, NULL, mcount, NULL) < 0) {
        rc = fail_h5(e, path, "cannot select rows of %s", col);
    } else if (H5Dwrite(ds, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, block) < 0) {
        rc = fail_h5(e, path, "cannot write %s", col);
    }
    h5_close(mspace);
    h5_close(fspace);
    /* Closing writes out the dataset's chunk cache: a late write error shows here. */
    if (ds >= 0 && H5Dclose(ds) < 0 && rc == HC_OK) rc = fail_h5(e, path, "cannot write %s", col);
    return rc;
}

/* Appends a block to a set of columns in one open/close of the file. */
static int append_block(const char *path, const char *const *cols, int n_cols, long offset,
                        const double *block, int n_rows, hc_err *e)
{
    hid_t file = open_rw(path, append_bytes(n_cols, n_rows), e);
    if (file < 0) return e->code;
    int rc = HC_OK;
    for (int c = 0; c < n_cols && rc == HC_OK; c++)
        rc = append_column(file, cols[c], offset, block, n_rows, n_cols, c, path, e);
    return close_file(file, rc, path, e);
}

int metrics_flush(hc_metrics *m, hc_err *e)
{
    if (m->used == 0) return HC_OK;
    h5_quiet_state q = h5_quiet();
    int rc = append_block(m->path, (const char *const *)m->cols, m->n_cols, m->steps_written,
                          m->rows, m->used, e);
    h5_restore(q);
    if (rc) return rc;
    m->steps_written += m->used;
    m->used = 0;
    return HC_OK;
}

int metrics_row(hc_metrics *m, double **row, hc_err *e)
{
    if (m->used == m->capacity) {
        int rc = metrics_flush(m, e);
        if (rc) return rc;
    }
    double *r = m->rows + (size_t)m->used * (size_t)m->n_cols;
    /* A column the caller leaves unset reads as NaN, not as an old row's value. */
    for (int c = 0; c < m->n_cols; c++) r[c] = NAN;
    m->used++;
    *row = r;
    return HC_OK;
}

int metrics_epoch(hc_metrics *m, const double epoch_row[HC_EPOCH_COLS], hc_err *e)
{
    int rc = metrics_flush(m, e);
    if (rc) return rc;
    h5_quiet_state q = h5_quiet();
    rc = append_block(m->path, epoch_cols, HC_EPOCH_COLS, m->epochs_written, epoch_row, 1, e);
    h5_restore(q);
    if (rc == HC_OK) m->epochs_written++;
    return rc;
}

/* ---- reopening ---- */

/* Reads rows [0, rows) of column ds a chunk at a time: HDF5 verifies each chunk's
 * checksum, so rows damaged on disk are found now, not at the first flush after an
 * epoch of training (or never, for rows that flush does not touch). */
static int verify_rows(hid_t ds, hid_t space, long rows, const char *col, const char *path,
                       hc_err *e)
{
    double buf[CHUNK_ROWS];
    hsize_t count = CHUNK_ROWS;
    hid_t mspace = H5Screate_simple(1, &count, NULL);
    int rc = mspace < 0 ? fail_h5(e, path, "cannot read %s", col) : HC_OK;
    for (hsize_t start = 0; start < (hsize_t)rows && rc == HC_OK; start += CHUNK_ROWS) {
        count = (hsize_t)rows - start < CHUNK_ROWS ? (hsize_t)rows - start : CHUNK_ROWS;
        hsize_t zero = 0;
        if (H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Sselect_hyperslab(mspace, H5S_SELECT_SET, &zero, NULL, &count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_DOUBLE, mspace, space, H5P_DEFAULT, buf) < 0)
            rc = fail_h5(e, path, "cannot read rows %llu to %llu of %s",
                         (unsigned long long)start, (unsigned long long)(start + count - 1), col);
    }
    h5_close(mspace);
    return rc;
}

/* Checks that col is a 1-D float column with at least `rows` rows, readable, and no
 * filter but Fletcher32 in its pipeline (hyperclip writes no other; a compressed column
 * could not be appended to, and only the first flush, after training, would find out). */
static int check_column(hid_t file, const char *col, long rows, const char *path,
                        h5_chunk_addrs *chunks, hc_err *e)
{
    htri_t exists = h5_path_exists(file, col);
    if (exists < 0) return fail_h5(e, path, "cannot look up %s", col);
    if (!exists) return hc_fail(e, HC_ERR_RUNTIME, "metrics %s has no column %s", path, col);

    int rc = HC_OK;
    hid_t ds = -1, space = -1, type = -1, dcpl = -1;
    hsize_t n = 0;
    if ((ds = H5Dopen2(file, col, H5P_DEFAULT)) < 0) {
        rc = fail_h5(e, path, "%s is not a dataset", col);
    } else if ((dcpl = H5Dget_create_plist(ds)) < 0 || h5_filters_are_ours(dcpl) != 1) {
        rc = hc_fail(e, HC_ERR_RUNTIME, "metrics %s: %s has a filter (compression?), which "
                     "hyperclip does not write", path, col);
    } else if ((space = H5Dget_space(ds)) < 0 || (type = H5Dget_type(ds)) < 0) {
        rc = fail_h5(e, path, "cannot read the shape of %s", col);
    } else if (H5Sget_simple_extent_ndims(space) != 1 || H5Tget_class(type) != H5T_FLOAT) {
        rc = hc_fail(e, HC_ERR_RUNTIME, "metrics %s: %s is not a 1-D float column", path, col);
    } else if (H5Sget_simple_extent_dims(space, &n, NULL) < 0) {
        rc = fail_h5(e, path, "cannot read the shape of %s", col);
    } else if (n < (hsize_t)rows) {
        rc = hc_fail(e, HC_ERR_RUNTIME, "metrics %s: %s has %llu rows, the run to continue has %ld",
                     path, col, (unsigned long long)n, rows);
    } else {
        rc = verify_rows(ds, space, rows, col, path, e);
        int index = rc ? 0 : h5_column_chunks_check(ds, (hsize_t)rows, chunks);
        if (index > 0)
            rc = hc_fail(e, HC_ERR_RUNTIME, "metrics %s: the chunk index of %s is damaged (it "
                         "does not list rows 0 to %ld once each): the file is damaged", path, col,
                         rows - 1);
        else if (index < 0)
            rc = fail_h5(e, path, "cannot read the chunk index of %s", col);
    }
    h5_close(dcpl);
    h5_close(type);
    h5_close(space);
    h5_close(ds);
    return rc;
}

typedef struct {
    const hc_metrics *m;
    char extra[256];        /* first dataset under /steps that m does not record */
} extra_search;

/* Skips a leading '/' so "steps/loss" and "/steps/loss" name the same column. */
static const char *rel(const char *col)
{
    return col[0] == '/' ? col + 1 : col;
}

static herr_t find_extra(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    extra_search *s = data;
    if (info->type != H5L_TYPE_HARD) return 0;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) return -1;
    int is_dataset = H5Iget_type(obj) == H5I_DATASET;
    H5Oclose(obj);
    if (!is_dataset) return 0;
    for (int c = 0; c < s->m->n_cols; c++) {
        const char *col = rel(s->m->cols[c]);
        if (strncmp(col, "steps/", 6) == 0 && strcmp(col + 6, name) == 0) return 0;
    }
    snprintf(s->extra, sizeof s->extra, "steps/%s", name);
    return 1; /* stop */
}

/* The file's step columns must be exactly m's: a column the run no longer writes
 * would silently stop growing while the others go on. */
static int check_no_extra(hid_t file, const hc_metrics *m, hc_err *e)
{
    extra_search s = {m, ""};
    htri_t has_steps = H5Lexists(file, "steps", H5P_DEFAULT);
    if (has_steps < 0) return fail_h5(e, m->path, "cannot look up /steps");
    if (!has_steps) return HC_OK;
    if (H5Lvisit_by_name(file, "steps", H5_INDEX_NAME, H5_ITER_INC, find_extra, &s, H5P_DEFAULT) < 0)
        return fail_h5(e, m->path, "cannot list /steps");
    if (s.extra[0])
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s has column %s, which this run does not record",
                       m->path, s.extra);
    return HC_OK;
}

static int set_rows(hid_t file, const char *col, long rows, const char *path, hc_err *e)
{
    hsize_t size = (hsize_t)rows;
    hid_t ds = H5Dopen2(file, col, H5P_DEFAULT);
    if (ds < 0) return fail_h5(e, path, "cannot open dataset %s", col);
    int rc = HC_OK;
    if (H5Dset_extent(ds, &size) < 0) rc = fail_h5(e, path, "cannot truncate %s to %ld rows", col, rows);
    h5_close(ds);
    return rc;
}

/* Checks every column before changing any, so a refused reopen leaves the file as
 * it was; then drops the rows beyond `steps` and `epochs`. */
static int reopen_file(hc_metrics *m, long steps, long epochs, hc_err *e)
{
    struct stat st;
    if (stat(m->path, &st) != 0)
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: %s", m->path, strerror(errno));
    if (H5Fis_hdf5(m->path) <= 0)
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s is not an HDF5 file", m->path);
    hid_t file = open_rw(m->path, append_bytes(m->n_cols + HC_EPOCH_COLS, 0), e);
    if (file < 0) return e->code;

    int rc = HC_OK;
    h5_chunk_addrs chunks = {NULL, 0, 0};
    for (int c = 0; c < m->n_cols && rc == HC_OK; c++)
        rc = check_column(file, m->cols[c], steps, m->path, &chunks, e);
    for (int c = 0; c < HC_EPOCH_COLS && rc == HC_OK; c++)
        rc = check_column(file, epoch_cols[c], epochs, m->path, &chunks, e);
    if (rc == HC_OK && h5_chunk_addrs_repeat(&chunks))
        rc = hc_fail(e, HC_ERR_RUNTIME, "metrics %s: the chunk indexes are damaged (two columns "
                     "name the same rows on disk)", m->path);
    h5_chunk_addrs_free(&chunks);
    if (rc == HC_OK) rc = check_no_extra(file, m, e);
    for (int c = 0; c < m->n_cols && rc == HC_OK; c++)
        rc = set_rows(file, m->cols[c], steps, m->path, e);
    for (int c = 0; c < HC_EPOCH_COLS && rc == HC_OK; c++)
        rc = set_rows(file, epoch_cols[c], epochs, m->path, e);
    return close_file(file, rc, m->path, e);
}

int metrics_reopen(hc_metrics *m, const char *path, int n_cols, const char *const *cols,
                   long steps, long epochs, int capacity, hc_err *e)
{
    int rc = metrics_init(m, path, n_cols, cols, capacity, e);
    if (rc) return rc;
    if (steps < 0 || epochs < 0) {
        metrics_free(m);
        return hc_fail(e, HC_ERR_RUNTIME, "metrics %s: negative step or epoch count", path);
    }
    h5_quiet_state q = h5_quiet();
    rc = reopen_file(m, steps, epochs, e);
    h5_restore(q);
    if (rc) {
        metrics_free(m);
        return rc;
    }
    m->steps_written = steps;
    m->epochs_written = epochs;
    return HC_OK;
}
