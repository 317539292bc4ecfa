/* run_files.c - resume options from the run record, output checks, locks (run_files.h). */
#include "run_files.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *run_normalize_word(const char *d)
{
    static const char *const words[] = {"train-stats", "authors"};
    if (!d) return NULL;
    if (!strcmp(d, "pixel/255")) return "unit";
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strncmp(d, words[i], strlen(words[i])) && d[strlen(words[i])] == ' ') return words[i];
    return NULL;
}

static int differs(const char *ckpt, const char *what, const char *theirs, const char *mine,
                   hc_err *e)
{
    return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.300s is of a run with another %s: it has "
                   "'%.200s', this command has '%.200s' (a resume keeps the run's --dataset, --model, "
                   "--stack, --normalize, --batch, --seed, --no-shuffle, --checkpoint-every and "
                   "--reproducible)", ckpt, what, theirs, mine);
}

/* The record's relative paths are the starting folder's. Resumed from elsewhere (the
 * resumed path ends with the recorded checkpoint's, "../rr/c.h5" for "c.h5"), that folder
 * is the prefix "../rr/": the recorded data and metrics paths are rewritten under it, so
 * that they follow the run's folder (resumed from another folder, moved or copied). */
static int follow_run_folder(hc_run_record *rec, const char *resumed)
{
    const char *recorded = rec->checkpoint;
    if (!recorded || !recorded[0] || recorded[0] == '/') return 0;
    size_t lr = strlen(resumed), lc = strlen(recorded);
    if (lr <= lc || strcmp(resumed + lr - lc, recorded) || resumed[lr - lc - 1] != '/') return 0;
    char **path[] = {&rec->data, &rec->metrics};
    for (size_t i = 0; i < sizeof path / sizeof *path; i++) {
        char *p = *path[i];
        if (!p || !p[0] || p[0] == '/') continue;
        size_t n = lr - lc + strlen(p) + 1;
        char *joined = malloc(n);
        if (!joined) return -1;
        snprintf(joined, n, "%.*s%s", (int)(lr - lc), resumed, p);
        free(p);
        *path[i] = joined;
    }
    return 0;
}

int run_resume_options(hc_trainer_options *o, hc_run_record *rec, const char *ckpt,
                       int (*given)(const void *ctx, const char *name), const void *ctx,
                       hc_err *e)
{
    char a[32], b[32];
    if (follow_run_folder(rec, ckpt)) return hc_fail(e, HC_ERR_RUNTIME, "out of memory");
    /* strings: taken when not given; compared when given (the stack is compared in its
     * canonical form by ckpt_load, the data by its contents' hash) */
    const struct { const char *option, *what, *theirs; const char **mine; int compare; } str[] = {
        {"data", "data folder (--data)", rec->data, &o->data_path, 0},
        {"dataset", "dataset (--dataset)", rec->dataset, &o->dataset_name, 1},
        {"model", "model (--model)", rec->model, &o->model_name, 1},
        {"stack", "stack (--stack)", rec->stack, &o->stack_text, 0},
    };
    for (size_t i = 0; i < sizeof str / sizeof *str; i++) {
        if (!str[i].theirs || !str[i].theirs[0]) continue;
        if (!given(ctx, str[i].option)) *str[i].mine = str[i].theirs;
        else if (str[i].compare && strcmp(*str[i].mine, str[i].theirs))
            return differs(ckpt, str[i].what, str[i].theirs, *str[i].mine, e);
    }
    if (!given(ctx, "normalize") && run_normalize_word(rec->normalization))
        o->normalize = run_normalize_word(rec->normalization);
    long shuffle = o->shuffle, epochs = o->epochs, batch = o->batch, repro = o->reproducible;
    const struct { const char *option, *what; long theirs; long *mine; int compare; } num[] = {
        {"batch", "global batch (--batch)", rec->global_batch, &batch, 1},
        {"seed", "seed (--seed)", rec->seed, &o->seed, 1},
        {"no-shuffle", "data order (--no-shuffle)", rec->shuffle, &shuffle, 1},
        {"checkpoint-every", "checkpoint interval (--checkpoint-every)", rec->checkpoint_every,
         &o->checkpoint_every, 1},
        {"epochs", "number of epochs", rec->epochs, &epochs, 0},
        {"reproducible", "virtual shards (--reproducible)", rec->reproducible, &repro, 1},
    };
    for (size_t i = 0; i < sizeof num / sizeof *num; i++) {
        if (num[i].theirs < 0) continue;
        if (!given(ctx, num[i].option)) {
            *num[i].mine = num[i].theirs;
        } else if (num[i].compare && *num[i].mine != num[i].theirs) {
            snprintf(a, sizeof a, "%ld", num[i].theirs);
            snprintf(b, sizeof b, "%ld", *num[i].mine);
            return differs(ckpt, num[i].what, a, b, e);
        }
    }
    o->shuffle = shuffle != 0;
    o->epochs = (int)epochs;
    o->batch = (int)batch;
    o->reproducible = (int)repro;
    /* the files: the checkpoint goes on in the file resumed from, the metrics in the
     * run's own file. Either may be named anew (a run folder moved or copied): a metrics
     * file is then checked to be this run's by its run_id, an existing checkpoint other
     * than the resumed one is never replaced without --overwrite. */
    if (!given(ctx, "checkpoint")) o->checkpoint_path = ckpt;
    if (!given(ctx, "metrics") && rec->metrics && rec->metrics[0])
        o->metrics_path = rec->metrics;
    /* a metrics file for a run that kept none (or, before the run record, one that does
     * not exist yet) starts a new record: nothing of the run's is lost */
    if (o->metrics_path && (rec->run_id ? !(rec->metrics && rec->metrics[0])
                                        : access(o->metrics_path, F_OK) != 0))
        o->new_metrics = 1;
    return 0;
}

