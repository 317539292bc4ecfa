/* argparse.c - see argparse.h. */
#include "argparse.h"
#include <errno.h>
#include <string.h>
#include <stdlib.h>

int arg_usage(FILE *f, const char *text, int status)
{
    fputs(text, f);
    return status;
}

int arg_value(FILE *err, const char *prog, const char *opt, const char *s)
{
    if (s) return 0;
    if (err) fprintf(err, "%s: %s needs a value\n", prog, opt);
    return -1;
}

int arg_long(FILE *err, const char *prog, const char *opt, const char *s, long lo, long hi,
             long *out)
{
    char *end;
    if (arg_value(err, prog, opt, s)) return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        if (err)
            fprintf(err, "%s: %s needs an integer in [%ld, %ld], got '%s'\n", prog, opt, lo, hi,
                    s);
        return -1;
    }
    *out = v;
    return 0;
}

int arg_int(FILE *err, const char *prog, const char *opt, const char *s, int lo, int hi,
            int *out)
{
    long v;
    if (arg_long(err, prog, opt, s, lo, hi, &v)) return -1;
    *out = (int)v;
    return 0;
}

int arg_auto_on_off(FILE *err, const char *prog, const char *opt, const char *s, int *out)
{
    if (arg_value(err, prog, opt, s)) return -1;
    static const char *const words[3] = {"auto", "off", "on"};   /* -1, 0, 1 */
    for (int w = 0; w < 3; w++)
        if (!strcmp(s, words[w])) {
            *out = w - 1;
            return 0;
        }
    if (err) fprintf(err, "%s: %s needs auto, on or off, got '%s'\n", prog, opt, s);
    return -1;
}
