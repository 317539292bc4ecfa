/* entry.h - one piece of a module's persistent state, as the checkpoint sees it.
 *
 * A module lists its arrays and scalars once, in a group (a path in the file); the
 * checkpoint writes and reads whatever groups it is given (arrays as datasets, scalars
 * as attributes of the group) without knowing any struct. What the values must satisfy
 * is the owner's to check after a read. */
#ifndef HC_ENTRY_H
#define HC_ENTRY_H
#include <stddef.h>

typedef enum {
    ENTRY_F64,          /* double[count], a dataset */
    ENTRY_REAL,         /* hc_real[count] (float32 or float64 by build), a dataset */
    ENTRY_LONG,         /* one long, an attribute */
    ENTRY_DOUBLE        /* one double, an attribute */
} hc_entry_type;

typedef struct {
    const char *name;
    void *ptr;
    size_t count;       /* 1 for the scalars */
    hc_entry_type type;
} hc_entry;

#define HC_MAX_ENTRIES 16

/* The entries of one group, e.g. "state" (the trainer's position) or "state/level2". */
typedef struct {
    char path[32];
    int n;
    hc_entry entry[HC_MAX_ENTRIES];
} hc_entry_group;

#endif
