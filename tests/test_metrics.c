/* test_metrics.c - the HDF5 files of hyperclip: the metrics record (metrics.c), the
 * /model group (model_io.c) and `hyperclip info` (info.c). Everything happens in a
 * fresh temporary folder, removed at the end. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "info.h"
#include "metrics.h"
#include "model_io.h"
#include "../src/model_family.h"
#include "tap.h"
#include "testdata.h"

#define N_COLS 3
#define N_ROWS 2500
#define CAPACITY 1000

static const char *const cols[N_COLS] = {"steps/loss", "steps/level1/alpha/value",
                                         "steps/level2/alpha/grad"};

/* ---- helpers ---- */

static void join(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static double step_value(long t, int c)
{
    return 0.5 * (double)t + 1000.0 * c + 0.25;
}

static void epoch_row(int k, double row[HC_EPOCH_COLS])
{
    row[0] = 1.0 + k;           /* train_loss */
    row[1] = 2.0 + k;           /* test_loss */
    row[2] = 0.0231 + 0.01 * k; /* test_error */
    row[3] = 10.0 + k;          /* seconds */
    row[4] = 1000.0 + k;        /* samples_per_second */
}

/* HDF5 ids the library under test left open (it should leave none). */
static long open_ids(void)
{
    return (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
}

/* Rows of a 1-D dataset, or -1. */
static long extent(const char *file, const char *dset)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, dset, H5P_DEFAULT);
    hid_t s = d < 0 ? -1 : H5Dget_space(d);
    hsize_t n = 0;
    long rows = s >= 0 && H5Sget_simple_extent_ndims(s) == 1 &&
                        H5Sget_simple_extent_dims(s, &n, NULL) >= 0 ? (long)n : -1;
    if (s >= 0) H5Sclose(s);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return rows;
}

/* The whole column as doubles (malloc'ed), its length in *n; NULL on failure. */
static double *read_column(const char *file, const char *dset, long *n)
{
    *n = extent(file, dset);
    if (*n < 0) return NULL;
    double *v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, dset, H5P_DEFAULT);
    if (!v || d < 0 || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        v = NULL;
    }
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return v;
}

/* Whether rows [from, to) of column c hold step_value(t, c). */
static int column_matches(const char *file, int c, long from, long to)
{
    long n;
    double *v = read_column(file, cols[c], &n);
    int good = v != NULL && n >= to;
    for (long t = from; good && t < to; t++) good = v[t] == step_value(t, c);
    free(v);
    return good;
}

/* A fixed-length, null-terminated UTF-8 string attribute: its bytes sit in the object
 * header, under its checksum (a variable-length string would sit in HDF5's global heap,
 * which has none). */
static int read_string_attr(hid_t f, const char *name, char *buf, size_t size)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    size_t n = t >= 0 ? H5Tget_size(t) : 0;
    int good = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0 &&
               H5Tget_cset(t) == H5T_CSET_UTF8 && H5Tget_strpad(t) == H5T_STR_NULLTERM &&
               n <= size && H5Aread(a, t, buf) >= 0 && memchr(buf, 0, n);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return good;
}

/* An integer attribute with its file type's size in bytes. */
static int read_int_attr(hid_t f, const char *name, long long *value, size_t *bytes)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    int good = t >= 0 && H5Tget_class(t) == H5T_INTEGER &&
               H5Aread(a, H5T_NATIVE_LLONG, value) >= 0;
    *bytes = t >= 0 ? H5Tget_size(t) : 0;
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return good;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

