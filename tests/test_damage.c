/* test_damage.c - a damaged file is refused, never read as something else.
 *
 * A real checkpoint (3 steps of `adam / sgd(alpha=1e-3, clip=on)`) and a real metrics
 * file are damaged one bit at a time, at every byte of the file (bit i % 8 of byte i),
 * and read back as a run does: the checkpoint through trainer_init --resume, the
 * metrics file through metrics_reopen. Each damaged copy must be either refused with one
 * line, or read as exactly what the undamaged file holds: the weights, every level's
 * state and the position bit for bit; every kept row of every column bit for bit. A
 * damaged byte that HDF5 never reads (free space, padding, a string of provenance) may
 * pass; a changed number may not. The figures (how many refused, how many harmless,
 * how many naming the damage as a checksum) are printed. */
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "h5util.h"
#include "info.h"
#include "metrics.h"
#include "runrec.h"
#include "tap.h"
#include "testdata.h"
#include "train.h"

#define STEPS 3

static hc_trainer_options options(void)
{
    hc_trainer_options o;
    trainer_options_defaults(&o);
    o.stack_text = "adam / sgd(alpha=1e-3, clip=on)";
    o.batch = 16;
    o.quiet = 1;
    o.progress = 0;
    o.epochs = 4;
    return o;
}

static void *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int spill(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int rc = fwrite(data, 1, size, f) == size ? 0 : -1;
    return fclose(f) || rc ? -1 : 0;
}

/* The bytes to damage: SAMPLE of them spread over the file by a fixed pseudo-random walk
 * (HC_DAMAGE_SAMPLE=N: N of them), or every one of the files HC_DAMAGE_ALL names
 * ("checkpoint", "metrics", or 1 for both; CI's damage stage runs every byte of the
 * checkpoint, ~5 minutes, and 30000 of the metrics file's). HC_DAMAGE_AT=N damages only
 * byte N; HC_DAMAGE_TRACE=1 names each byte first (to find one that crashes),
 * HC_DAMAGE_KEEP=1 keeps the files. */
#define SAMPLE 3000
typedef struct {
    size_t sample;
    size_t size, done, next;
    int all;
    uint64_t lcg;
} byte_walk;

static byte_walk walk_start(size_t size, const char *file)
{
    const char *all = getenv("HC_DAMAGE_ALL");
    const char *sample = getenv("HC_DAMAGE_SAMPLE");
    byte_walk w = {sample ? strtoul(sample, NULL, 10) : SAMPLE, size, 0, 0,
                   all && (strcmp(all, "1") == 0 || strstr(all, file)), 0x9e3779b97f4a7c15u};
    return w;
}

/* The next byte to damage; 0 when done. */
static int walk_next(byte_walk *w, size_t *at)
{
    const char *only = getenv("HC_DAMAGE_AT");
    if (only) {
        *at = strtoul(only, NULL, 10);
        return w->done++ == 0 && *at < w->size;
    }
    if (w->all) {
        if (w->next >= w->size) return 0;
        *at = w->next++;
    } else {
        if (w->done >= w->sample || w->size == 0) return 0;
        w->lcg = w->lcg * 6364136223846793005u + 1442695040888963407u;
        *at = (size_t)(w->lcg >> 33) % w->size;
    }
    w->done++;
    if (getenv("HC_DAMAGE_TRACE")) fprintf(stderr, "byte %zu\n", *at);
    return 1;
}

