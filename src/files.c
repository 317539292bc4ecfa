/* files.c - checks before a file is opened, and the one-run-per-file lock (files.h). */
#include "files.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "a directory", "a FIFO (named pipe)", "a character device", ... for a st_mode. */
static const char *file_kind_words(mode_t mode)
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* "WHAT PATH: REASON", the path cut in the middle when very long (a name too long for
 * the system must still give a readable line). */
static int fail_path(hc_err *e, const char *what, const char *path, const char *reason)
{
    size_t n = strlen(path);
    if (n > 300)
        return hc_fail(e, HC_ERR_RUNTIME, "%s %.150s...%s: %s", what, path, path + n - 100, reason);
    return hc_fail(e, HC_ERR_RUNTIME, "%s %s: %s", what, path, reason);
}

static int fail_kind(hc_err *e, const char *what, const char *path, mode_t mode)
{
    char reason[96];
    snprintf(reason, sizeof reason, "is %s, not a regular file", file_kind_words(mode));
    return fail_path(e, what, path, reason);
}

int file_check_input(const char *path, const char *what, hc_err *e)
{
    struct stat st;
    if (!path || !*path) return hc_fail(e, HC_ERR_USAGE, "%s: empty file name", what);
    if (stat(path, &st) != 0) return fail_path(e, what, path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail_kind(e, what, path, st.st_mode);
    if (access(path, R_OK) != 0) return fail_path(e, what, path, strerror(errno));
    return 0;
}

int file_link_target(const char *path, char *out, size_t size)
{
    struct stat st;
    char target[PATH_MAX], real[PATH_MAX];
    if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode)) return 0;
    if (realpath(path, real)) return snprintf(out, size, "%s", real) < (int)size ? 1 : -1;
    ssize_t n = readlink(path, target, sizeof target - 1);     /* to a file not there yet */
    if (n < 0) return -1;
    target[n] = '\0';
    if (target[0] == '/') return snprintf(out, size, "%s", target) < (int)size ? 1 : -1;
    char *copy = strdup(path);
    if (!copy) return -1;
    int k = snprintf(out, size, "%s/%s", dirname(copy), target);
    free(copy);
    return k < (int)size ? 1 : -1;
}

int file_check_output(const char *path, const char *what, int *exists, hc_err *e)
{
    struct stat st;
    *exists = 0;
    if (!path || !*path) return hc_fail(e, HC_ERR_USAGE, "%s: empty file name", what);
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) return fail_kind(e, what, path, st.st_mode);
        *exists = 1;
        return 0;
    }
    if (errno != ENOENT) return fail_path(e, what, path, strerror(errno));
    char target[PATH_MAX];      /* a link to a file not there yet: its folder must be */
    int link = file_link_target(path, target, sizeof target);
    if (link < 0) return fail_path(e, what, path, "is a symbolic link that cannot be followed");
    char *copy = strdup(link ? target : path);
    if (!copy) return hc_fail(e, HC_ERR_RUNTIME, "out of memory");
    const char *dir = dirname(copy);
    int rc = 0;
    if (stat(dir, &st) != 0) {
        char reason[200];
        snprintf(reason, sizeof reason, "%sits folder %.100s %s",
                 link ? "a symbolic link whose target is missing: " : "", dir,
                 errno == ENOENT ? "does not exist" : strerror(errno));
        rc = fail_path(e, what, path, reason);
    } else if (!S_ISDIR(st.st_mode)) {
        rc = fail_path(e, what, path, "its folder is not a directory");
    }
    free(copy);
    return rc;
}

/* The folder's real path and the file's name: "a", "./a" and "d/../a" agree even when
 * the file does not exist yet. */
static int canonical(const char *path, char *out, size_t size)
{
    char *d = strdup(path), *b = strdup(path), real[PATH_MAX];
    int rc = -1;
    if (d && b && realpath(dirname(d), real))
        rc = (size_t)snprintf(out, size, "%s/%s", real, basename(b)) < size ? 0 : -1;
    free(d);
    free(b);
    return rc;
}

int file_same(const char *a, const char *b)
{
    struct stat sa, sb;
    char ca[PATH_MAX + 256], cb[PATH_MAX + 256];
    if (!a || !b) return 0;
    if (!strcmp(a, b)) return 1;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return canonical(a, ca, sizeof ca) == 0 && canonical(b, cb, sizeof cb) == 0 && !strcmp(ca, cb);
}

/* ---- the lock ---- */

