/* error.h - errors as return codes with one message, printed in one place (main).
 *
 * A function that can fail takes an `hc_err *` last, fills it with hc_fail() and
 * returns the code; callers pass the code up unchanged. */
#ifndef HC_ERROR_H
#define HC_ERROR_H

/* Exit codes of the hyperclip command (documented in the README). */
enum {
    HC_OK = 0,
    HC_ERR_RUNTIME = 1,   /* bad file, I/O error, mismatch, ranks disagree */
    HC_ERR_USAGE = 2,     /* bad option or stack string */
    HC_EXIT_DIVERGED = 3, /* the loss turned non-finite; metrics saved */
    HC_ERR_STALLED = 4,   /* a rank stopped answering: the job is aborted, not finalized */
    HC_EXIT_REQUEUE = 75  /* stopped by a signal after a checkpoint: requeue me (EX_TEMPFAIL) */
};

#define HC_ERR_MSG 1024

typedef struct {
    int code;               /* 0 when no error */
    char msg[HC_ERR_MSG];   /* one line, no trailing newline */
} hc_err;

/* Records the message and returns `code` (so: `return hc_fail(e, 1, "...")`). */
int hc_fail(hc_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
