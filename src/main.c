/* main.c - the hyperclip command: dispatch, MPI set-up, and the one place that prints
 * an error and turns it into the exit code. */
#include <blis.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include "cli.h"
#include "data.h"
#include "data_shared.h"
#include "info.h"
#include "run_files.h"
#include "runrec.h"
#include "score.h"
#include "train.h"

/* Rank 0 prints the (agreed) error; every rank returns its code. A stalled rank cannot
 * be agreed with: the rank that named it prints, and every running rank aborts the job
 * (MPI_Finalize would wait for the stalled one forever). */
static int report(int rank, const hc_err *e)
{
    if (e->code == HC_ERR_STALLED) {
        if (e->msg[0]) {
            fprintf(stderr, "hyperclip: error: %s\n", e->msg);
            fflush(stderr);
        } else {
            sleep(4);           /* lets the naming rank print first */
        }
        MPI_Abort(MPI_COMM_WORLD, HC_ERR_STALLED);
    }
    if (e->code && rank == 0) fprintf(stderr, "hyperclip: error: %s\n", e->msg);
    return e->code;
}

/* Does the resume of o apply (--resume-if-exists with no file starts fresh)? */
static int resuming(const hc_trainer_options *o)
{
    return o->resume_path && !(o->resume_if_exists && access(o->resume_path, F_OK) != 0);
}

static int cmd_train(int argc, char **argv, int rank, hc_err *e)
{
    hc_trainer_options opt;
    hc_given given;
    hc_dataset ds = {0};
    hc_data_share share = {MPI_COMM_NULL, MPI_WIN_NULL, 1};
    hc_trainer t;
    hc_run_record prev, rec;        /* the checkpoint's record; this run's */
    hc_run_locks locks = {{NULL, -1}, {NULL, -1}};
    int help, code;
    runrec_clear(&prev);
    runrec_clear(&rec);
    /* a bad option on one rank only (an MPMD launch) is every rank's: agreed on */
    if (!cli_parse_train(argc - 2, argv + 2, &opt, &given, &help, e) && help) {
        if (rank == 0) cli_train_help(stdout);
        return 0;
    }
    if (!e->code) trainer_options_check(&opt, e);   /* before any file is touched */
    int resume = !e->code && resuming(&opt);
    if (resume && !runrec_read_file(opt.resume_path, "checkpoint", &prev, e))
        run_resume_options(&opt, &prev, opt.resume_path, cli_given, &given, e);
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    comm_startup_watch(MPI_COMM_WORLD, opt.watchdog);   /* until the trainer stands */
    if (rank == 0) run_files_open(&locks, &opt, prev.run_id, resume, e);
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    bli_thread_set_num_threads(opt.threads);
    dataset_load_shared(&ds, &share, MPI_COMM_WORLD, opt.data_path, opt.dataset_name,
                        opt.private_data, e);
    if (!e->code && opt.normalize) dataset_set_normalization(&ds, opt.normalize, e);
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    runrec_init(&rec, argc, argv, prev.run_id, opt.threads, MPI_COMM_WORLD, e);
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;     /* out of memory on one rank */
    opt.record = &rec;
    if (trainer_init(&t, &opt, &ds, MPI_COMM_WORLD, e)) goto out;
    comm_startup_watch(MPI_COMM_WORLD, 0);
    if (rank == 0) {
        char copies[64] = "one copy per rank";
        if (share.ranks > 1)
            snprintf(copies, sizeof copies, "one copy per node, shared by %d ranks", share.ranks);
        trainer_print_start(&t, stdout, opt.threads, copies);
    }
    code = trainer_run(&t, e);
    if (e->code == HC_ERR_STALLED) return e->code;  /* no collective frees: the job aborts */
    trainer_free(&t);
    if (!code || e->code) code = e->code;   /* else a documented outcome (diverged), not an error */
    goto done;
out:
    comm_startup_watch(MPI_COMM_WORLD, 0);
    code = e->code;
done:
    dataset_free_shared(&ds, &share);
    run_files_close(&locks);
    runrec_free(&rec);
    runrec_free(&prev);
    return code;
}

/* eval scores a checkpoint as its run did: the run record's data folder (unless --data
 * is given), dataset and normalization; data of another dataset or training set is
 * refused. */
static int check_eval_data(const hc_eval_opts *o, const hc_run_record *rec, hc_dataset *ds,
                           hc_err *e)
{
    char hash[32];
    const char *word = run_normalize_word(rec->normalization);
    if (rec->dataset && strcmp(rec->dataset, ds->name))
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.300s is of data set %s; --data %.300s "
                       "holds %s", o->checkpoint_path, rec->dataset, o->data_path, ds->name);
    if (word && dataset_set_normalization(ds, word, e)) return e->code;
    if (rec->normalization && strcmp(rec->normalization, ds->normalization))
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.300s was trained with normalization "
                       "'%.100s'; on --data %.300s it would be '%.100s'", o->checkpoint_path,
                       rec->normalization, o->data_path, ds->normalization);
    runrec_train_hash(ds, hash);
    if (rec->train_set_hash && strcmp(rec->train_set_hash, hash))
        return hc_fail(e, HC_ERR_RUNTIME, "checkpoint %.300s was trained on another training set "
                       "than the one in --data %.300s (hash %.40s, this one %s)",
                       o->checkpoint_path, o->data_path, rec->train_set_hash, hash);
    return 0;
}

