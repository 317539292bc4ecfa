/* metrics.h - the per-step and per-epoch HDF5 record (interfaces.md), rank 0 only.
 *
 * Columns are named by their dataset path, e.g. "steps/loss",
 * "steps/level1/alpha/value"; each is float64[steps], chunked and extendible.
 * Rows are buffered in memory (allocated once) and appended by metrics_flush(),
 * which opens the file, extends, writes and closes it again: between flushes the
 * file is closed and complete, so any tool can read it while the run goes on. */
#ifndef HC_METRICS_H
#define HC_METRICS_H
#include "error.h"
#include "runrec.h"

typedef struct {
    const char *stack, *dataset, *model, *version, *normalization;
    long seed;
    int nranks, global_batch;
    const hc_run_record *record;    /* when given, written instead of the fields above */
} hc_run_attrs;

#define HC_EPOCH_COLS 5   /* train_loss, test_loss, test_error, seconds, samples_per_second */

typedef struct {
    char *path;
    int n_cols;
    char **cols;            /* owned copies of the step column paths */
    int capacity, used;     /* buffered step rows */
    double *rows;           /* capacity * n_cols */
    long steps_written;     /* rows in the file */
    long epochs_written;
} hc_metrics;

/* Creates (truncates) the file with every dataset empty and the root attributes. */
int metrics_create(hc_metrics *m, const char *path, int n_cols, const char *const *cols,
                   const hc_run_attrs *attrs, int capacity, hc_err *e);
/* Opens an existing file to continue it after `steps` steps and `epochs` epochs:
 * rows beyond those are dropped. Fails if its columns differ from cols. */
int metrics_reopen(hc_metrics *m, const char *path, int n_cols, const char *const *cols,
                   long steps, long epochs, int capacity, hc_err *e);
/* The next step row to fill (n_cols doubles); flushes first when the buffer is full. */
int metrics_row(hc_metrics *m, double **row, hc_err *e);
/* Appends the buffered step rows to the file. */
int metrics_flush(hc_metrics *m, hc_err *e);
/* Appends one epoch row (flushes buffered steps too). */
int metrics_epoch(hc_metrics *m, const double epoch_row[HC_EPOCH_COLS], hc_err *e);
void metrics_free(hc_metrics *m);

#endif
