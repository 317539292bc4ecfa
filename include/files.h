/* files.h - what every file hyperclip reads or writes is checked for before it is
 * opened: inputs must be readable regular files (a FIFO, a device or a directory would
 * block or mislead HDF5), outputs regular files or absent, and two options must not name
 * the same file. Each failure is one message calling the thing what it is. */
#ifndef HC_FILES_H
#define HC_FILES_H
#include <sys/types.h>
#include "error.h"


/* An input: exists, is a regular file and is readable. `what` opens the message
 * ("checkpoint", "init file", ...). */
int file_check_input(const char *path, const char *what, hc_err *e);

/* An output: absent (its folder must exist) or a regular file. *exists says which. */
/* When path is a symbolic link: 1 and the file it names in out (its real path, or for a
 * file not there yet the link's target joined to the link's folder); 0 when path is not
 * a link; -1 when it cannot be followed or out is too small. Outputs replace the file a
 * link names and keep the link. */
int file_link_target(const char *path, char *out, size_t size);

int file_check_output(const char *path, const char *what, int *exists, hc_err *e);

/* 1 when a and b name the same file: the same path, or the same device and inode. */
int file_same(const char *a, const char *b);

/* A lock beside `path` (PATH.lock) that one run holds while it writes the file. It is
 * an fcntl lock on the lock file, which also records "HOST PID": the system releases the
 * lock when its holder dies, so a lock left by a killed run is taken over. Where the
 * file system has no fcntl locks, the recorded host and PID decide (a dead process on
 * this host has no lock). A lock held by a live run is refused naming its host and PID. */
typedef struct {
    char *lock_path;        /* NULL when not held */
    int fd;
} hc_file_lock;

int file_lock(hc_file_lock *l, const char *path, const char *what, hc_err *e);
/* 1 when a live process holds path's lock (a run is writing the file), its "HOST PID" in
 * holder; 0 when none does (or there is no lock file). Takes no lock. */
int file_lock_held(const char *path, char *holder, size_t size);
void file_unlock(hc_file_lock *l);

#endif
