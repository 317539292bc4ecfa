/* argparse.h - usage and option values for the small programs beside the trainer (the
 * test data generators and the benches). Each had its own copy of the same integer
 * parser and usage printer; one copy keeps their checks and messages alike. */
#ifndef HC_ARGPARSE_H
#define HC_ARGPARSE_H
#include <stdio.h>

/* Writes text (a program's usage) to f and returns status: `return arg_usage(stderr,
 * usage_text, 2);` ends a parse with the usage and the exit status. */
int arg_usage(FILE *f, const char *text, int status);

/* 0 when option opt has a value s; else -1 and, unless err is NULL,
 * "PROG: OPT needs a value" on err. */
int arg_value(FILE *err, const char *prog, const char *opt, const char *s);

/* Parses s, the value of option opt (NULL: none given), as a whole-string decimal in
 * [lo, hi] into *out. Returns 0, or -1 with, unless err is NULL, a message on err:
 * "PROG: OPT needs a value" or "PROG: OPT needs an integer in [LO, HI], got 'S'".
 * err NULL is for the MPI ranks that leave the message to rank 0. */
int arg_long(FILE *err, const char *prog, const char *opt, const char *s, long lo, long hi,
             long *out);
/* arg_long for an int. */
int arg_int(FILE *err, const char *prog, const char *opt, const char *s, int lo, int hi,
            int *out);
/* s is auto, on or off: *out = -1, 1 or 0 (the trainer's switches). */
int arg_auto_on_off(FILE *err, const char *prog, const char *opt, const char *s, int *out);

#endif
