/* fuzz_ckpt.c - every reader of HDF5 files that come from elsewhere: --init
 * (model_read_file), --resume (ckpt_load through trainer_init, then two steps on what
 * it loaded), the metrics file a resumed run continues (metrics_reopen) and
 * `hyperclip info` (info_run).
 *
 * The model kind `hyperclip eval` reads from the file (model_file_kind) is read too.
 *
 * Two kinds of input:
 *  - raw: the input starts with HDF5's signature (\x89HDF\r\n\x1a\n) and is the file;
 *    the seed corpus holds real files made by hyperclip, whole and damaged;
 *  - structured: anything else is a small program that builds a file through the HDF5
 *    API: start from nothing, a real checkpoint, a real metrics file or a weights file,
 *    then delete, replace or add groups, datasets and attributes with names hyperclip
 *    reads, any type (floats, integers, strings fixed and variable, compounds, ...), any
 *    rank and dimensions up to 2^62 (declared, never written: the file stays tiny). This
 *    reaches the checks of shapes, types, attributes and sizes that random bytes seldom
 *    get past.
 * Promises checked besides the sanitizers': errors are one clean line, a loaded state
 * can be stepped, and no HDF5 identifier is left open after any reader.
 *
 * HC_FUZZ_SAVE=DIR makes every structured input also leave its file in DIR (named by a
 * hash of the input): that is how the raw seed corpus was made. */
#include "fuzz_common.h"
#include <hdf5.h>
#include <mpi.h>
#include <sanitizer/lsan_interface.h>
#include "ckpt.h"
#include "info.h"
#include "metrics.h"
#include "model_io.h"
#include "testdata.h"
#include "train.h"