static void diag_lines(const char *text)
{
    const char *p = text;
    while (p && *p) {
        size_t n = strcspn(p, "\n");
        diag("  %.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

static int contains(const char *text, const char *what)
{
    return text && strstr(text, what) != NULL;
}

/* ---- metrics ---- */

static const hc_run_attrs run_attrs = {
    .stack = "adam / sgd(alpha=0.01)", .dataset = "mnist", .model = "mlp", .version = "0.1.0",
    .normalization = "x/255", .seed = 1234567890123L, .nranks = 4, .global_batch = 256};

/* Writes rows [from, to) of the test columns. */
static int write_rows(hc_metrics *m, long from, long to, hc_err *e)
{
    for (long t = from; t < to; t++) {
        double *row;
        if (metrics_row(m, &row, e)) return 0;
        for (int c = 0; c < N_COLS; c++) row[c] = step_value(t, c);
    }
    return 1;
}

static void test_metrics_write(const char *file)
{
    hc_metrics m;
    hc_err e = {0, ""};
    int rc = metrics_create(&m, file, N_COLS, cols, &run_attrs, CAPACITY, &e);
    ok(rc == 0, "metrics_create with 3 columns (%s)", e.msg);
    ok(extent(file, "steps/loss") == 0 && extent(file, "epochs/samples_per_second") == 0,
       "every column exists and is empty after create");

    ok(write_rows(&m, 0, 1500, &e), "1500 rows written (%s)", e.msg);
    ok(m.steps_written == 1000 && m.used == 500 && extent(file, "steps/loss") == 1000,
       "a full buffer was flushed: the file holds 1000 rows while 500 wait in memory");
    ok(write_rows(&m, 1500, N_ROWS, &e), "2500 rows written in all (%s)", e.msg);

    int epochs_ok = 1;
    for (int k = 0; k < 3; k++) {
        double row[HC_EPOCH_COLS];
        epoch_row(k, row);
        epochs_ok = epochs_ok && metrics_epoch(&m, row, &e) == 0;
    }
    ok(epochs_ok, "3 epoch rows written (%s)", e.msg);
    ok(m.steps_written == N_ROWS && m.used == 0 && m.epochs_written == 3,
       "metrics_epoch flushed the buffered steps");
    metrics_free(&m);

    for (int c = 0; c < N_COLS; c++)
        ok(extent(file, cols[c]) == N_ROWS && column_matches(file, c, 0, N_ROWS),
           "%s holds all 2500 values", cols[c]);

    static const char *const epoch_cols[HC_EPOCH_COLS] = {
        "epochs/train_loss", "epochs/test_loss", "epochs/test_error", "epochs/seconds",
        "epochs/samples_per_second"};
    for (int c = 0; c < HC_EPOCH_COLS; c++) {
        long n;
        double *v = read_column(file, epoch_cols[c], &n), row[HC_EPOCH_COLS];
        int good = v && n == 3;
        for (int k = 0; good && k < 3; k++) {
            epoch_row(k, row);
            good = v[k] == row[c];
        }
        ok(good, "%s holds the 3 epoch values", epoch_cols[c]);
        free(v);
    }
    ok(open_ids() == 0, "no HDF5 ids left open by the writer");
}

static void test_metrics_layout(const char *file)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    char s[256];
    long long v;
    size_t bytes;
    ok(read_string_attr(f, "stack", s, sizeof s) && strcmp(s, run_attrs.stack) == 0,
       "attribute stack = '%s'", run_attrs.stack);
    ok(read_string_attr(f, "dataset", s, sizeof s) && strcmp(s, "mnist") == 0 &&
           read_string_attr(f, "model", s, sizeof s) && strcmp(s, "mlp") == 0 &&
           read_string_attr(f, "version", s, sizeof s) && strcmp(s, "0.1.0") == 0 &&
           read_string_attr(f, "normalization", s, sizeof s) && strcmp(s, "x/255") == 0,
       "attributes dataset, model, version, normalization are fixed-length UTF-8 strings");
    ok(read_int_attr(f, "seed", &v, &bytes) && v == 1234567890123LL && bytes == 8,
       "attribute seed is an int64 holding 1234567890123");
    ok(read_int_attr(f, "nranks", &v, &bytes) && v == 4 && bytes == 4 &&
           read_int_attr(f, "global_batch", &v, &bytes) && v == 256 && bytes == 4,
       "attributes nranks = 4 and global_batch = 256 are int32");

    hid_t d = H5Dopen2(f, "steps/level1/alpha/value", H5P_DEFAULT);
    hid_t p = H5Dget_create_plist(d), s_id = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t chunk = 0, maxdim = 0, dim = 0;
    int good = H5Pget_layout(p) == H5D_CHUNKED && H5Pget_chunk(p, 1, &chunk) == 1 &&
               chunk == 1024 && H5Sget_simple_extent_dims(s_id, &dim, &maxdim) == 1 &&
               maxdim == H5S_UNLIMITED && H5Tequal(t, H5T_IEEE_F64LE) > 0;
    ok(good, "a step column is float64, chunked by 1024, unlimited");
    H5Tclose(t);
    H5Sclose(s_id);
    H5Pclose(p);
    H5Dclose(d);
    H5Fclose(f);
}

static void test_metrics_reopen(const char *file)
{
    hc_metrics m;
    hc_err e = {0, ""};
    int rc = metrics_reopen(&m, file, N_COLS, cols, 1200, 1, CAPACITY, &e);
    ok(rc == 0 && m.steps_written == 1200 && m.epochs_written == 1,
       "metrics_reopen at step 1200, epoch 1 (%s)", e.msg);
    int good = 1;
    for (int c = 0; c < N_COLS; c++) good = good && extent(file, cols[c]) == 1200;
    ok(good, "every step column truncated to 1200 rows");
    ok(extent(file, "epochs/test_error") == 1 && extent(file, "epochs/seconds") == 1,
       "every epoch column truncated to 1 row");

    ok(write_rows(&m, 1200, 1210, &e) && metrics_flush(&m, &e) == 0,
       "10 more rows written and flushed (%s)", e.msg);
    ok(m.steps_written == 1210 && extent(file, "steps/loss") == 1210,
       "the file now holds 1210 steps");
    good = 1;
    for (int c = 0; c < N_COLS; c++) good = good && column_matches(file, c, 0, 1210);
    ok(good, "rows 0..1199 are kept and rows 1200..1209 continue them");

    double *row;
    ok(metrics_row(&m, &row, &e) == 0 && (row[1] = 7.0, metrics_flush(&m, &e)) == 0,
       "a row with only one column set is written");
    long n;
    double *v = read_column(file, cols[0], &n);
    ok(v && n == 1211 && isnan(v[1210]), "a column left unset in a row reads NaN");
    free(v);
    metrics_free(&m);
    ok(open_ids() == 0, "no HDF5 ids left open after reopen");
}

/* A writer killed while it has the file open (kill -9 during an append, the OOM killer,
 * a lost node) leaves a file that can still be opened, read and reopened: HDF5 1.10's
 * superblock would stay marked "open for writing" and HDF5 would refuse the file, for
 * reading too, until h5clear (which is why the metrics file keeps HDF5 1.8's). */
static void test_metrics_killed_writer(const char *file)
{
    pid_t pid = fork();
    if (pid == 0) {
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        H5Pset_file_locking(fapl, 0, 1);
        if (H5Fopen(file, H5F_ACC_RDWR, fapl) >= 0) raise(SIGKILL);
        _exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
       "a writer that had the file open was killed (kill -9)");
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    ok(f >= 0, "... the file still opens for reading");
    if (f >= 0) H5Fclose(f);
    hc_metrics m;
    hc_err e = {0, ""};
    int rc = metrics_reopen(&m, file, N_COLS, cols, 1211, 1, CAPACITY, &e);
    ok(rc == 0, "... and a resume reopens it (%s)", rc ? e.msg : "ok");
    if (!rc) metrics_free(&m);
}

static void test_metrics_errors(const char *dir, const char *file)
{
    char path[512], other[512];
    hc_metrics m;
    hc_err e = {0, ""};
    const char *more[N_COLS + 1] = {cols[0], cols[1], cols[2], "steps/level1/alpha/threshold"};

    int rc = metrics_reopen(&m, file, N_COLS + 1, more, 100, 1, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "steps/level1/alpha/threshold"),
       "reopen asking for a column the file lacks fails naming it (%s)", e.msg);
    ok(extent(file, "steps/loss") == 1211, "the refused reopen left the file unchanged");

    rc = metrics_reopen(&m, file, N_COLS - 1, cols, 100, 1, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "steps/level2/alpha/grad"),
       "reopen of a file with a column the run does not record fails naming it (%s)", e.msg);

    rc = metrics_reopen(&m, file, N_COLS, cols, 5000, 1, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "1211 rows"),
       "reopen past the file's last step fails (%s)", e.msg);

    /* A file that lost a column, as a damaged or foreign file would. */
    join(other, sizeof other, dir, "missing_col.h5");
    rc = metrics_create(&m, other, N_COLS, cols, &run_attrs, 10, &e);
    metrics_free(&m);
    hid_t f = H5Fopen(other, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "steps/level1/alpha/value", H5P_DEFAULT);
    H5Fclose(f);
    rc = metrics_reopen(&m, other, N_COLS, cols, 0, 0, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "steps/level1/alpha/value") &&
           contains(e.msg, other),
       "reopen of a file missing a column fails naming file and column (%s)", e.msg);

    join(path, sizeof path, dir, "no_such_file.h5");
    rc = metrics_reopen(&m, path, N_COLS, cols, 0, 0, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, path), "reopen of a missing file fails (%s)",
       e.msg);

    join(path, sizeof path, dir, "no/such/folder/metrics.h5");
    rc = metrics_create(&m, path, N_COLS, cols, &run_attrs, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, path) && m.path == NULL && m.rows == NULL,
       "create in a missing folder fails naming the path, nothing allocated (%s)", e.msg);

    /* /dev/full answers every write with ENOSPC: a full disk. */
    rc = metrics_create(&m, "/dev/full", N_COLS, cols, &run_attrs, CAPACITY, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "/dev/full"),
       "create on a full device fails naming it (%s)", e.msg);

    /* The file removed under a running trainer: the next flush fails cleanly. */
    join(path, sizeof path, dir, "removed.h5");
    rc = metrics_create(&m, path, N_COLS, cols, &run_attrs, 10, &e);
    int wrote = rc == 0 && write_rows(&m, 0, 5, &e);
    unlink(path);
    rc = metrics_flush(&m, &e);
    ok(wrote && rc == HC_ERR_RUNTIME && contains(e.msg, path) && m.used == 5,
       "a flush to a removed file fails naming it and keeps the rows (%s)", e.msg);
    metrics_free(&m);

    ok(open_ids() == 0, "no HDF5 ids left open after the failures");
}

