/* entry.h - one piece of a module's persistent state, as the checkpoint sees it.
 *
 * A module lists its arrays and counters; the checkpoint writes and reads whatever list
 * it is given (arrays as datasets, counters as attributes) without knowing any struct. */
#ifndef HC_ENTRY_H
#define HC_ENTRY_H
#include <stddef.h>

typedef enum {
    ENTRY_F64,          /* double[count] */
    ENTRY_REAL,         /* hc_real[count] (float32 or float64 by build) */
    ENTRY_COUNTER       /* one long, 0 <= value <= the step count */
} hc_entry_type;

typedef struct {
    const char *name;
    void *ptr;
    size_t count;
    hc_entry_type type;
} hc_entry;

#define HC_MAX_ENTRIES 16

#endif