static const char HDF5_SIGNATURE[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

static hc_dataset ds;
static hc_trainer ref;                 /* a trainer that never reads input: the model, cols */
static char path[512], tmpl_ckpt[512], tmpl_metrics[512], tmpl_weights[512];
static void *tmpl_data[4];
static size_t tmpl_size[4];
static FILE *devnull;

static hc_trainer_options fuzz_opts(void)
{
    hc_trainer_options o;
    trainer_options_defaults(&o);
    o.stack_text = "sgd / sgd(alpha=1e-3, clip=on)";
    o.batch = 32;
    o.quiet = 1;
    o.progress = 0;
    o.epochs = 4;
    return o;
}

static void *slurp(const char *p, size_t *size)
{
    FILE *f = fopen(p, "rb");
    if (!f) abort();
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) abort();
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* The three real files the structured inputs start from: a checkpoint after 3 steps, a
 * metrics file of 3 steps and 1 epoch, and a weights-only file. */
static void make_templates(const char *dir)
{
    hc_err e = {0};
    hc_trainer t;
    hc_trainer_options o = fuzz_opts();
    snprintf(tmpl_ckpt, sizeof tmpl_ckpt, "%s/template-ckpt.h5", dir);
    snprintf(tmpl_metrics, sizeof tmpl_metrics, "%s/template-metrics.h5", dir);
    snprintf(tmpl_weights, sizeof tmpl_weights, "%s/template-weights.h5", dir);
    o.metrics_path = tmpl_metrics;
    if (trainer_init(&t, &o, &ds, MPI_COMM_SELF, &e)) goto fail;
    for (int i = 0; i < 3; i++)
        if (trainer_step(&t, &e)) goto fail;
    double row[HC_EPOCH_COLS] = {1, 2, 0.5, 3, 4};
    if (metrics_epoch(&t.metrics, row, &e) || trainer_write_checkpoint(&t, tmpl_ckpt, &e)) goto fail;
    hid_t f = H5Fcreate(tmpl_weights, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0 || model_write(f, &t.model, t.param, &e)) goto fail;
    H5Fclose(f);
    trainer_free(&t);
    tmpl_data[1] = slurp(tmpl_ckpt, &tmpl_size[1]);
    tmpl_data[2] = slurp(tmpl_metrics, &tmpl_size[2]);
    tmpl_data[3] = slurp(tmpl_weights, &tmpl_size[3]);
    return;
fail:
    fprintf(stderr, "fuzz_ckpt: cannot make the template files: %s\n", e.msg);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    hc_err e = {0};
    /* What MPI_Init keeps for the process's life is not a leak of any input (libFuzzer's
     * per-input leak check would otherwise report it, with stacks too short to suppress) */
    __lsan_disable();
    MPI_Init(argc, argv);
    __lsan_enable();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    devnull = fopen("/dev/null", "w");
    const char *dir = fuzz_tmpdir();
    snprintf(path, sizeof path, "%s/input.h5", dir);
    if (testdata_make(&ds, 64, 16, 2, 2, 10, 1)) abort();
    hc_trainer_options o = fuzz_opts();
    if (trainer_init(&ref, &o, &ds, MPI_COMM_SELF, &e)) {
        fprintf(stderr, "fuzz_ckpt: %s\n", e.msg);
        abort();
    }
    make_templates(dir);
    return 0;
}

/* ---- the structured inputs: a byte reader and a small HDF5 program ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

static unsigned u8(reader *r)
{
    if (!r->left) return 0;
    r->left--;
    return *r->p++;
}

static uint64_t u64(reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | u8(r);
    return v;
}

#define PICK(r, table) (table[u8(r) % (sizeof table / sizeof *table)])

/* Every name hyperclip looks up, and a few it does not. */
static const char *const object_names[] = {
    "/model", "/model/fc1", "/model/fc2", "/model/fc1/weight", "/model/fc1/bias",
    "/model/fc2/weight", "/model/fc2/bias", "/model/conv1/weight", "/state",
    "/state/level1", "/state/level2", "/state/level3", "/state/level1/raw",
    "/state/level1/clip_avg", "/state/level1/state0", "/state/level1/state1",
    "/state/level1/D0", "/state/level1/D1", "/state/level1/D2", "/state/level2/raw",
    "/state/level2/clip_avg", "/state/level2/buf", "/state/level2/D_alpha",
    "/state/level2/D_mu", "/steps", "/steps/loss", "/steps/level1/alpha/value",
    "/steps/level1/alpha/grad", "/steps/level1/mu/clipped", "/steps/level2/alpha/threshold",
    "/steps/level1", "/epochs", "/epochs/train_loss", "/epochs/test_loss",
    "/epochs/test_error", "/epochs/seconds", "/epochs/samples_per_second", "/other",
};
static const char *const attr_holders[] = {"/", "/state", "/state/level1", "/state/level2",
                                           "/model", "/steps", "/epochs", "/model/fc1/weight"};
static const char *const attr_names[] = {
    "format", "format_version", "stack", "model", "dataset", "normalization", "global_batch",
    "n_train", "nranks", "version", "seed", "shuffle", "step", "epoch", "pos",
    "epoch_loss_sum", "epoch_samples", "steps", "clip_steps", "updates", "other"};
static const char *const strings[] = {
    "hyperclip-checkpoint", "sgd(alpha=0.01, mu=0) / sgd(alpha=0.001, mu=0, clip=on)", "mlp",
    "cnn", "mnist", "fashion-mnist", "cifar10", "pixel/255", "", "0.1.0", "hyperclip-metrics",
    "line one\nline two\x1b[31m red", "\xff\xfe not utf-8",
    "a long string aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
static const long long integers[] = {0, 1, 2, 3, 4, 10, 32, 64, -1, -2, 2147483647LL,
                                     2147483648LL, 9223372036854775807LL,
                                     -9223372036854775807LL - 1};
static const double reals[] = {0.0, 1.0, -1.0, 0.5, 1e-3, 1e300, -1e300, 1e-320};
static const uint64_t dims_table[] = {0, 1, 2, 3, 4, 10, 16, 64, 128, 1930, 512,
                                      2147483647ull, 2147483648ull, 4294967296ull,
                                      1ull << 40, 1ull << 62};

enum { T_F32, T_F64, T_F32BE, T_F16, T_I8, T_I32, T_U64, T_STR, T_VSTR, T_COMPOUND, T_ARRAY,
       T_ENUM, T_OPAQUE, N_TYPES };

/* A new datatype id (the caller closes it); string sizes come from the input. */
static hid_t make_type(reader *r, int kind)
{
    hid_t t = -1;
    switch (kind) {
    case T_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case T_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case T_F32BE: return H5Tcopy(H5T_IEEE_F32BE);
    case T_F16:
        t = H5Tcopy(H5T_IEEE_F32LE);
        if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
            H5Tset_ebias(t, 15) < 0 || H5Tset_precision(t, 16) < 0) {
            H5Tclose(t);
            return H5Tcopy(H5T_IEEE_F32LE);
        }
        return t;
    case T_I8: return H5Tcopy(H5T_STD_I8LE);
    case T_I32: return H5Tcopy(H5T_STD_I32BE);
    case T_U64: return H5Tcopy(H5T_STD_U64LE);
    case T_STR: {
        static const size_t sizes[] = {1, 2, 8, 21, 64, 1023, 1024, 4096, 65535};
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, PICK(r, sizes));
        if (u8(r) & 1) H5Tset_strpad(t, H5T_STR_NULLPAD);
        return t;
    }
    case T_VSTR:
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        return t;
    case T_COMPOUND:
        t = H5Tcreate(H5T_COMPOUND, 16);
        H5Tinsert(t, "a", 0, H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "b", 8, H5T_NATIVE_LLONG);
        return t;
    case T_ARRAY: {
        hsize_t n = 1 + u8(r) % 4;
        return H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &n);
    }
    case T_ENUM: {
        int v0 = 0, v1 = 1;
        t = H5Tenum_create(H5T_NATIVE_INT);
        H5Tenum_insert(t, "off", &v0);
        H5Tenum_insert(t, "on", &v1);
        return t;
    }
    default:
        t = H5Tcreate(H5T_OPAQUE, 4);
        H5Tset_tag(t, "fuzz");
        return t;
    }
}