/* HDF5 objects open in the process: a reader must close all of its own. */
static ssize_t open_ids(void)
{
    return H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

static size_t entry_bytes(const hc_entry *en)
{
    switch (en->type) {
    case ENTRY_REAL: return en->count * sizeof(hc_real);
    case ENTRY_LONG: return sizeof(long);
    default: return en->count * sizeof(double);
    }
}

/* Whether a and b hold the same state, bit for bit. */
static int same_state(const hc_trainer *a, const hc_trainer *b)
{
    if (a->step != b->step || a->epoch != b->epoch || a->pos != b->pos ||
        a->model.n_params != b->model.n_params || a->n_ckpt_groups != b->n_ckpt_groups ||
        memcmp(a->param, b->param, a->model.n_params * sizeof(hc_real)))
        return 0;
    for (int g = 0; g < a->n_ckpt_groups; g++) {
        const hc_entry_group *ga = &a->ckpt_group[g], *gb = &b->ckpt_group[g];
        if (ga->n != gb->n) return 0;
        for (int i = 0; i < ga->n; i++)
            if (entry_bytes(&ga->entry[i]) != entry_bytes(&gb->entry[i]) ||
                memcmp(ga->entry[i].ptr, gb->entry[i].ptr, entry_bytes(&ga->entry[i])))
                return 0;
    }
    return 1;
}

typedef struct {
    long refused, harmless, checksum, changed, bad_message;
    long first_changed, leaks, tried;
} tally;

/* One damaged copy's outcome: refused (rc != 0, with e's message) or read (same: as
 * the undamaged file); ids_before: the open HDF5 identifiers before the read. */
static void count(tally *t, size_t at, int rc, const hc_err *e, int same, ssize_t ids_before)
{
    t->tried++;
    if (open_ids() != ids_before && !t->leaks++)
        diag("byte %zu: HDF5 identifiers left open: %zd before, %zd after", at, ids_before,
             open_ids());
    if (!rc) {
        if (same) t->harmless++;
        else if (!t->changed++) t->first_changed = (long)at;
        return;
    }
    t->refused++;
    if (getenv("HC_DAMAGE_AT")) diag("byte %zu: %s", at, e->msg);
    if (strstr(e->msg, H5_DAMAGED)) t->checksum++;
    if (!e->msg[0] || strchr(e->msg, '\n')) {
        if (!t->bad_message) diag("byte %zu: refused without one line: '%s'", at, e->msg);
        t->bad_message++;
    }
}

/* `checksummed`: the reader reads the whole file, so checksums must find most damage. */
static void report(const char *what, size_t size, const tally *t, int checksummed)
{
    diag("%s: %ld of its %zu bytes damaged one at a time: %ld refused (%ld as a checksum "
         "mismatch), %ld read as the undamaged file, %ld read as something else", what,
         t->tried, size, t->refused, t->checksum, t->harmless, t->changed);
    ok(t->changed == 0, "%s: no damaged byte is read as a different state%s", what,
       t->changed ? " (see the first one below)" : "");
    if (t->changed) diag("first such byte: %ld", t->first_changed);
    ok(t->bad_message == 0, "%s: every refusal is one line", what);
    ok(t->leaks == 0, "%s: no HDF5 identifier is left open (%ld reads did)", what, t->leaks);
    /* most of the file is data under a checksum: a checksum must be what finds most */
    if (checksummed)
        ok(t->checksum * 2 > t->tried, "%s: the checksums find most of the damage (%ld of %ld)",
           what, t->checksum, t->tried);
}

/* info of a damaged copy: refused, or the very text of the undamaged file's info */
static void check_info(tally *t, size_t at, const char *copy, const char *want)
{
    hc_err e = {0};
    int rc = 0;
    ssize_t ids = open_ids();
    char *got = testdata_info_text(copy, &rc, &e);
    count(t, at, rc, &e, got && !strcmp(got, want), ids);
    free(got);
}

/* The run record's identity, as `eval` and a resume take it from the file. */
static int same_record(const hc_run_record *a, const hc_run_record *b)
{
    const char *const sa[] = {a->run_id, a->data, a->dataset, a->normalization, a->model,
                              a->stack, a->train_set_hash};
    const char *const sb[] = {b->run_id, b->data, b->dataset, b->normalization, b->model,
                              b->stack, b->train_set_hash};
    for (size_t i = 0; i < sizeof sa / sizeof *sa; i++)
        if (!sa[i] != !sb[i] || (sa[i] && strcmp(sa[i], sb[i]))) return 0;
    return a->global_batch == b->global_batch && a->seed == b->seed && a->n_train == b->n_train &&
           a->shuffle == b->shuffle && a->epochs == b->epochs;
}

static void damage_checkpoint(const hc_dataset *ds, const char *ckpt, const char *copy)
{
    hc_err e = {0};
    size_t size = 0;
    unsigned char *image = slurp(ckpt, &size), *bad = malloc(size);
    hc_trainer ref;
    hc_trainer_options o = options();
    o.resume_path = ckpt;
    if (!image || !bad || trainer_init(&ref, &o, ds, MPI_COMM_SELF, &e)) {
        ok(0, "checkpoint: the undamaged file resumes (%s)", e.msg);
        return;
    }
    ok(1, "checkpoint: the undamaged file resumes at step %ld", ref.step);
    hc_run_record want_record, record;
    int irc = 0;
    char *want_info = spill(copy, image, size) ? NULL : testdata_info_text(copy, &irc, &e);
    if (runrec_read_file(ckpt, "checkpoint", &want_record, &e) || !want_info || irc) {
        ok(0, "checkpoint: info and its run record read (%s)", e.msg);
        return;
    }
    tally t = {0}, t_info = {0}, t_record = {0};
    o.resume_path = copy;
    byte_walk w = walk_start(size, "checkpoint");
    for (size_t at; walk_next(&w, &at);) {
        memcpy(bad, image, size);
        bad[at] ^= (unsigned char)(1u << (at % 8));
        if (spill(copy, bad, size)) {
            ok(0, "checkpoint: cannot write %s", copy);
            break;
        }
        hc_trainer tr;
        e = (hc_err){0};
        ssize_t ids = open_ids();
        int rc = trainer_init(&tr, &o, ds, MPI_COMM_SELF, &e), same = 0;
        if (!rc) {
            same = same_state(&ref, &tr);
            trainer_free(&tr);
        }
        count(&t, at, rc, &e, same, ids);
        check_info(&t_info, at, copy, want_info);
        e = (hc_err){0};
        ids = open_ids();
        rc = runrec_read_file(copy, "checkpoint", &record, &e);
        count(&t_record, at, rc, &e, !rc && same_record(&record, &want_record), ids);
        runrec_free(&record);
    }
    report("checkpoint (resume)", size, &t, 1);
    report("checkpoint (info)", size, &t_info, 1);
    report("checkpoint (its run record, as eval reads it)", size, &t_record, 0);
    runrec_free(&want_record);
    free(want_info);
    trainer_free(&ref);
    free(image);
    free(bad);
}

/* Every column of the metrics file m describes, rows [0, rows), into out (NaN-free
 * comparison is bitwise: memcmp). 0 on success. */
static int read_columns(const char *path, const char *const *cols, int n_cols, long rows,
                        double *out)
{
    h5_quiet_state q = h5_quiet();
    hid_t f = h5_open_readonly(path);
    int rc = f < 0 ? -1 : 0;
    for (int c = 0; c < n_cols && !rc; c++) {
        hid_t ds = H5Dopen2(f, cols[c], H5P_DEFAULT), space = ds < 0 ? -1 : H5Dget_space(ds);
        hsize_t n = 0, start = 0, count = (hsize_t)rows;
        hid_t mspace = H5Screate_simple(1, &count, NULL);
        if (space < 0 || H5Sget_simple_extent_dims(space, &n, NULL) != 1 || n < (hsize_t)rows ||
            H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_DOUBLE, mspace, space, H5P_DEFAULT, out + (size_t)c * rows) < 0)
            rc = -1;
        h5_close(mspace);
        h5_close(space);
        h5_close(ds);
    }
    h5_close(f);
    h5_restore(q);
    return rc;
}

