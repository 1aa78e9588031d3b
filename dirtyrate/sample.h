/* SPDX-License-Identifier: MIT */
/* Sample mode: hashes of sampled pages before and after the window, an
 * estimate that needs no dirty log. */
#ifndef KVMTRACK_DIRTYRATE_SAMPLE_H
#define KVMTRACK_DIRTYRATE_SAMPLE_H

#include <stddef.h>

struct dirtyrate_request;
struct jw;
struct vm;

/* Writes the mode's reply members into the open object w; -errno with err
 * set on failure (dirtyrate_measure() checked the request). */
int dirtyrate_measure_sample(struct vm *vm,
			     const struct dirtyrate_request *req, struct jw *w,
			     char *err, size_t err_len);

#endif