/* Fills buf (n elements of type t) from the tables or the input. */
static void fill_values(reader *r, hid_t t, void *buf, size_t n)
{
    size_t size = H5Tget_size(t);
    H5T_class_t cls = H5Tget_class(t);
    unsigned char *b = buf;
    for (size_t i = 0; i < n; i++) {
        unsigned char *v = b + i * size;
        if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
            ((const char **)buf)[i] = PICK(r, strings);
        } else if (cls == H5T_STRING) {
            const char *s = PICK(r, strings);
            memset(v, 0, size);
            memcpy(v, s, strlen(s) < size ? strlen(s) : size);
        } else if (cls == H5T_INTEGER || cls == H5T_ENUM) {
            long long x = PICK(r, integers);
            memcpy(v, &x, size < sizeof x ? size : sizeof x);   /* little-endian prefix */
        } else if (cls == H5T_FLOAT && size == 8) {
            double x = u8(r) & 1 ? PICK(r, reals) : (double)(int)u8(r) / 16.0;
            memcpy(v, &x, 8);
        } else {
            for (size_t k = 0; k < size; k++) v[k] = (unsigned char)u8(r);
        }
    }
}

static void delete_link(hid_t f, const char *name)
{
    if (strcmp(name, "/") && H5Lexists(f, name, H5P_DEFAULT) > 0) H5Ldelete(f, name, H5P_DEFAULT);
}

/* Reads a dataset's worth of values into memory only when small. */
#define MAX_WRITE_BYTES (1u << 16)