/* ---- model_io ---- */

/* model_io never reads fan_in (the weights are given): any value will do. */
static void add_tensor(hc_model *m, const char *layer, const char *param, int rank,
                       const int *dims)
{
    model_add_tensor(m, layer, param, rank, dims, rank > 1 ? dims[1] : dims[0]);
}

/* The MLP's table for 6 inputs, 4 hidden units, 3 classes: 43 parameters. */
static void fake_mlp(hc_model *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "mlp");
    add_tensor(m, "fc1", "weight", 2, (const int[]){4, 6});
    add_tensor(m, "fc1", "bias", 1, (const int[]){4});
    add_tensor(m, "fc2", "weight", 2, (const int[]){3, 4});
    add_tensor(m, "fc2", "bias", 1, (const int[]){3});
}

/* Writes /model of m with param into a new file. */
static int write_weights(const char *path, const hc_model *m, const hc_real *param, hc_err *e)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return 0;
    int rc = model_write(f, m, param, e);
    return H5Fclose(f) >= 0 && rc == 0;
}

/* Replaces dataset name in file by one of another type holding data. */
/* Replaces dataset name of a weights file, as a weights file written by another tool
 * would hold it: without hyperclip's digest of /model (digest.h), which the new values
 * would not match. */
static int replace_dataset(const char *path, const char *name, hid_t file_type, hid_t mem_type,
                           hsize_t n, const void *data)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 0;
    hid_t s = H5Screate_simple(1, &n, NULL);
    if (H5Aexists_by_name(f, "/model", "digest", H5P_DEFAULT) > 0)
        H5Adelete_by_name(f, "/model", "digest", H5P_DEFAULT);
    int good = H5Ldelete(f, name, H5P_DEFAULT) >= 0;
    hid_t d = good ? H5Dcreate2(f, name, file_type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    good = d >= 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(s);
    return H5Fclose(f) >= 0 && good;
}

