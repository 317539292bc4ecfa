/* ckpt.c - checkpoint write (in memory, then atomically to disk) and validated read. */
#include "ckpt.h"
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "files.h"
#include "h5util.h"
#include "model_io.h"
#include "runrec.h"

#define H5T_REAL (HC_REAL_IS_DOUBLE ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT)

typedef struct {
    const char *path;
    hc_err *e;
} ctx;

__attribute__((format(printf, 2, 3)))
static int fail(ctx *c, const char *fmt, ...)
{
    char buf[HC_ERR_MSG / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.400s: %s", c->path, buf);
}

/* ---- writing ---- */

static int put_array(hid_t g, const char *name, hid_t type, const void *v, size_t n)
{
    hsize_t dims = n;
    char desc[160];
    const char *unit;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t ds = H5Dcreate2(g, name, type == H5T_NATIVE_FLOAT ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                          space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    char path[64];
    snprintf(path, sizeof path, "/%s", name);
    runrec_describe_path(path, desc, sizeof desc, &unit);
    if (rc >= 0 && h5_describe(ds, desc, unit)) rc = -1;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}


static hid_t entry_type(hc_entry_type type)
{
    return type == ENTRY_REAL ? H5T_REAL : type == ENTRY_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LONG;
}

/* /state/level<k>: whatever the stack lists for level k (arrays, counters). */
static int write_level(hid_t state, const hc_trainer *t, int k)
{
    hc_entry en[HC_MAX_ENTRIES];
    int n = stack_entries(&t->stack, k, en, HC_MAX_ENTRIES), rc = 0;
    char name[32];
    snprintf(name, sizeof name, "level%d", k + 1);
    hid_t g = H5Gcreate2(state, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    for (int i = 0; i < n && !rc; i++)
        rc = en[i].type == ENTRY_COUNTER ? h5_put_long(g, en[i].name, *(long *)en[i].ptr)
                                         : put_array(g, en[i].name, entry_type(en[i].type),
                                                     en[i].ptr, en[i].count);
    H5Gclose(g);
    return rc;
}

static int write_state(hid_t f, const hc_trainer *t)
{
    /* the identity and provenance of the run: runrec.h */
    int rc = h5_put_string(f, "format", HC_CKPT_FORMAT) ||
             h5_put_long(f, "format_version", HC_CKPT_VERSION) || runrec_write(f, &t->record);
    hid_t state = H5Gcreate2(f, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (state < 0) return -1;
    rc = rc || h5_put_long(state, "step", t->step) || h5_put_long(state, "epoch", t->epoch) ||
         h5_put_long(state, "pos", t->pos) ||
         h5_put_double(state, "epoch_loss_sum", t->epoch_loss_sum) ||
         h5_put_long(state, "epoch_samples", t->epoch_samples);
    for (int k = 0; k < t->stack.n_levels && !rc; k++) rc = write_level(state, t, k);
    H5Gclose(state);
    return rc;
}

/* The whole file as bytes, built with the in-memory (core) driver. */
static int build_image(const hc_trainer *t, void **image, size_t *size, ctx *c)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 20, 0);
    hid_t fcpl = h5_ordered_cpl(H5P_FILE_CREATE, 1);      /* attributes listed as written */
    hid_t f = H5Fcreate("hyperclip-checkpoint-image", H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fapl);
    h5_close(fcpl);
    if (f < 0) return fail(c, "%s", "cannot create the in-memory HDF5 file");
    int rc = model_write(f, &t->model, t->param, c->e) ? -2 : write_state(f, t);
    ssize_t n = rc ? -1 : (H5Fflush(f, H5F_SCOPE_GLOBAL), H5Fget_file_image(f, NULL, 0));
    if (n > 0 && (*image = malloc((size_t)n)) && H5Fget_file_image(f, *image, (size_t)n) == n)
        *size = (size_t)n;
    else if (rc != -2)
        rc = -1;
    H5Fclose(f);
    if (rc == -2) return c->e->code;
    return rc ? fail(c, "%s", "cannot build the HDF5 image") : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ckpt_save(const hc_trainer *t, const char *path, hc_err *e)
{
    ctx c = {path, e};
    void *image = NULL;
    size_t size = 0;
    h5_quiet_state q = h5_quiet();
    int rc = build_image(t, &image, &size, &c);
    h5_restore(q);
    if (rc) return rc;

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        free(image);
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: cannot create %s (%s)", path, tmp,
                       strerror(errno));
    }
    /* data and metadata on disk before the rename makes them the checkpoint */
    int err = write_all(fd, image, size) || fsync(fd) ? errno : 0;
    free(image);
    if (close(fd) && !err) err = errno;
    if (!err && rename(tmp, path)) err = errno;
    if (err) {
        unlink(tmp);
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: writing failed%s (%s); the previous "
                       "checkpoint, if any, is intact", path,
                       err == ENOSPC || err == EDQUOT ? ": disk full" : "", strerror(err));
    }
    fsync_dir(path);
    return 0;
}