static void op_dataset(reader *r, hid_t f, hid_t lcpl)
{
    const char *name = PICK(r, object_names);
    int kind = (int)(u8(r) % N_TYPES), rank = (int)(u8(r) % 5), chunked = u8(r) & 1;
    hsize_t dims[4], maxdims[4], chunk[4];
    uint64_t points = 1;
    int overflow = 0;
    for (int i = 0; i < rank; i++) {
        unsigned pick = u8(r);
        dims[i] = pick >= 250 ? (hsize_t)(u64(r) >> 2) : dims_table[pick % (sizeof dims_table / sizeof *dims_table)];
        maxdims[i] = chunked ? H5S_UNLIMITED : dims[i];
        chunk[i] = 1;
        if (dims[i] && points > UINT64_MAX / dims[i]) overflow = 1;
        else points *= dims[i];
    }
    delete_link(f, name);
    hid_t type = make_type(r, kind);
    hid_t space = rank ? H5Screate_simple(rank, dims, maxdims) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked && rank) H5Pset_chunk(dcpl, rank, chunk);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE);
    hid_t d = type < 0 || space < 0 ? -1 : H5Dcreate2(f, name, type, space, lcpl, dcpl, H5P_DEFAULT);
    size_t size = type < 0 ? 0 : H5Tget_size(type);
    if (d >= 0 && !overflow && points > 0 && size && points <= MAX_WRITE_BYTES / size &&
        (u8(r) & 3)) {
        void *buf = calloc((size_t)points, size);
        fill_values(r, type, buf, (size_t)points);
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        free(buf);
    }
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
}

static void op_attribute(reader *r, hid_t f)
{
    const char *holder = PICK(r, attr_holders), *name = PICK(r, attr_names);
    int kind = (int)(u8(r) % N_TYPES), rank = (int)(u8(r) % 3);
    hsize_t dims[2];
    dims[0] = 1 + u8(r) % 4;     /* one statement each: the input is read in order */
    dims[1] = 1 + u8(r) % 3;
    if (strcmp(holder, "/") && H5Lexists(f, holder, H5P_DEFAULT) <= 0) holder = "/";
    hid_t obj = H5Oopen(f, holder, H5P_DEFAULT);
    if (obj < 0) return;
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t type = make_type(r, kind);
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = type < 0 || space < 0 ? -1 : H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    size_t n = rank == 0 ? 1 : rank == 1 ? dims[0] : dims[0] * dims[1];
    size_t size = type < 0 ? 0 : H5Tget_size(type);
    if (a >= 0 && size && n <= MAX_WRITE_BYTES / size) {
        void *buf = calloc(n, size);
        fill_values(r, type, buf, n);
        H5Awrite(a, type, buf);
        free(buf);
    }
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Oclose(obj);
}

static void op_group_or_link(reader *r, hid_t f, hid_t lcpl)
{
    const char *name = PICK(r, object_names), *target = PICK(r, object_names);
    unsigned how = u8(r) % 4;
    delete_link(f, name);
    if (how == 0) {
        hid_t g = H5Gcreate2(f, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0) H5Gclose(g);
    } else if (how == 1) {
        H5Lcreate_soft(target, f, name, lcpl, H5P_DEFAULT);     /* maybe dangling, maybe a loop */
    } else if (how == 2 && H5Lexists(f, target, H5P_DEFAULT) > 0) {
        H5Lcreate_hard(f, target, f, name, lcpl, H5P_DEFAULT);
    } else {
        H5Lcreate_external("no-such-file.h5", "/x", f, name, lcpl, H5P_DEFAULT);
    }
}

/* Builds the file the structured input describes at `path`. */
static void build_file(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    unsigned base = u8(&r) % 4;
    if (base) fuzz_write_file(path, tmpl_data[base], tmpl_size[base]);
    hid_t f = base ? H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT)
                   : H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) abort();
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    for (unsigned ops = u8(&r) % 16; ops > 0 && r.left > 0; ops--) {
        switch (u8(&r) % 4) {
        case 0: op_dataset(&r, f, lcpl); break;
        case 1: op_attribute(&r, f); break;
        case 2: op_group_or_link(&r, f, lcpl); break;
        default: delete_link(f, PICK(&r, object_names)); break;
        }
    }
    H5Pclose(lcpl);
    if (H5Fclose(f) < 0) abort();
    const char *save = getenv("HC_FUZZ_SAVE");
    if (save) {
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ull;
        char p[700];
        snprintf(p, sizeof p, "%s/built-%016llx.h5", save, (unsigned long long)h);
        size_t n;
        void *bytes = slurp(path, &n);
        fuzz_write_file(p, bytes, n);
        free(bytes);
    }
}