static void test_model_io(const char *dir, const char *weights)
{
    hc_model m, other;
    hc_err e = {0, ""};
    char path[512];
    fake_mlp(&m);
    hc_real param[43], back[43];
    /* Multiples of 1/64: exact in float32, so the round trip is bitwise in both builds. */
    for (size_t i = 0; i < m.n_params; i++) param[i] = (hc_real)((double)((int)(i % 37) - 18) / 64.0);

    ok(m.n_params == 43 && write_weights(weights, &m, param, &e), "model_write (%s)", e.msg);
    hid_t f = H5Fopen(weights, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/model/fc1/weight", H5P_DEFAULT);
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    ok(H5Tequal(t, H5T_IEEE_F32LE) > 0 && H5Sget_simple_extent_dims(s, dims, NULL) == 2 &&
           dims[0] == 4 && dims[1] == 6,
       "/model/fc1/weight is float32 (4, 6)");
    H5Sclose(s);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);

    memset(back, 0, sizeof back);
    ok(model_read_file(weights, "init file", &m, back, &e) == 0 && memcmp(param, back, sizeof param) == 0,
       "model_read_file reads the weights back bitwise (%s)", e.msg);

    other = m;
    other.tensors[0].dims[0] = 6;
    other.tensors[0].dims[1] = 4;
    join(path, sizeof path, dir, "wrong_shape.h5");
    write_weights(path, &other, param, &e);
    int rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "shape") && contains(e.msg, "(6, 4)") &&
           contains(e.msg, "(4, 6)") && contains(e.msg, "/model/fc1/weight"),
       "a weight of the wrong shape is refused (%s)", e.msg);

    other = m;
    other.n_tensors = 3;
    join(path, sizeof path, dir, "no_bias.h5");
    write_weights(path, &other, param, &e);
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "has no /model/fc2/bias") && contains(e.msg, path),
       "a missing dataset is named (%s)", e.msg);

    other.n_tensors = 2;
    join(path, sizeof path, dir, "no_fc2.h5");
    write_weights(path, &other, param, &e);
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "has no /model/fc2/weight"),
       "a missing layer group is named by its first dataset (%s)", e.msg);

    join(path, sizeof path, dir, "int_bias.h5");
    const int ints[4] = {1, 2, 3, 4};
    write_weights(path, &m, param, &e);
    replace_dataset(path, "/model/fc1/bias", H5T_STD_I32LE, H5T_NATIVE_INT, 4, ints);
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "integers") && contains(e.msg, "/model/fc1/bias"),
       "an integer dataset is refused (%s)", e.msg);

    join(path, sizeof path, dir, "f64_bias.h5");
    const double f64[4] = {0.5, -0.25, 0.125, 2.0};
    write_weights(path, &m, param, &e);
    replace_dataset(path, "/model/fc1/bias", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 4, f64);
    e = (hc_err){0, ""};
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == 0 && back[24] == (hc_real)0.5 && back[27] == (hc_real)2.0,
       "a float64 dataset is accepted and converted (%s)", e.msg);

    join(path, sizeof path, dir, "nan.h5");
    hc_real bad[43];
    memcpy(bad, param, sizeof bad);
    bad[m.tensors[2].offset + 5] = (hc_real)NAN;
    write_weights(path, &m, bad, &e);
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "/model/fc2/weight") && contains(e.msg, "non-finite"),
       "a NaN weight is refused naming its dataset (%s)", e.msg);

    join(path, sizeof path, dir, "text.h5");
    write_text(path, "this is not HDF5\n");
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, path) && contains(e.msg, "not an HDF5 file"),
       "a text file is refused (%s)", e.msg);

    join(path, sizeof path, dir, "absent.h5");
    rc = model_read_file(path, "init file", &m, back, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, path), "a missing file is refused (%s)", e.msg);

    ok(open_ids() == 0, "no HDF5 ids left open by model_io");
}