static int cmd_eval(int argc, char **argv, int rank, hc_err *e)
{
    hc_eval_opts opt;
    hc_given given;
    hc_dataset ds = {0};
    hc_data_share share = {MPI_COMM_NULL, MPI_WIN_NULL, 1};
    hc_run_record rec;
    int help;
    runrec_clear(&rec);
    /* a bad option on one rank only (an MPMD launch) is every rank's: agreed on */
    if (!cli_parse_eval(argc, argv, &opt, &given, &help, e) && help) {
        if (rank == 0) cli_eval_help(stdout);
        return 0;
    }
    if (!e->code) runrec_read_file(opt.checkpoint_path, "checkpoint", &rec, e);
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    if (!cli_given(&given, "data") && rec.data) {
        opt.data_path = rec.data;
        if (!cli_given(&given, "dataset")) opt.dataset_name = rec.dataset;
    }
    bli_thread_set_num_threads(opt.threads);
    dataset_load_shared(&ds, &share, MPI_COMM_WORLD, opt.data_path, opt.dataset_name,
                        opt.private_data, e);
    if (!e->code) check_eval_data(&opt, &rec, &ds, e);
    if (comm_agree_on(MPI_COMM_WORLD, e)) goto out;
    hc_scorer sc;                   /* the model and its weights: nothing of training */
    double loss, err;
    if (!scorer_init(&sc, opt.checkpoint_path, &ds, MPI_COMM_WORLD, e) &&
        !scorer_run(&sc, &ds, &ds.test, MPI_COMM_WORLD, &loss, &err, e) && rank == 0)
        printf("%s on %s test set (%d samples): test_loss %.4f  test_error %.2f%%\n",
               opt.checkpoint_path, ds.name, ds.test.n, loss, 100 * err);
    scorer_free(&sc);
out:
    dataset_free_shared(&ds, &share);
    runrec_free(&rec);
    return e->code;
}

/* Under a launcher every rank runs the same words: only the first one answers --help. */
static int first_rank_by_env(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return strcmp(v, "0") == 0;
    }
    return 1;
}

/* `hyperclip CMD ... -h|--help ...`: the command's usage and nothing else (no MPI, no
 * files), whatever the other words are. Returns 1 when it answered. */
static int answer_help(const char *cmd, int argc, char **argv)
{
    void (*help)(FILE *) = !strcmp(cmd, "train") ? cli_train_help
                         : !strcmp(cmd, "eval")  ? cli_eval_help
                         : !strcmp(cmd, "info")  ? cli_info_help : NULL;
    if (!help || !cli_wants_help(argc, argv)) return 0;
    if (first_rank_by_env()) help(stdout);
    return 1;
}

int main(int argc, char **argv)
{
    hc_err e = {0};
    /* HDF5 closes what is left open at exit, and on a corrupt file it cannot: it then
     * prints "infinite loop closing library" after our one line. Every file is closed
     * by the code that opened it, so that closing has nothing to do. */
    H5dont_atexit();
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        cli_usage(stdout);
        return 0;
    }
    if (answer_help(cmd, argc - 2, argv + 2)) return 0;
    if (!strcmp(cmd, "--version")) {
        printf("hyperclip %s\n", HC_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "info")) {
        if (argc != 3) hc_fail(&e, HC_ERR_USAGE, "usage: hyperclip info FILE.h5");
        else info_run(argv[2], stdout, &e);
        return report(0, &e);
    }
    if (strcmp(cmd, "train") && strcmp(cmd, "eval")) {
        if (!*cmd) {
            cli_usage(stderr);
            return HC_ERR_USAGE;
        }
        /* through hc_fail: the word is quoted without its control characters */
        hc_fail(&e, HC_ERR_USAGE, "unknown command '%.100s' (see hyperclip --help)", cmd);
        return report(0, &e);
    }
    int rank, code;
    if (!strcmp(cmd, "train")) trainer_catch_stop_signals();   /* preemption at start-up */
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    code = !strcmp(cmd, "train") ? cmd_train(argc, argv, rank, &e)
                                 : cmd_eval(argc - 2, argv + 2, rank, &e);
    report(rank, &e);
    if (e.code) {   /* the one line is out: what a failing HDF5 or MPI says as they close is not */
        fflush(stderr);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
    }
    MPI_Finalize();
    return code;
}
