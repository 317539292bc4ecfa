/* ckpt.h - checkpoints: /model plus everything needed to continue exactly.
 *
 * Layout (format "hyperclip-checkpoint", version 2):
 *   /model/<layer>/<param>                 the weights (interfaces.md)
 *   /state/level1/{raw, state0, state1, D0, D1, D2, clip_avg}  level 1: raw hypers,
 *                                          per-weight state (SGD b | Adam m, v | AdaGrad G
 *                                          | RMSProp s), update derivatives, clip state
 *   /state/level<k>/{raw, clip_avg, <state>, D_<key>}   levels >= 2: the level's
 *                                          optimizer's state names and one D per key
 *   attributes: the trainer's position on /state (step, epoch, pos, ...), each level's
 *   counters on its group; on the root format, format_version and the run record
 *   (runrec.h: identity and provenance); on every dataset description and unit.
 * The checkpoint knows no module's struct: each lists its state as entries (entry.h).
 * Stored in HDF5 1.10's format (checksums on all metadata), arrays under Fletcher32 and
 * strings fixed-length (h5util.h): a damaged file is refused, never read as another.
 * Nothing depends on the rank count that wrote it. Writing builds the file in memory,
 * then writes a temporary file in the same folder, fsyncs it, renames it over the old
 * checkpoint and fsyncs the folder: at any moment a complete checkpoint exists. */
#ifndef HC_CKPT_H
#define HC_CKPT_H
#include "entry.h"
#include "error.h"
#include "model.h"
#include "runrec.h"

#define HC_CKPT_FORMAT "hyperclip-checkpoint"
#define HC_CKPT_VERSION 2     /* 2: the run record (runrec.h); strings fixed- or variable-
                                 length (before the checksums);
                                 version 1 files are still read */

/* What a checkpoint holds, all borrowed: the weights, the run's record and the groups
 * of entries the stateful modules list (the trainer's position on /state, each level's
 * state on /state/level<k>), written and read in this order. */
typedef struct {
    const hc_model *model;
    hc_real *param;
    const hc_run_record *record;
    const hc_entry_group *group;
    int n_groups;
} hc_ckpt;

/* Writes c to path (call on one rank; all ranks hold the same state). */
int ckpt_save(const hc_ckpt *c, const char *path, hc_err *e);

/* Refuses, naming the difference, a file that is not a checkpoint of the run c->record
 * describes; then reads the weights and every group's entries into their pointers
 * (arrays of exactly the listed size, finite). *file_record gets the file's record (the
 * caller frees it). The owners check what their values must satisfy. */
int ckpt_load(const hc_ckpt *c, const char *path, hc_run_record *file_record, hc_err *e);

#endif