/* ---- the readers ---- */

static long open_ids(void)
{
    return (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
}

static void run_readers(void)
{
    hc_err e = {0};
    long ids = open_ids();
    FUZZ_CHECK(ids == 0, "%ld HDF5 ids open before the readers", ids);

    /* --init */
    hc_real *param = calloc(ref.model.n_params, sizeof *param);
    int rc = model_read_file(path, "init file", &ref.model, param, &e);
    if (rc) fuzz_check_error(&e, rc, "model_read_file");
    free(param);
    FUZZ_CHECK(open_ids() == 0, "model_read_file left %ld HDF5 ids open", open_ids());

    /* eval: the model kind comes from the file */
    char kind[16];
    memset(&e, 0, sizeof e);
    memset(kind, 0x55, sizeof kind);
    rc = model_file_kind(path, kind, sizeof kind, &e);
    if (rc) fuzz_check_error(&e, rc, "model_file_kind");
    else FUZZ_CHECK(memchr(kind, 0, sizeof kind) != NULL, "model kind not terminated");
    FUZZ_CHECK(open_ids() == 0, "model_file_kind left %ld HDF5 ids open", open_ids());

    /* --resume, as trainer_init does it, then two steps on the loaded state */
    hc_trainer t;
    hc_trainer_options o = fuzz_opts();
    o.resume_path = path;
    memset(&e, 0, sizeof e);
    rc = trainer_init(&t, &o, &ds, MPI_COMM_SELF, &e);
    if (rc == 0) {
        for (int i = 0; i < 2 && rc == 0; i++) rc = trainer_step(&t, &e);
        FUZZ_CHECK(rc == 0, "a loaded checkpoint cannot be stepped: %s", e.msg);
        FUZZ_CHECK(t.pos >= 0 && t.pos < t.steps_per_epoch && t.epoch >= 0, "pos %ld epoch %ld",
                   t.pos, t.epoch);
        trainer_free(&t);
    } else {
        fuzz_check_error(&e, rc, "trainer_init --resume");
    }
    FUZZ_CHECK(open_ids() == 0, "ckpt_load left %ld HDF5 ids open", open_ids());

    /* hyperclip info */
    memset(&e, 0, sizeof e);
    rc = info_run(path, devnull, &e);
    if (rc) fuzz_check_error(&e, rc, "info_run");
    FUZZ_CHECK(open_ids() == 0, "info_run left %ld HDF5 ids open", open_ids());

    /* the metrics file of a resumed run (last: it rewrites the file) */
    hc_metrics m;
    memset(&e, 0, sizeof e);
    rc = metrics_reopen(&m, path, ref.n_cols, (const char *const *)ref.cols, 2, 0, 8, &e);
    if (rc == 0) {
        double *row;
        rc = metrics_row(&m, &row, &e);
        if (rc == 0) {
            for (int c = 0; c < ref.n_cols; c++) row[c] = c;
            rc = metrics_flush(&m, &e);
        }
        if (rc) fuzz_check_error(&e, rc, "metrics_flush on a reopened file");
        metrics_free(&m);
    } else {
        fuzz_check_error(&e, rc, "metrics_reopen");
    }
    FUZZ_CHECK(open_ids() == 0, "metrics left %ld HDF5 ids open", open_ids());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= sizeof HDF5_SIGNATURE && memcmp(data, HDF5_SIGNATURE, sizeof HDF5_SIGNATURE) == 0)
        fuzz_write_file(path, data, size);
    else if (size <= 4096)
        build_file(data, size);
    else
        return 0;
    run_readers();
    return 0;
}
