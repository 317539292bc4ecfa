/* runrec.c - the run record written into checkpoints and metrics files (runrec.h). */
#include "runrec.h"
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "comm.h"
#include "files.h"
#if __has_include("git_commit.h")
#include "git_commit.h"      /* made by the build (Makefile.am) */
#endif
#ifndef HC_GIT_COMMIT
#define HC_GIT_COMMIT ""
#endif
#include "h5util.h"

typedef enum { RR_STR, RR_LONG } rr_kind;

/* One row per attribute: its name in the files, where it lives in the record. */
static const struct {
    const char *name;
    rr_kind kind;
    size_t off;
} fields[] = {
    {"run_id", RR_STR, offsetof(hc_run_record, run_id)},
    {"command", RR_STR, offsetof(hc_run_record, command)},
    {"version", RR_STR, offsetof(hc_run_record, version)},
    {"git_commit", RR_STR, offsetof(hc_run_record, git_commit)},
    {"hosts", RR_STR, offsetof(hc_run_record, hosts)},
    {"nranks", RR_LONG, offsetof(hc_run_record, nranks)},
    {"threads", RR_LONG, offsetof(hc_run_record, threads)},
    {"started", RR_STR, offsetof(hc_run_record, started)},
    {"data", RR_STR, offsetof(hc_run_record, data)},
    {"dataset", RR_STR, offsetof(hc_run_record, dataset)},
    {"train_set_hash", RR_STR, offsetof(hc_run_record, train_set_hash)},
    {"n_train", RR_LONG, offsetof(hc_run_record, n_train)},
    {"normalization", RR_STR, offsetof(hc_run_record, normalization)},
    {"model", RR_STR, offsetof(hc_run_record, model)},
    {"stack", RR_STR, offsetof(hc_run_record, stack)},
    {"global_batch", RR_LONG, offsetof(hc_run_record, global_batch)},
    {"seed", RR_LONG, offsetof(hc_run_record, seed)},
    {"shuffle", RR_LONG, offsetof(hc_run_record, shuffle)},
    {"epochs", RR_LONG, offsetof(hc_run_record, epochs)},
    {"checkpoint", RR_STR, offsetof(hc_run_record, checkpoint)},
    {"checkpoint_every", RR_LONG, offsetof(hc_run_record, checkpoint_every)},
    {"reproducible", RR_LONG, offsetof(hc_run_record, reproducible)},
    {"metrics", RR_STR, offsetof(hc_run_record, metrics)},
    {"first_step", RR_LONG, offsetof(hc_run_record, first_step)},
};
#define N_FIELDS (sizeof fields / sizeof *fields)

static char **str_at(hc_run_record *r, size_t i) { return (char **)((char *)r + fields[i].off); }
static long *long_at(hc_run_record *r, size_t i) { return (long *)((char *)r + fields[i].off); }

void runrec_clear(hc_run_record *r)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (fields[i].kind == RR_STR) *str_at(r, i) = NULL;
        else *long_at(r, i) = -1;
    }
}

void runrec_free(hc_run_record *r)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (fields[i].kind == RR_STR) free(*str_at(r, i));
    runrec_clear(r);
}

static int set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? strdup(s) : NULL;
    return s && !*dst ? -1 : 0;
}

int runrec_copy(hc_run_record *dst, const hc_run_record *src)
{
    hc_run_record *from = (hc_run_record *)src;     /* read through the accessors only */
    runrec_clear(dst);
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (fields[i].kind == RR_LONG) *long_at(dst, i) = *long_at(from, i);
        else if (set_str(str_at(dst, i), *str_at(from, i))) return -1;
    }
    return 0;
}

/* The command line as a shell would read it back: words with anything but safe
 * characters in single quotes. */
