/* run_files.h - a training run's files before anything is read or written: the
 * options a resume takes from its checkpoint's run record, the checks that no output is
 * destroyed by accident, and the locks that keep one run per file. */
#ifndef HC_RUN_FILES_H
#define HC_RUN_FILES_H
#include "error.h"
#include "files.h"
#include "runrec.h"
#include "train.h"

/* A resume: options not given (given(ctx, "NAME") == 0) are taken from the checkpoint's
 * record `rec`; the options that define the run (--dataset, --model, --batch, --seed,
 * --no-shuffle, --checkpoint-every, --reproducible here; --stack and --normalize when the
 * checkpoint is read) must agree with it when given; --data may move (its contents' hash
 * is checked once loaded), --checkpoint and --metrics may be named anew (a metrics file
 * must carry the run's run_id); the rest (--epochs, --max-steps, --threads, --watchdog,
 * ...) may change. The strings of o then point into rec. `ckpt` is the resumed file;
 * resumed from another folder than the run's (its path ends with the recorded one), the
 * record's relative data and metrics paths are rewritten to follow it. */
int run_resume_options(hc_trainer_options *o, hc_run_record *rec, const char *ckpt,
                       int (*given)(const void *ctx, const char *name), const void *ctx,
                       hc_err *e);

/* The --normalize word that makes a normalization description (runrec's
 * "normalization"), NULL when none does. */
const char *run_normalize_word(const char *description);

/* Checks every input and output of the run, then locks the outputs (call on one rank).
 * An existing checkpoint or metrics file is refused unless the run resumes it (for a
 * checkpoint: it is the file resumed or one of the same run, run_id) or --overwrite is
 * given; two options naming one file are refused. */
typedef struct {
    hc_file_lock checkpoint, metrics;
} hc_run_locks;

int run_files_open(hc_run_locks *l, const hc_trainer_options *o, const char *run_id, int resuming,
                   hc_err *e);
void run_files_close(hc_run_locks *l);

#endif