/* ---- reading ---- */

/* A non-finite number in the state would only show later, as a "divergence". */
static int check_finite(const void *v, hid_t type, size_t n, const char *what, ctx *c)
{
    if (type != H5T_NATIVE_FLOAT && type != H5T_NATIVE_DOUBLE) return 0;
    for (size_t i = 0; i < n; i++) {
        double x = type == H5T_NATIVE_FLOAT ? ((const float *)v)[i] : ((const double *)v)[i];
        if (!isfinite(x))
            return fail(c, "%s holds a non-finite value (%g at index %zu): not a state to resume "
                        "from", what, x, i);
    }
    return 0;
}

static int get_array(hid_t g, const char *gname, const char *name, hid_t type, void *v, size_t n, ctx *c)
{
    char what[96];
    snprintf(what, sizeof what, "/state/%s/%s", gname, name);
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return fail(c, "has no %s (not a complete checkpoint)", what);
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t space = ds < 0 ? -1 : H5Dget_space(ds);
    hssize_t count = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    int rc = 0;
    if (count != (hssize_t)n) rc = fail(c, "%s has the wrong size for this run", what);
    else if (H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) rc = fail(c, "cannot read %s", what);
    else rc = check_finite(v, type, n, what, c);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

static int get_attr(hid_t obj, const char *name, hid_t type, void *v, ctx *c)
{
    if (H5Aexists(obj, name) <= 0) return fail(c, "has no attribute '%s' (not a hyperclip checkpoint?)", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    herr_t rc = !h5_attr_is_single(a) ? -1 : H5Aread(a, type, v);
    if (a >= 0) H5Aclose(a);
    return rc < 0 ? fail(c, "cannot read attribute '%s'", name) : 0;
}

static int get_str(hid_t obj, const char *name, char **out, ctx *c)
{
    if (H5Aexists(obj, name) <= 0) return fail(c, "has no attribute '%s' (not a hyperclip checkpoint?)", name);
    if (h5_get_string(obj, name, out)) return fail(c, "attribute '%s' is not a string", name);
    return 0;
}

/* The run the checkpoint belongs to must be this run. */
static int check_identity(hid_t f, const hc_trainer *t, ctx *c)
{
    char *s = NULL;
    long v;
    if (get_str(f, "format", &s, c)) return c->e->code;
    int other = strcmp(s, HC_CKPT_FORMAT) != 0;
    if (other) fail(c, "is a '%.100s' file, not a hyperclip checkpoint", s);
    free(s);
    if (other) return c->e->code;
    if (get_attr(f, "format_version", H5T_NATIVE_LONG, &v, c)) return c->e->code;
    if (v < 1 || v > HC_CKPT_VERSION)
        return hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.400s: format version %ld, this hyperclip "
                       "reads versions 1 to %d (a newer hyperclip wrote it?)", c->path, v,
                       HC_CKPT_VERSION);
    const struct { const char *name, *mine, *flag; } str[] = {
        {"model", t->model.name, "--model"}, {"dataset", t->ds->name, "--dataset"},
        {"stack", t->stack_canon, "--stack"},
        {"normalization", t->ds->normalization, "--normalize"}};
    for (size_t i = 0; i < sizeof str / sizeof *str; i++) {
        if (get_str(f, str[i].name, &s, c)) return c->e->code;
        if (strcmp(s, str[i].mine))
            hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.300s is of another %s: it has %s '%.200s', "
                    "this run has '%.200s' (%s)", c->path, str[i].name, str[i].name, s,
                    str[i].mine, str[i].flag);
        free(s);
        if (c->e->code) return c->e->code;
    }
    const struct { const char *name; long mine; const char *what; } num[] = {
        {"global_batch", t->opt.batch, "global batch (--batch)"},
        {"n_train", t->ds->train.n, "number of training samples (--data)"}};
    for (size_t i = 0; i < sizeof num / sizeof *num; i++) {
        if (get_attr(f, num[i].name, H5T_NATIVE_LONG, &v, c)) return c->e->code;
        if (v != num[i].mine)
            return hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.400s has another %s: %ld, this run has %ld",
                           c->path, num[i].what, v, num[i].mine);
    }
    /* the same sample count is not the same data: version 2 records the contents' hash */
    if (H5Aexists(f, "train_set_hash") > 0) {
        char mine[32];
        runrec_train_hash(t->ds, mine);
        if (get_str(f, "train_set_hash", &s, c)) return c->e->code;
        if (strcmp(s, mine))
            hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.300s was trained on another training set: "
                    "its hash is %.40s, the one in --data %.300s is %s", c->path, s,
                    t->opt.data_path ? t->opt.data_path : "", mine);
        free(s);
    }
    return c->e->code;
}

