/* cli.c - option tables for `hyperclip train` and `hyperclip eval`. */
#include "cli.h"
#include "data.h"
#include "model.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ARG_STRING, ARG_INT, ARG_LONG, ARG_FLAG_OFF, ARG_FLAG_ON, ARG_CHOICE_PROGRESS,
               ARG_CHOICE_SWITCH, ARG_HELP } arg_kind;

typedef struct {
    const char *name;       /* without the leading "--" */
    arg_kind kind;
    void *target;
    long min, max;          /* for numbers */
} option;

/* The words of the three-way choices, for -1, 0 and 1. */
static const char *const progress_words[3] = {"auto", "never", "always"};
static const char *const switch_words[3] = {"auto", "off", "on"};

static int choose(const option *o, const char *value, const char *const words[3], hc_err *e)
{
    for (int w = 0; w < 3; w++)
        if (!strcmp(value, words[w])) {
            *(int *)o->target = w - 1;
            return 0;
        }
    return hc_fail(e, HC_ERR_USAGE, "--%s expects %s, %s or %s, got '%.100s'", o->name, words[0],
                   words[2], words[1], value);
}

static int parse_number(const char *opt, const char *s, long min, long max, long *out, hc_err *e)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno == ERANGE)
        return hc_fail(e, HC_ERR_USAGE, "--%s expects a whole number, got '%.100s'", opt, s);
    if (v < min || v > max)
        return hc_fail(e, HC_ERR_USAGE, "--%s must be between %ld and %ld, got %ld", opt, min,
                       max, v);
    *out = v;
    return 0;
}

static int apply(const option *o, const char *value, hc_err *e)
{
    long v;
    switch (o->kind) {
    case ARG_STRING:
        if (!*value) return hc_fail(e, HC_ERR_USAGE, "--%s needs a non-empty value", o->name);
        *(const char **)o->target = value;
        return 0;
    case ARG_INT:
        if (parse_number(o->name, value, o->min, o->max, &v, e)) return e->code;
        *(int *)o->target = (int)v;
        return 0;
    case ARG_LONG:
        if (parse_number(o->name, value, o->min, o->max, &v, e)) return e->code;
        *(long *)o->target = v;
        return 0;
    case ARG_CHOICE_PROGRESS: return choose(o, value, progress_words, e);
    case ARG_CHOICE_SWITCH: return choose(o, value, switch_words, e);
    case ARG_FLAG_OFF: *(int *)o->target = 0; return 0;
    case ARG_FLAG_ON: case ARG_HELP: *(int *)o->target = 1; return 0;
    }
    return 0;
}

static int takes_value(arg_kind k) { return k != ARG_FLAG_OFF && k != ARG_FLAG_ON && k != ARG_HELP; }

int cli_given(const void *given, const char *name)
{
    const hc_given *g = given;
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->name[i], name)) return 1;
    return 0;
}

/* --name value, --name=value; each option at most once; no positional words. */
static int parse(const char *cmd, int argc, char **argv, const option *table, int n_table,
                 hc_given *given, hc_err *e)
{
    given->n = 0;
    unsigned char seen[64] = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = strcmp(argv[i], "-h") ? argv[i] : "--help";
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return hc_fail(e, HC_ERR_USAGE, "unexpected argument '%.100s' (see hyperclip %s --help)",
                           a, cmd);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int found = -1;
        for (int j = 0; j < n_table; j++)
            if (strlen(table[j].name) == len && !strncmp(table[j].name, name, len)) found = j;
        if (found < 0)
            return hc_fail(e, HC_ERR_USAGE, "unknown option '--%.*s' for hyperclip %s (see hyperclip %s --help)",
                           (int)(len > 100 ? 100 : len), name, cmd, cmd);
        const option *o = &table[found];
        if (seen[found]++)
            return hc_fail(e, HC_ERR_USAGE, "option --%s given twice", o->name);
        if (given->n < (int)(sizeof given->name / sizeof *given->name))
            given->name[given->n++] = o->name;
        const char *value = NULL;
        if (takes_value(o->kind)) {
            if (eq) value = eq + 1;
            else if (i + 1 < argc) value = argv[++i];
            else return hc_fail(e, HC_ERR_USAGE, "option --%s needs a value", o->name);
        } else if (eq) {
            return hc_fail(e, HC_ERR_USAGE, "option --%s takes no value", o->name);
        }
        if (apply(o, value, e)) return e->code;
    }
    return 0;
}

