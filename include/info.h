/* info.h - `hyperclip info FILE.h5`: what a checkpoint or metrics file holds, in words. */
#ifndef HC_INFO_H
#define HC_INFO_H
#include <stdio.h>
#include "error.h"

int info_run(const char *path, FILE *out, hc_err *e);

#endif
