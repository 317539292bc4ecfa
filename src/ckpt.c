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
#include "digest.h"
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
    /* a checksum HDF5 found wrong is the cause, whatever the read was for */
    int damaged = h5_checksum_failed();
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (damaged)
        return hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.400s: %s (reading failed: %s)",
                       c->path, H5_DAMAGED, buf);
    return hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.400s: %s", c->path, buf);
}

/* ---- writing ---- */

static int put_array(hid_t g, const char *group, const char *name, hid_t type, const void *v,
                     size_t n)
{
    hsize_t dims = n;
    char desc[160];
    const char *unit;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t dcpl = h5_dcpl_checked(1, &dims, H5Tget_size(type));
    hid_t ds = dcpl < 0 ? -1 : H5Dcreate2(g, name, type == H5T_NATIVE_FLOAT ? H5T_IEEE_F32LE
                                                                          : H5T_IEEE_F64LE,
                                          space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    h5_close(dcpl);
    char path[96];
    snprintf(path, sizeof path, "%s/%s", group, name);
    runrec_describe_path(path, desc, sizeof desc, &unit);
    if (rc >= 0 && h5_describe(ds, desc, unit)) rc = -1;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

static hid_t entry_type(hc_entry_type type)
{
    return type == ENTRY_REAL ? H5T_REAL : type == ENTRY_F64 || type == ENTRY_DOUBLE
                                           ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LONG;
}

static int is_scalar(hc_entry_type type) { return type == ENTRY_LONG || type == ENTRY_DOUBLE; }

/* /<path> (made with any group above it not yet made): the group's scalars as its
 * attributes, its arrays as datasets, in order. */
static int write_group(hid_t f, const hc_entry_group *gr)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f, gr->path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return -1;
    int rc = 0;
    for (int i = 0; i < gr->n && !rc; i++) {
        const hc_entry *en = &gr->entry[i];
        rc = en->type == ENTRY_LONG     ? h5_put_long(g, en->name, *(const long *)en->ptr)
             : en->type == ENTRY_DOUBLE ? h5_put_double(g, en->name, *(const double *)en->ptr)
                                        : put_array(g, gr->path, en->name, entry_type(en->type),
                                                    en->ptr, en->count);
    }
    H5Gclose(g);
    return rc;
}

static size_t entry_bytes(const hc_entry *en)
{
    return en->count * (en->type == ENTRY_REAL ? sizeof(hc_real) : sizeof(double));
}

/* digest.h: every array of the groups (the scalars are attributes, in the checksummed
 * object headers already). The arrays are stored as they are in memory. */
static void state_digest(const hc_ckpt *c, char out[HC_DIGEST_TEXT])
{
    uint64_t sum = 0;
    for (int g = 0; g < c->n_groups; g++)
        for (int i = 0; i < c->group[g].n; i++) {
            const hc_entry *en = &c->group[g].entry[i];
            char path[96];
            hc_digest d;
            if (is_scalar(en->type)) continue;
            snprintf(path, sizeof path, "/%s/%s", c->group[g].path, en->name);
            digest_init(&d, path);
            digest_bytes(&d, en->ptr, entry_bytes(en));
            sum += digest_value(&d);
        }
    digest_text(sum, out);
}

static int write_file(hid_t f, const hc_ckpt *c)
{
    /* the identity and provenance of the run: runrec.h */
    char digest[HC_DIGEST_TEXT];
    state_digest(c, digest);
    int rc = h5_put_string(f, "format", HC_CKPT_FORMAT) ||
             h5_put_long(f, "format_version", HC_CKPT_VERSION) || runrec_write(f, c->record) ||
             h5_put_string(f, "state_digest", digest);
    for (int i = 0; i < c->n_groups && !rc; i++) rc = write_group(f, &c->group[i]);
    return rc;
}

/* The in-memory (core) driver's buffer goes through these callbacks. The one it frees
 * when the file closes is the finished file, kept: only closing leaves it consistent
 * (H5Fget_file_image on the open file copies a superblock whose status byte it clears
 * without updating the superblock's checksum, so HDF5 1.10 refuses that copy). */
typedef struct {
    void *image;
} image_keeper;

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *keeper)
{
    (void)op, (void)keeper;
    return malloc(size);
}

