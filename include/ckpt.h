/* ckpt.h - checkpoints: /model plus everything needed to continue exactly.
 *
 * Layout (format "hyperclip-checkpoint", version 2):
 *   /model/<layer>/<param>                 the weights (interfaces.md)
 *   /state/level1/{raw, state0, state1, D0, D1, D2, clip_avg}  level 1: raw hypers,
 *                                          per-weight state (SGD b | Adam m, v | AdaGrad G
 *                                          | RMSProp s), update derivatives, clip state
 *   /state/level<k>/{raw, clip_avg, buf, D_alpha, D_mu}       levels >= 2
 *   attributes: counters on /state (step, epoch, pos, updates, ...); on the root format,
 *   format_version and the run record (runrec.h: identity and provenance); on every
 *   dataset description and unit.
 * Nothing depends on the rank count that wrote it. Writing builds the file in memory,
 * then writes a temporary file in the same folder, fsyncs it, renames it over the old
 * checkpoint and fsyncs the folder: at any moment a complete checkpoint exists. */
#ifndef HC_CKPT_H
#define HC_CKPT_H
#include "error.h"
#include "train.h"

#define HC_CKPT_FORMAT "hyperclip-checkpoint"
#define HC_CKPT_VERSION 2     /* 2: the run record (runrec.h), variable-length strings;
                                 version 1 files are still read */

/* Writes t's state to path (call on one rank; all ranks hold the same state). */
int ckpt_save(const hc_trainer *t, const char *path, hc_err *e);

/* Restores t (already built by trainer_init for the same model, stack, data set and
 * batch) from path; refuses, naming the difference, a checkpoint of another run. */
int ckpt_load(hc_trainer *t, const char *path, hc_err *e);

#endif