/* ---- info ---- */

static void test_info(const char *dir, const char *metrics, const char *weights)
{
    hc_err e = {0, ""};
    int rc = -1;
    char path[512];

    char *text = testdata_info_text(metrics, &rc, &e);
    diag_lines(text);
    ok(rc == 0 && contains(text, "metrics file") && contains(text, "1211 steps"),
       "info on the metrics file names its kind and its 1211 steps (%s)", e.msg);
    ok(contains(text, "stack = adam / sgd(alpha=0.01)") && contains(text, "seed = 1234567890123") &&
           contains(text, "nranks = 4"),
       "info lists the root attributes");
    ok(contains(text, "level 1 alpha: value 7") && contains(text, "level 2 alpha: grad"),
       "info lists the levels and hyperparameters with their last values");
    ok(contains(text, "1 epoch recorded") && contains(text, "test_error 2.31%"),
       "info gives the last epoch's test error as a percentage");
    free(text);

    text = testdata_info_text(weights, &rc, &e);
    diag_lines(text);
    ok(rc == 0 && contains(text, "weights file") && contains(text, "4 tensors, 43 parameters"),
       "info on the weights file names its kind and size (%s)", e.msg);
    ok(contains(text, "fc1/weight") && contains(text, "float32 (4, 6)") &&
           contains(text, "float32 (4)\n") && contains(text, "float32 (3, 4)") &&
           contains(text, "float32 (3)\n"),
       "info gives every tensor's shape");
    free(text);

    /* A checkpoint: weights plus state and a format attribute. */
    hid_t f = H5Fopen(weights, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(g, "step", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    long long step = 1200;
    H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, &step);
    H5Dclose(d);
    H5Sclose(s);
    H5Gclose(g);
    H5Fclose(f);
    text = testdata_info_text(weights, &rc, &e);
    diag_lines(text);
    ok(rc == 0 && contains(text, "a checkpoint") && contains(text, "state/step = 1200"),
       "info recognises a checkpoint and shows its state (%s)", e.msg);
    free(text);

    join(path, sizeof path, dir, "text.h5");
    text = testdata_info_text(path, &rc, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, "not an HDF5 file") && contains(e.msg, path),
       "info refuses a text file (%s)", e.msg);
    free(text);
    join(path, sizeof path, dir, "absent.h5");
    text = testdata_info_text(path, &rc, &e);
    ok(rc == HC_ERR_RUNTIME && contains(e.msg, path), "info refuses a missing file (%s)", e.msg);
    free(text);
    ok(open_ids() == 0, "no HDF5 ids left open by info");
}

/* Removes the (flat) temporary folder. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char path[512];
    while (d && (ent = readdir(d)))
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            join(path, sizeof path, dir, ent->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    rmdir(dir);
}

int main(void)
{
    char dir[256], metrics[512], weights[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hc_test_metrics_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp %s", dir);
        return tap_done();
    }
    /* The library under test reports every failure itself; HDF5's own traces would
     * only clutter the TAP output. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    join(metrics, sizeof metrics, dir, "metrics.h5");
    join(weights, sizeof weights, dir, "weights.h5");

    test_metrics_write(metrics);
    test_metrics_layout(metrics);
    test_metrics_reopen(metrics);
    test_metrics_killed_writer(metrics);
    test_metrics_errors(dir, metrics);
    test_model_io(dir, weights);
    test_info(dir, metrics, weights);

    remove_dir(dir);
    return tap_done();
}
