/* model_io.h - the /model group of --init files and checkpoints (interfaces.md):
 *     /model/<layer>/weight  float32 (out, in) or (out, in, kh, kw)
 *     /model/<layer>/bias    float32 (out)
 * Reading checks every dataset exists with the model's exact shape and a float class. */
#ifndef HC_MODEL_IO_H
#define HC_MODEL_IO_H
#include <hdf5.h>
#include "error.h"
#include "hc_real.h"
#include "model.h"

/* Writes /model into an open file. */
int model_write(hid_t file, const hc_model *m, const hc_real *param, hc_err *e);
/* Reads /model from an open file into param; `what` names the file in messages. */
int model_read(hid_t file, const hc_model *m, hc_real *param, const char *what, hc_err *e);
/* Opens `path` read-only and reads /model (--init's file, eval's checkpoint); `kind`
 * ("init file", "checkpoint") names it in messages. */
int model_read_file(const char *path, const char *kind, const hc_model *m, hc_real *param,
                    hc_err *e);

/* The model a file's weights belong to: its root attribute "model" (checkpoints,
 * metrics), else "cnn" when it has /model/conv1, else "mlp". */
int model_file_kind(const char *path, char *name, size_t size, hc_err *e);

#endif