static void read_holder(int fd, char *holder, size_t size)
{
    ssize_t n = pread(fd, holder, size - 1, 0);
    holder[n > 0 ? n : 0] = '\0';
    holder[strcspn(holder, "\n")] = '\0';
    for (char *p = holder; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    if (!holder[0]) snprintf(holder, size, "an unknown process");
}

static int write_holder(int fd)
{
    char host[256] = "", line[320];
    gethostname(host, sizeof host - 1);
    int n = snprintf(line, sizeof line, "%s %ld\n", host, (long)getpid());
    return ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) == n ? 0 : -1;
}

/* A lock file holds "HOST PID\n" (or nothing yet): anything else is a user's file that
 * happens to have the name, which a run must neither fill nor remove. */
static int looks_like_lock(int fd)
{
    char text[320], host[256], rest[2];
    long pid;
    struct stat st;
    if (fstat(fd, &st) != 0) return 0;
    if (st.st_size == 0) return 1;
    if (st.st_size >= (off_t)sizeof text) return 0;
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n != st.st_size) return 0;
    text[n] = '\0';
    return strlen(text) == (size_t)n && sscanf(text, "%255s %ld %1s", host, &pid, rest) == 2 &&
           pid > 0;
}

/* Without fcntl locks: the holder recorded in the file is alive unless it ran on this
 * host and its PID is gone. */
static int holder_alive(const char *holder)
{
    char host[256] = "", their_host[256];
    long pid;
    gethostname(host, sizeof host - 1);
    if (sscanf(holder, "%255s %ld", their_host, &pid) != 2 || pid <= 0) return 0;
    if (strcmp(host, their_host)) return 1;
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

int file_lock_held(const char *path, char *holder, size_t size)
{
    char lp[PATH_MAX];
    holder[0] = '\0';
    if ((size_t)snprintf(lp, sizeof lp, "%s.lock", path) >= sizeof lp) return 0;
    int fd = open(lp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0) return 0;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int held = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
               fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    if (held) read_holder(fd, holder, size);
    close(fd);
    return held;
}

int file_lock(hc_file_lock *l, const char *path, const char *what, hc_err *e)
{
    char holder[320];
    l->lock_path = NULL;
    l->fd = -1;
    size_t n = strlen(path) + 6;
    char *lp = malloc(n);
    if (!lp) return hc_fail(e, HC_ERR_RUNTIME, "out of memory");
    snprintf(lp, n, "%s.lock", path);
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
        struct stat fs, ps;
        if (fd < 0) {
            char reason[200];
            snprintf(reason, sizeof reason, "cannot create its lock file %s.lock (%s)",
                     strlen(path) > 100 ? "..." : path, strerror(errno));
            free(lp);
            return fail_path(e, what, path, reason);
        }
        if (fstat(fd, &fs) != 0 || !S_ISREG(fs.st_mode)) {
            close(fd);
            free(lp);
            return fail_path(e, what, path, "its lock file (.lock beside it) is not a regular file");
        }
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        int locked = fcntl(fd, F_SETLK, &fl) == 0, err = errno;
        /* held: by a live fcntl holder, or (no fcntl locks here) by the recorded holder
         * unless that is a dead process of this host */
        int held = !locked && (err == EACCES || err == EAGAIN);
        if (!locked && !held) {
            read_holder(fd, holder, sizeof holder);
            held = fs.st_size > 0 && holder_alive(holder);
        }
        if (held) {
            read_holder(fd, holder, sizeof holder);
            close(fd);
            free(lp);
            char reason[480];
            snprintf(reason, sizeof reason, "in use by another run: host and PID %s hold its "
                     "lock (.lock beside it%s)", holder,
                     err == EACCES || err == EAGAIN ? "" : "; remove that if the run is gone");
            return fail_path(e, what, path, reason);
        }
        /* the previous holder may have removed the file between our open and lock */
        if (stat(lp, &ps) != 0 || ps.st_ino != fs.st_ino || ps.st_dev != fs.st_dev) {
            close(fd);
            continue;
        }
        if (!looks_like_lock(fd)) {
            close(fd);
            free(lp);
            return fail_path(e, what, path, "its lock file (.lock beside it) exists and is not "
                             "a lock: move that file away");
        }
        if (write_holder(fd)) {
            err = errno;
            close(fd);
            unlink(lp);
            free(lp);
            return fail_path(e, what, path, strerror(err));
        }
        l->lock_path = lp;
        l->fd = fd;
        return 0;
    }
    free(lp);
    return fail_path(e, what, path, "its lock file keeps changing (another run starting?)");
}

void file_unlock(hc_file_lock *l)
{
    if (!l->lock_path) return;
    unlink(l->lock_path);   /* before closing: the lock covers the removal */
    close(l->fd);
    free(l->lock_path);
    l->lock_path = NULL;
    l->fd = -1;
}