static char *join_command(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++) n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = *a != '\0' && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_=./,:+@%") == strlen(a);
        if (i) *p++ = ' ';
        if (plain) {
            p += sprintf(p, "%s", a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++) {
            if (*a == '\'') p += sprintf(p, "'\\''");
            else *p++ = *a;
        }
        *p++ = '\'';
    }
    *p = '\0';
    return s;
}

/* "node1 (2 ranks), node2 (1 rank)", in rank order of first appearance. */
static char *gather_hosts(MPI_Comm comm, int *size_out)
{
    enum { HOST = 64 };
    int size, rank;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    *size_out = size;
    char me[HOST] = "";
    gethostname(me, HOST - 1);
    char *all = calloc((size_t)size, HOST);
    int *count = calloc((size_t)size, sizeof *count);
    char *out = malloc((size_t)size * (HOST + 16) + 1);
    /* every rank takes part, allocation or not */
    MPI_Allgather(me, HOST, MPI_CHAR, all ? all : me, all ? HOST : 0, MPI_CHAR, comm);
    if (!all || !count || !out) {
        free(all);
        free(count);
        free(out);
        return NULL;
    }
    for (int i = 0; i < size; i++) {
        int j = 0;
        while (strncmp(all + (size_t)j * HOST, all + (size_t)i * HOST, HOST)) j++;
        count[j]++;
    }
    char *p = out;
    *p = '\0';
    for (int i = 0; i < size; i++)
        if (count[i])
            p += sprintf(p, "%s%.63s (%d rank%s)", p == out ? "" : ", ", all + (size_t)i * HOST,
                         count[i], count[i] > 1 ? "s" : "");
    free(all);
    free(count);
    return out;
}

static void new_run_id(char out[40])
{
    unsigned char b[12] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        memcpy(b, &x, sizeof x);
    }
    if (fd >= 0) close(fd);
    for (size_t i = 0; i < sizeof b; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

int runrec_init(hc_run_record *r, int argc, char **argv, const char *run_id, int threads,
                MPI_Comm comm, hc_err *e)
{
    char id[40] = "", started[32];
    int size;
    runrec_clear(r);
    if (run_id) snprintf(id, sizeof id, "%.39s", run_id);
    else new_run_id(id);
    MPI_Bcast(id, sizeof id, MPI_CHAR, 0, comm);        /* rank 0's */
    time_t now = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    r->hosts = gather_hosts(comm, &size);
    r->command = join_command(argc, argv);
    r->nranks = size;
    r->threads = threads;
    if (!r->hosts || !r->command || set_str(&r->run_id, id) || set_str(&r->started, started) ||
        set_str(&r->version, HC_VERSION) || set_str(&r->git_commit, HC_GIT_COMMIT[0] ? HC_GIT_COMMIT : NULL)) {
        runrec_free(r);
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the run record");
    }
    return 0;
}

void runrec_train_hash(const hc_dataset *ds, char out[32])
{
    uint64_t h = checksum64(ds->train.pixels, (size_t)ds->train.n * (size_t)ds->sample_size);
    h ^= checksum64(ds->train.labels, (size_t)ds->train.n) * 0x9e3779b97f4a7c15ULL;
    snprintf(out, 32, "fnv1a64:%016llx", (unsigned long long)h);
}

int runrec_set_config(hc_run_record *r, const char *data, const hc_dataset *ds,
                      const char *model, const char *stack, long batch, long seed, int shuffle,
                      int epochs, long checkpoint_every, const char *checkpoint,
                      const char *metrics, hc_err *e)
{
    char hash[32];
    runrec_train_hash(ds, hash);
    r->global_batch = batch;
    r->seed = seed;
    r->shuffle = shuffle;
    r->epochs = epochs;
    r->checkpoint_every = checkpoint_every;
    r->n_train = ds->train.n;
    if (set_str(&r->data, data) || set_str(&r->dataset, ds->name) ||
        set_str(&r->normalization, ds->normalization) || set_str(&r->model, model) ||
        set_str(&r->stack, stack) || set_str(&r->train_set_hash, hash) ||
        set_str(&r->checkpoint, checkpoint ? checkpoint : "") ||
        set_str(&r->metrics, metrics ? metrics : ""))
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the run record");
    return 0;
}

int runrec_write(hid_t loc, const hc_run_record *r)
{
    hc_run_record *w = (hc_run_record *)r;      /* read through the accessors only */
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (fields[i].kind == RR_STR) {
            const char *s = *str_at(w, i);
            if (s && h5_put_string(loc, fields[i].name, s)) return -1;
        } else {
            long v = *long_at(w, i);
            if (v < 0) continue;
            if (h5_put_long(loc, fields[i].name, v)) return -1;
        }
    }
    return 0;
}