static void damage_metrics(const char *metrics, const char *copy, const char *const *cols,
                           int n_cols)
{
    size_t size = 0;
    unsigned char *image = slurp(metrics, &size), *bad = malloc(size);
    double *want = malloc(sizeof(double) * (size_t)n_cols * STEPS);
    double *got = malloc(sizeof(double) * (size_t)n_cols * STEPS);
    if (!image || !bad || !want || !got || read_columns(metrics, cols, n_cols, STEPS, want)) {
        ok(0, "metrics: the undamaged file reads");
        return;
    }
    ok(1, "metrics: the undamaged file reads (%d columns, %d rows)", n_cols, STEPS);
    hc_err e0 = {0};
    int irc = 0;
    char *want_info = spill(copy, image, size) ? NULL : testdata_info_text(copy, &irc, &e0);
    if (!ok(want_info && !irc, "metrics: info reads it (%s)", e0.msg)) return;
    tally t = {0}, t_info = {0};
    byte_walk w = walk_start(size, "metrics");
    for (size_t at; walk_next(&w, &at);) {
        memcpy(bad, image, size);
        bad[at] ^= (unsigned char)(1u << (at % 8));
        if (spill(copy, bad, size)) {
            ok(0, "metrics: cannot write %s", copy);
            break;
        }
        check_info(&t_info, at, copy, want_info);   /* first: the reopen rewrites the file */
        hc_metrics m;
        hc_err e = {0};
        ssize_t ids = open_ids();
        int rc = metrics_reopen(&m, copy, n_cols, cols, STEPS, 1, 4, &e), same = 0;
        if (!rc) {
            metrics_free(&m);
            /* what the run goes on from: the rows it keeps */
            same = read_columns(copy, cols, n_cols, STEPS, got) == 0 &&
                   memcmp(want, got, sizeof(double) * (size_t)n_cols * STEPS) == 0;
        }
        count(&t, at, rc, &e, same, ids);
    }
    report("metrics (reopen)", size, &t, 1);
    report("metrics (info)", size, &t_info, 1);
    free(want_info);
    free(image);
    free(bad);
    free(want);
    free(got);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    char dir[] = "/tmp/hc-damage-XXXXXX", ckpt[64], metrics[64], copy[64];
    hc_dataset ds;
    hc_err e = {0};
    if (!mkdtemp(dir) || testdata_make(&ds, 64, 16, 2, 2, 10, 1)) {
        ok(0, "set-up");
        return tap_done();
    }
    snprintf(ckpt, sizeof ckpt, "%s/ckpt.h5", dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.h5", dir);
    snprintf(copy, sizeof copy, "%s/damaged.h5", dir);

    hc_trainer t;
    hc_trainer_options o = options();
    o.metrics_path = metrics;
    o.checkpoint_path = ckpt;
    int rc = trainer_init(&t, &o, &ds, MPI_COMM_SELF, &e);
    for (int i = 0; i < STEPS && !rc; i++) rc = trainer_step(&t, &e);
    double row[HC_EPOCH_COLS] = {1, 2, 0.5, 3, 4};
    if (!rc) rc = metrics_epoch(&t.metrics, row, &e) || trainer_write_checkpoint(&t, ckpt, &e);
    if (!rc) rc = metrics_flush(&t.metrics, &e);
    if (!ok(!rc, "a checkpoint and a metrics file of %d steps (%s)", STEPS, rc ? e.msg : "ok"))
        return tap_done();

    damage_checkpoint(&ds, ckpt, copy);
    damage_metrics(metrics, copy, (const char *const *)t.cols, t.n_cols);
    trainer_free(&t);

    if (getenv("HC_DAMAGE_KEEP")) {     /* the files, to look at one damaged byte closer */
        diag("files kept in %s", dir);
    } else {
        unlink(ckpt);
        unlink(metrics);
        unlink(copy);
        rmdir(dir);
    }
    dataset_free(&ds);
    int rc_tap = tap_done();
    /* HDF5 1.10 keeps some memory of objects it failed to open in a damaged file and says
     * "infinite loop closing library" when MPI_Finalize shuts it down: hyperclip's main
     * hides that the same way after its one line; stderr is back for the leak checker */
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    MPI_Finalize();
    if (saved >= 0) dup2(saved, 2);
    return rc_tap;
}