static void *image_memcpy(void *dst, const void *src, size_t size, H5FD_file_image_op_t op,
                          void *keeper)
{
    (void)op, (void)keeper;
    return memcpy(dst, src, size);
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *keeper)
{
    (void)op, (void)keeper;
    return realloc(ptr, size);
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *keeper)
{
    image_keeper *k = keeper;
    if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE && !k->image) k->image = ptr;
    else free(ptr);
    return 0;
}

static void *keeper_copy(void *keeper) { return keeper; }
static herr_t keeper_free(void *keeper) { (void)keeper; return 0; }

/* The whole file as bytes, built with the in-memory (core) driver in HDF5 1.10's
 * format (h5_fapl_create: checksums on all metadata, chunk indexes included). */
static int build_image(const hc_ckpt *ck, void **image, size_t *size, ctx *c)
{
    image_keeper keeper = {NULL};
    H5FD_file_image_callbacks_t callbacks = {image_malloc, image_memcpy, image_realloc, image_free,
                                             keeper_copy, keeper_free, &keeper};
    hid_t fapl = h5_fapl_create(0);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
        H5Pset_file_image_callbacks(fapl, &callbacks) < 0) {
        h5_close(fapl);
        return fail(c, "%s", "cannot set up the in-memory HDF5 file");
    }
    hid_t fcpl = h5_ordered_cpl(H5P_FILE_CREATE, 1);      /* attributes listed as written */
    hid_t f = H5Fcreate("hyperclip-checkpoint-image", H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fapl);
    h5_close(fcpl);
    if (f < 0) return fail(c, "%s", "cannot create the in-memory HDF5 file");
    int rc = model_write(f, ck->model, ck->param, c->e) ? -2 : write_file(f, ck);
    /* the file's size (its end of allocated space); closing only rewrites what is inside */
    ssize_t n = rc || H5Fflush(f, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(f, NULL, 0);
    if (H5Fclose(f) < 0 && !rc) rc = -1;
    if (!rc && (n <= 0 || !keeper.image)) rc = -1;
    if (rc) {
        free(keeper.image);
        return rc == -2 ? c->e->code : fail(c, "%s", "cannot build the HDF5 image");
    }
    *image = keeper.image;
    *size = (size_t)n;
    return 0;
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

int ckpt_save(const hc_ckpt *ck, const char *path, hc_err *e)
{
    ctx c = {path, e};
    void *image = NULL;
    size_t size = 0;
    h5_quiet_state q = h5_quiet();
    int rc = build_image(ck, &image, &size, &c);
    h5_restore(q);
    if (rc) return rc;

    /* a symbolic link (a run folder on scratch) stays one: the file it names is replaced */
    char real[PATH_MAX], tmp[PATH_MAX + 32];
    int link = file_link_target(path, real, sizeof real);
    if (link < 0)
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: a symbolic link that cannot be "
                       "followed", path);
    if (link) path = real;
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

static int get_array(hid_t g, const char *group, const char *name, hid_t type, void *v, size_t n,
                     ctx *c)
{
    char what[96];
    snprintf(what, sizeof what, "/%s/%s", group, name);
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
    /* not checked for finite values: a scalar is a counter or a sum for the metrics (an
     * epoch's loss sum may be infinite in a run that diverged and was checkpointed) */
    return rc < 0 ? fail(c, "cannot read attribute '%s'", name) : 0;
}

/* A hyperclip checkpoint of a version this build reads, and of this run. */
static int check_identity(hid_t f, const hc_ckpt *ck, hc_run_record *theirs, ctx *c)
{
    char *s = NULL;
    long v;
    if (H5Aexists(f, "format") <= 0) return fail(c, "%s", "has no attribute 'format' (not a hyperclip checkpoint?)");
    if (h5_get_string(f, "format", &s)) return fail(c, "%s", "attribute 'format' is not a string");
    int other = strcmp(s, HC_CKPT_FORMAT) != 0;
    if (other) fail(c, "is a '%.100s' file, not a hyperclip checkpoint", s);
    free(s);
    if (other) return c->e->code;
    if (get_attr(f, "format_version", H5T_NATIVE_LONG, &v, c)) return c->e->code;
    if (v < 1 || v > HC_CKPT_VERSION)
        return hc_fail(c->e, HC_ERR_RUNTIME, "checkpoint %.400s: format version %ld, this hyperclip "
                       "reads versions 1 to %d (a newer hyperclip wrote it?)", c->path, v,
                       HC_CKPT_VERSION);
    int damaged;
    const char *malformed = runrec_read(f, theirs, &damaged);
    if (malformed && damaged)
        return fail(c, "%s (reading attribute '%s')", H5_DAMAGED, malformed);
    if (malformed) return fail(c, "attribute '%s' has the wrong type", malformed);
    return runrec_check_same_run(theirs, ck->record, c->path, c->e);
}

/* /<path>'s entries into their pointers. */
static int read_group(hid_t f, const hc_entry_group *gr, ctx *c)
{
    if (h5_path_exists(f, gr->path) <= 0) return fail(c, "has no /%s (not a complete checkpoint)", gr->path);
    hid_t g = H5Gopen2(f, gr->path, H5P_DEFAULT);
    if (g < 0) return fail(c, "/%s is not a group", gr->path);
    int rc = 0;
    for (int i = 0; i < gr->n && !rc; i++) {
        const hc_entry *en = &gr->entry[i];
        rc = is_scalar(en->type) ? get_attr(g, en->name, entry_type(en->type), en->ptr, c)
                                 : get_array(g, gr->path, en->name, entry_type(en->type), en->ptr,
                                             en->count, c);
    }
    H5Gclose(g);
    return rc ? c->e->code : 0;
}

/* A file with a state digest (written since the checksums) must hold the arrays it was
 * written with: chunks of an older checkpoint of the same run, each with its checksum
 * right, are refused here. */
static int check_state_digest(hid_t f, const hc_ckpt *ck, ctx *c)
{
    char *stored = NULL, digest[HC_DIGEST_TEXT];
    htri_t has = H5Aexists(f, "state_digest");
    if (has < 0) return fail(c, "%s", "cannot read its attributes");
    if (!has) return 0;
    if (h5_get_string(f, "state_digest", &stored)) return fail(c, "%s", "cannot read attribute 'state_digest'");
    state_digest(ck, digest);
    int rc = strcmp(stored, digest) == 0 ? 0
             : fail(c, "its state does not match its digest (%s, the arrays read give %s): the "
                    "file is damaged (parts of another checkpoint?)", stored, digest);
    free(stored);
    return rc;
}

int ckpt_load(const hc_ckpt *ck, const char *path, hc_run_record *file_record, hc_err *e)
{
    ctx c = {path, e};
    runrec_clear(file_record);
    if (file_check_input(path, "checkpoint", e)) return e->code;
    h5_quiet_state q = h5_quiet();
    hid_t f = h5_open_readonly(path);
    int rc;
    if (f < 0) {
        rc = fail(&c, "%s", "is not a readable HDF5 file (truncated or corrupt?)");
    } else {
        char what[512];
        snprintf(what, sizeof what, "checkpoint %.400s", path);
        rc = check_identity(f, ck, file_record, &c);
        if (!rc) rc = model_read(f, ck->model, ck->param, what, e);
        for (int i = 0; i < ck->n_groups && !rc; i++) rc = read_group(f, &ck->group[i], &c);
        if (!rc) rc = check_state_digest(f, ck, &c);
        H5Fclose(f);
    }
    h5_restore(q);
    return rc;
}