const char *runrec_read(hid_t loc, hc_run_record *r, int *damaged)
{
    const char *malformed = NULL;
    runrec_clear(r);
    *damaged = 0;
    for (size_t i = 0; i < N_FIELDS && !*damaged; i++) {
        htri_t exists = H5Aexists(loc, fields[i].name);
        int bad = exists < 0;       /* not "absent": the attributes could not be looked at */
        if (exists > 0 && fields[i].kind == RR_STR) {
            bad = h5_get_string(loc, fields[i].name, str_at(r, i)) != 0;
            if (bad) *damaged = h5_checksum_failed();
        } else if (exists > 0) {
            hid_t a = H5Aopen(loc, fields[i].name, H5P_DEFAULT), t = a < 0 ? -1 : H5Aget_type(a);
            long v;
            bad = !(t >= 0 && H5Tget_class(t) == H5T_INTEGER && h5_attr_is_single(a) &&
                    H5Aread(a, H5T_NATIVE_LONG, &v) >= 0);
            if (!bad) *long_at(r, i) = v;
            /* the damage, if any, before the closes clear HDF5's error stack */
            if (bad) *damaged = h5_checksum_failed();
            h5_close(t);
            h5_close(a);
        }
        if (bad && exists < 0) *damaged = h5_checksum_failed();
        if (bad && !malformed) malformed = fields[i].name;
    }
    return malformed;
}

int runrec_read_file(const char *path, const char *what, hc_run_record *r, hc_err *e)
{
    runrec_clear(r);
    if (file_check_input(path, what, e)) return e->code;
    h5_quiet_state q = h5_quiet();
    hid_t f = -1;
    int rc = 0;
    int damaged = 0;
    const char *malformed = NULL;
    if ((f = h5_open_readonly(path)) < 0)
        rc = hc_fail(e, HC_ERR_RUNTIME, "%s %.400s: is not a readable HDF5 file (truncated or "
                     "corrupt?)", what, path);
    else if ((malformed = runrec_read(f, r, &damaged)) && damaged)
        rc = hc_fail(e, HC_ERR_RUNTIME, "%s %.400s: %s (reading attribute '%s')", what, path,
                     H5_DAMAGED, malformed);
    else if (malformed)
        rc = hc_fail(e, HC_ERR_RUNTIME, "%s %.400s: attribute '%s' has the wrong type", what,
                     path, malformed);
    h5_close(f);
    h5_restore(q);
    return rc;
}

static int missing(const char *path, const char *name, hc_err *e)
{
    return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s: has no attribute '%s' (not a hyperclip "
                   "checkpoint?)", path, name);
}