int cli_parse_train(int argc, char **argv, hc_trainer_options *o, hc_given *given, int *help,
                    hc_err *e)
{
    const char *resume_if = NULL;
    long bucket = 0;
    trainer_options_defaults(o);
    o->data_path = HC_DEFAULT_DATA;
    *help = 0;
    const option table[] = {
        {"data", ARG_STRING, &o->data_path, 0, 0},
        {"dataset", ARG_STRING, &o->dataset_name, 0, 0},
        {"normalize", ARG_STRING, &o->normalize, 0, 0},
        {"model", ARG_STRING, &o->model_name, 0, 0},
        {"stack", ARG_STRING, &o->stack_text, 0, 0},
        {"epochs", ARG_INT, &o->epochs, 1, 1000000},
        {"batch", ARG_INT, &o->batch, 1, 1 << 24},
        {"seed", ARG_LONG, &o->seed, 0, LONG_MAX},
        {"max-steps", ARG_LONG, &o->max_steps, 1, LONG_MAX},
        {"no-shuffle", ARG_FLAG_OFF, &o->shuffle, 0, 0},
        {"init", ARG_STRING, &o->init_path, 0, 0},
        {"metrics", ARG_STRING, &o->metrics_path, 0, 0},
        {"checkpoint", ARG_STRING, &o->checkpoint_path, 0, 0},
        {"checkpoint-every", ARG_LONG, &o->checkpoint_every, 1, LONG_MAX},
        {"resume", ARG_STRING, &o->resume_path, 0, 0},
        {"resume-if-exists", ARG_STRING, &resume_if, 0, 0},
        {"threads", ARG_INT, &o->threads, 1, 1024},
        {"progress", ARG_CHOICE_PROGRESS, &o->progress, 0, 0},
        {"quiet", ARG_FLAG_ON, &o->quiet, 0, 0},
        {"private-data", ARG_FLAG_ON, &o->private_data, 0, 0},
        {"overwrite", ARG_FLAG_ON, &o->overwrite, 0, 0},
        {"new-metrics", ARG_FLAG_ON, &o->new_metrics, 0, 0},
        {"watchdog", ARG_INT, &o->watchdog, 0, 7 * 24 * 3600},
        {"bucket", ARG_LONG, &bucket, 1, 1L << 30},
        {"reproducible", ARG_INT, &o->reproducible, 1, 4096},
        {"sharded-update", ARG_CHOICE_SWITCH, &o->sharded_update, 0, 0},
        {"help", ARG_HELP, help, 0, 0},
    };
    if (parse("train", argc, argv, table, (int)(sizeof table / sizeof *table), given, e))
        return e->code;
    o->bucket_elems = (size_t)bucket;
    if (resume_if && o->resume_path)
        return hc_fail(e, HC_ERR_USAGE, "give --resume or --resume-if-exists, not both");
    if (resume_if) {
        o->resume_path = resume_if;
        o->resume_if_exists = 1;
    }
    /* a checkpoint holds the weights a resume continues from: --init would be ignored */
    if (o->init_path && o->resume_path && !o->resume_if_exists)
        return hc_fail(e, HC_ERR_USAGE, "give --init or --resume, not both: the checkpoint "
                       "holds the weights a resume continues from (--resume-if-exists takes "
                       "--init for its fresh start)");
    if (o->checkpoint_every && !o->checkpoint_path && !o->resume_path)
        return hc_fail(e, HC_ERR_USAGE, "--checkpoint-every needs --checkpoint FILE.h5");
    if (o->new_metrics && !o->resume_path)
        return hc_fail(e, HC_ERR_USAGE, "--new-metrics is for a resume (--resume FILE.h5)");
    return 0;
}