/* Reads level k's entries; a counter must lie in [0, step] (each counts at most one
 * update a step; a larger count would overflow when stepped). */
static int read_level(hid_t state, hc_trainer *t, int k, long step, ctx *c)
{
    hc_entry en[HC_MAX_ENTRIES];
    int n = stack_entries(&t->stack, k, en, HC_MAX_ENTRIES), rc = 0;
    char name[32];
    snprintf(name, sizeof name, "level%d", k + 1);
    if (H5Lexists(state, name, H5P_DEFAULT) <= 0) return fail(c, "has no /state/%s", name);
    hid_t g = H5Gopen2(state, name, H5P_DEFAULT);
    for (int i = 0; i < n && !rc; i++) {
        if (en[i].type != ENTRY_COUNTER) {
            rc = get_array(g, name, en[i].name, entry_type(en[i].type), en[i].ptr, en[i].count, c);
            continue;
        }
        long v;
        rc = get_attr(g, en[i].name, H5T_NATIVE_LONG, &v, c);
        if (!rc && (v < 0 || v > step))
            rc = fail(c, "%s", "has inconsistent update counters under /state/level<k>");
        if (!rc) *(long *)en[i].ptr = v;
    }
    H5Gclose(g);
    return rc ? c->e->code : 0;
}

static int read_state(hid_t f, hc_trainer *t, ctx *c)
{
    long step, epoch, pos, samples, seed, shuffle;
    if (H5Lexists(f, "state", H5P_DEFAULT) <= 0) return fail(c, "%s", "has no /state group (a weights file, not a checkpoint?)");
    hid_t state = H5Gopen2(f, "state", H5P_DEFAULT);
    int rc = get_attr(state, "step", H5T_NATIVE_LONG, &step, c) ||
             get_attr(state, "epoch", H5T_NATIVE_LONG, &epoch, c) ||
             get_attr(state, "pos", H5T_NATIVE_LONG, &pos, c) ||
             get_attr(state, "epoch_loss_sum", H5T_NATIVE_DOUBLE, &t->epoch_loss_sum, c) ||
             get_attr(state, "epoch_samples", H5T_NATIVE_LONG, &samples, c) ||
             get_attr(f, "seed", H5T_NATIVE_LONG, &seed, c) ||
             get_attr(f, "shuffle", H5T_NATIVE_LONG, &shuffle, c);
    /* a division, not epoch * steps_per_epoch: the file's epoch can be anything */
    long spe = t->steps_per_epoch;
    if (!rc && (step < 0 || epoch < 0 || pos < 0 || epoch > INT_MAX || step / spe != epoch ||
                step % spe != pos || seed < 0 || samples < 0 || samples > t->ds->train.n))
        rc = fail(c, "%s", "has inconsistent step counters");
    for (int k = 0; k < t->stack.n_levels && !rc; k++) rc = read_level(state, t, k, step, c);
    H5Gclose(state);
    if (rc) return c->e->code;
    t->step = step;
    t->epoch = (int)epoch;
    t->pos = (int)pos;
    t->epoch_samples = samples;
    t->opt.seed = seed;         /* the data order continues as it was */
    t->opt.shuffle = shuffle != 0;
    return 0;
}

int ckpt_load(hc_trainer *t, const char *path, hc_err *e)
{
    ctx c = {path, e};
    if (file_check_input(path, "checkpoint", e)) return e->code;
    h5_quiet_state q = h5_quiet();
    hid_t f = h5_open_readonly(path);
    int rc;
    if (f < 0) {
        rc = fail(&c, "%s", "is not a readable HDF5 file (truncated or corrupt?)");
    } else {
        char what[512];
        snprintf(what, sizeof what, "checkpoint %.400s", path);
        rc = check_identity(f, t, &c);
        if (!rc) rc = model_read(f, &t->model, t->param, what, e);
        if (!rc) rc = read_state(f, t, &c);
        H5Fclose(f);
    }
    h5_restore(q);
    return rc;
}