int runrec_check_same_run(const hc_run_record *theirs, const hc_run_record *mine,
                          const char *path, hc_err *e)
{
    const struct { const char *name, *theirs, *mine, *flag; } str[] = {
        {"model", theirs->model, mine->model, "--model"},
        {"dataset", theirs->dataset, mine->dataset, "--dataset"},
        {"stack", theirs->stack, mine->stack, "--stack"},
        {"normalization", theirs->normalization, mine->normalization, "--normalize"}};
    for (size_t i = 0; i < sizeof str / sizeof *str; i++) {
        if (!str[i].theirs) return missing(path, str[i].name, e);
        if (strcmp(str[i].theirs, str[i].mine))
            return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.300s is of another %s: it has %s "
                           "'%.200s', this run has '%.200s' (%s)", path, str[i].name,
                           str[i].name, str[i].theirs, str[i].mine, str[i].flag);
    }
    const struct { const char *name; long theirs, mine; const char *what; } num[] = {
        {"global_batch", theirs->global_batch, mine->global_batch, "global batch (--batch)"},
        {"n_train", theirs->n_train, mine->n_train, "number of training samples (--data)"}};
    for (size_t i = 0; i < sizeof num / sizeof *num; i++) {
        if (num[i].theirs < 0) return missing(path, num[i].name, e);
        if (num[i].theirs != num[i].mine)
            return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s has another %s: %ld, this run "
                           "has %ld", path, num[i].what, num[i].theirs, num[i].mine);
    }
    /* the same sample count is not the same data: version 2 records the contents' hash */
    if (theirs->train_set_hash && strcmp(theirs->train_set_hash, mine->train_set_hash))
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.300s was trained on another training "
                       "set: its hash is %.40s, the one in --data %.300s is %s", path,
                       theirs->train_set_hash, mine->data ? mine->data : "", mine->train_set_hash);
    return 0;
}

/* ---- descriptions and units, by the last components of a dataset's path ---- */

static const struct {
    const char *suffix, *desc, *unit;
} describe_table[] = {
    {"steps/loss", "mean cross-entropy loss of the step's global minibatch", "nat"},
    {"/value", "effective value of this hyperparameter after the step", "1"},
    {"/grad", "hypergradient d(loss)/d(raw form of this hyperparameter) at the step, before clipping", "nat"},
    {"/clipped", "grad times the factor the clip of the level above applied (grad when it is off)", "nat"},
    {"/threshold", "the threshold of the clip of the level above at the step (tracked when off too)", "nat"},
    {"epochs/train_loss", "mean training loss over the epoch's steps", "nat"},
    {"epochs/test_loss", "mean loss over the test set after the epoch", "nat"},
    {"epochs/test_error", "fraction of the test set misclassified after the epoch", "1"},
    {"epochs/seconds", "wall-clock time of the epoch", "s"},
    {"epochs/samples_per_second", "training samples processed per second in the epoch", "1/s"},
    {"/weight", "weights of the layer", "1"},
    {"/bias", "biases of the layer", "1"},
    {"/raw", "raw (unconstrained) hyperparameters of the level, in the optimizer's order", "1"},
    {"/clip_avg", "running average of the hypergradient magnitude used by averaged clipping", "nat"},
    {"/state0", "per-weight optimizer state 0 (SGD b, Adam m, AdaGrad G, RMSProp s)", "1"},
    {"/state1", "per-weight optimizer state 1 (Adam v)", "1"},
    {"/D0", "derivative of the weights w.r.t. the level's hyperparameter 0", "1"},
    {"/D1", "derivative of the weights w.r.t. the level's hyperparameter 1", "1"},
    {"/D2", "derivative of the weights w.r.t. the level's hyperparameter 2", "1"},
    {"/buf", "momentum buffer of this level's SGD over the level below's raw values", "1"},
};

void runrec_describe_path(const char *path, char *desc, size_t n, const char **unit)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < sizeof describe_table / sizeof *describe_table; i++) {
        size_t s = strlen(describe_table[i].suffix);
        if (len >= s && !strcmp(path + len - s, describe_table[i].suffix)) {
            snprintf(desc, n, "%s", describe_table[i].desc);
            *unit = describe_table[i].unit;
            return;
        }
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strncmp(base, "D_", 2))
        snprintf(desc, n, "derivative of the level below's raw values w.r.t. this level's %s",
                 base + 2);
    else
        snprintf(desc, n, "optimizer state '%s' of this level (docs/arithmetic.md)", base);
    *unit = "1";
}
