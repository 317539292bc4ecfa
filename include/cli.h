/* cli.h - the command line of interfaces.md, parsed strictly: every problem is one
 * message naming the option, exit code HC_ERR_USAGE. */
#ifndef HC_CLI_H
#define HC_CLI_H
#include <stdio.h>
#include "error.h"
#include "train.h"

#define HC_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

typedef struct {
    const char *checkpoint_path;   /* --checkpoint */
    const char *data_path;         /* --data */
    const char *dataset_name;      /* --dataset */
    int threads;
    int private_data;              /* --private-data */
} hc_eval_opts;

/* The options given on the command line (a resume takes the others from the checkpoint). */
typedef struct {
    const char *name[40];
    int n;
} hc_given;
/* 1 when --NAME was given (NAME without the dashes). */
int cli_given(const void *given, const char *name);

/* Parses argv[0..argc) (the words after "train"). Sets *help when --help was given. */
int cli_parse_train(int argc, char **argv, hc_trainer_options *o, hc_given *given, int *help,
                    hc_err *e);
int cli_parse_eval(int argc, char **argv, hc_eval_opts *o, hc_given *given, int *help, hc_err *e);

/* 1 when a word is -h or --help: the command then prints its usage and does nothing else. */
int cli_wants_help(int argc, char **argv);

void cli_usage(FILE *f);
void cli_info_help(FILE *f);
void cli_train_help(FILE *f);
void cli_eval_help(FILE *f);

#endif