int cli_parse_eval(int argc, char **argv, hc_eval_opts *o, hc_given *given, int *help, hc_err *e)
{
    memset(o, 0, sizeof *o);
    o->data_path = HC_DEFAULT_DATA;
    o->threads = 1;
    *help = 0;
    const option table[] = {
        {"checkpoint", ARG_STRING, &o->checkpoint_path, 0, 0},
        {"data", ARG_STRING, &o->data_path, 0, 0},
        {"dataset", ARG_STRING, &o->dataset_name, 0, 0},
        {"threads", ARG_INT, &o->threads, 1, 1024},
        {"private-data", ARG_FLAG_ON, &o->private_data, 0, 0},
        {"help", ARG_HELP, help, 0, 0},
    };
    if (parse("eval", argc, argv, table, (int)(sizeof table / sizeof *table), given, e))
        return e->code;
    if (!*help && !o->checkpoint_path)
        return hc_fail(e, HC_ERR_USAGE, "hyperclip eval needs --checkpoint FILE.h5");
    return 0;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

void cli_usage(FILE *f)
{
    fputs("hyperclip " HC_VERSION " - hyperoptimizer stacks with averaged hypergradient clipping,\n"
          "data-parallel over MPI.\n\n"
          "usage: mpirun -np N hyperclip train [options]   train a model (see train --help)\n"
          "       mpirun -np N hyperclip eval --checkpoint FILE.h5 [--data PATH]\n"
          "       hyperclip info FILE.h5                     what a checkpoint or metrics file holds\n"
          "       hyperclip COMMAND --help | -h              a command's options\n"
          "       hyperclip --help | --version\n\n"
          "exit codes: 0 done; 1 error (file, I/O, ranks disagree); 2 bad option or stack;\n"
          "            3 diverged (non-finite loss, metrics saved);\n"
          "            75 stopped by SIGUSR1/SIGTERM after writing the checkpoint: requeue me\n", f);
}

void cli_train_help(FILE *f)
{
    hc_trainer_options d;          /* the defaults shown are the trainer's own */
    trainer_options_defaults(&d);
    fputs("usage: mpirun -np N hyperclip train [options]\n\n"
          "  --data PATH         data folder: MNIST/Fashion-MNIST IDX files or CIFAR-10 batch\n"
          "                      files (.gz or plain) [" HC_DEFAULT_DATA "]\n"
          , f);
    char names[160];
    dataset_names(names, sizeof names, " | ", " | ");
    fprintf(f, "  --dataset NAME      %s (default: inferred from the files)\n", names);
    data_format_help(f, "                        ");
    fputs(
          "  --normalize HOW     inputs: train-stats (per-channel mean/std of the training set;\n"
          "                      CIFAR-10's default) | authors (the clipping paper's notebook\n"
          "                      constants) | unit (pixel/255; MNIST's default)\n"
          , f);
    char models[128];
    model_names(models, sizeof models, " | ");
    fprintf(f, "  --model NAME        %s [%s]\n", models, model_desc(0)->name);
    model_help(f, "                        ");
    fprintf(f, "  --stack SPEC        optimizer stack, primary first [%s]\n", d.stack_text);
    fputs("                      e.g. 'adam(alpha=1e-3) / sgd(alpha=1e-2, clip=on)'\n"
          "                      any optimizer at any level, any number of levels:\n", f);
    stack_grammar_help(f, "                        ");
    fprintf(f, "  --epochs N          epochs [%d]\n"
            "  --batch B           global minibatch, split over the ranks [%d]\n"
            "  --seed S            seed of the initial weights and the epoch order [%ld]\n",
            d.epochs, d.batch, d.seed);
    fputs("  --max-steps K       stop after K steps in all\n"
          "  --no-shuffle        batch k is samples [kB, kB+B) in file order, every epoch\n"
          "  --init FILE.h5      start from these weights (/model/<layer>/weight|bias)\n"
          "  --metrics FILE.h5   per-step and per-epoch record (written by rank 0)\n"
          "  --checkpoint FILE.h5  save the complete state here (atomically): at every epoch\n"
          "                      end, at the end, on SIGUSR1/SIGTERM, and every --checkpoint-every\n"
          "  --checkpoint-every STEPS  also save every STEPS steps\n"
          "  --resume FILE.h5    continue a checkpointed run exactly where it stopped\n"
          "                      alone: the checkpoint's own options; those that define the\n"
          "                      run, given again, must agree (--dataset --model --stack\n"
          "                      --normalize --batch --seed --no-shuffle --checkpoint-every\n"
          "                      --reproducible); the data may move (its contents' hash must\n"
          "                      match); the others may change (--epochs to extend); no --init\n"
          "  --resume-if-exists FILE.h5  the same when FILE exists, else start fresh (job scripts)\n"
          "  --overwrite         replace an existing --checkpoint or --metrics file (without\n"
          "                      it, a run never replaces one it does not resume)\n"
          "  --new-metrics       on a resume whose metrics file is gone: start a new one,\n"
          "                      which records its first step\n"
          , f);
    fprintf(f, "  --threads N         BLIS threads per rank [%d]\n", d.threads);
    fputs(
          "  --progress WHEN     live progress bar: auto (a terminal) | always | never [auto]\n"
          "  --quiet             no per-epoch lines: the start lines and the final ones\n"
          "  --private-data      one copy of the data set per rank (default: one per node,\n"
          "                      shared by the node's ranks that name the same --data)\n"
          "  --bucket N          gradient values per allreduce bucket: the buckets' allreduces\n"
          "                      start during the backward [all: one allreduce after it]\n"
          "  --reproducible V    the same bits on any number of ranks up to V: the batch in V\n"
          "                      virtual shards, their gradients summed exactly (e.g. 16)\n"
          , f);
    fprintf(f, "  --sharded-update WHEN  each rank updates 1/P of the weights (reduce-scatter,\n"
            "                      update, allgather) instead of all of them: auto (models of\n"
            "                      %zu weights or more) | on | off [auto]\n"
            "  --watchdog SECONDS  a rank that does not join the step's allreduce for this long\n"
            "                      (stopped, hung) ends the job, naming it (exit 4); 0: wait\n"
            "                      forever [%d]\n"
            "  --help, -h          this text\n", HC_SHARD_MIN_PARAMS, d.watchdog);
}

void cli_eval_help(FILE *f)
{
    fputs("usage: mpirun -np N hyperclip eval --checkpoint FILE.h5 [options]\n\n"
          "  --checkpoint FILE   a checkpoint or weights file with /model\n"
          "  --data PATH         data folder [a checkpoint's own, else " HC_DEFAULT_DATA "]\n"
          "                      a checkpoint is scored with its own normalization; data of\n"
          "                      another data set or training set is refused\n"
          , f);
    char names[160];
    dataset_names(names, sizeof names, " | ", " | ");
    fprintf(f, "  --dataset NAME      %s (default: inferred)\n", names);
    fputs(
          "  --threads N         BLIS threads per rank [1]\n"
          "  --private-data      one copy of the data set per rank (default: one per node)\n"
          "  --help, -h          this text\n", f);
}

void cli_info_help(FILE *f)
{
    fputs("usage: hyperclip info FILE.h5\n\n"
          "What a metrics, weights or checkpoint file holds. It reads the file and changes\n"
          "nothing.\n"
          "  --help, -h          this text\n", f);
}