/* ---- inputs, outputs, locks ---- */

typedef struct {
    const char *option, *path;
} named_file;

/* What the existing file at path is: -1 not a checkpoint (no run record to continue),
 * 1 a checkpoint of the run run_id, 0 one of another run (or run_id NULL). */
static int checkpoint_of(const char *path, const char *run_id)
{
    hc_run_record r;
    hc_err ignored = {0};
    int rc = runrec_read_file(path, "checkpoint", &r, &ignored) ? -1
             : run_id && r.run_id && !strcmp(r.run_id, run_id);
    runrec_free(&r);
    return rc;
}

int run_files_open(hc_run_locks *l, const hc_trainer_options *o, const char *run_id, int resuming,
                   hc_err *e)
{
    int ck_exists = 0, m_exists = 0;
    memset(l, 0, sizeof *l);
    l->checkpoint.fd = l->metrics.fd = -1;
    if (o->init_path && file_check_input(o->init_path, "init file", e)) return e->code;
    if (resuming && file_check_input(o->resume_path, "checkpoint", e)) return e->code;
    /* every pair of options that must not share a file (--resume and --checkpoint may) */
    const named_file f[] = {{"init", o->init_path}, {"resume", resuming ? o->resume_path : NULL},
                            {"checkpoint", o->checkpoint_path}, {"metrics", o->metrics_path}};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (f[i].path && f[j].path && !(i == 1 && j == 2) && file_same(f[i].path, f[j].path))
                return hc_fail(e, HC_ERR_USAGE, "--%s and --%s name the same file (%.400s)",
                               f[i].option, f[j].option, f[j].path);
    /* nor name the lock file beside a checkpoint or metrics file (FILE.lock), which a run
     * fills and removes */
    for (int i = 2; i < 4; i++) {
        char lock[PATH_MAX + 8];
        if (!f[i].path || snprintf(lock, sizeof lock, "%s.lock", f[i].path) >= (int)sizeof lock)
            continue;
        for (int j = 0; j < 4; j++)
            if (f[j].path && file_same(f[j].path, lock))
                return hc_fail(e, HC_ERR_USAGE, "--%s %.400s is the lock file of --%s %.400s: "
                               "name another file", f[j].option, f[j].path, f[i].option,
                               f[i].path);
    }
    if (o->checkpoint_path && file_check_output(o->checkpoint_path, "checkpoint", &ck_exists, e))
        return e->code;
    if (o->metrics_path && file_check_output(o->metrics_path, "metrics", &m_exists, e))
        return e->code;
    /* locked before the existence checks: a file a live run is writing is reported so */
    if ((o->checkpoint_path && file_lock(&l->checkpoint, o->checkpoint_path, "checkpoint", e)) ||
        (o->metrics_path && file_lock(&l->metrics, o->metrics_path, "metrics", e))) {
        run_files_close(l);
        return e->code;
    }
    /* the file resumed, or another checkpoint of the same run (a copy was resumed) */
    int resumes_ck = resuming && o->checkpoint_path &&
                     (file_same(o->checkpoint_path, o->resume_path) ||
                      (ck_exists && checkpoint_of(o->checkpoint_path, run_id) == 1));
    if (ck_exists && !resumes_ck && !o->overwrite && checkpoint_of(o->checkpoint_path, NULL) < 0)
        hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s already exists and is not a hyperclip "
                "checkpoint: name another file, or give --overwrite to replace it",
                o->checkpoint_path);
    else if (ck_exists && !resumes_ck && !o->overwrite)
        hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.400s already exists: continue it with --resume "
                "%.400s, or give --overwrite to replace it", o->checkpoint_path, o->checkpoint_path);
    else if (m_exists && !o->overwrite && (!resuming || o->new_metrics))
        hc_fail(e, HC_ERR_RUNTIME, "metrics %.400s already exists: %s", o->metrics_path,
                resuming ? "--new-metrics starts a new file: name one that does not exist, or give "
                           "--overwrite to replace it"
                         : "continue its run with --resume CHECKPOINT, or give --overwrite to "
                           "replace it");
    if (e->code) run_files_close(l);
    return e->code;
}

void run_files_close(hc_run_locks *l)
{
    file_unlock(&l->checkpoint);
    file_unlock(&l->metrics);
}
