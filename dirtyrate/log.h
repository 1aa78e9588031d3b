/* SPDX-License-Identifier: MIT */
/* The log modes (bitmap, ring): pages KVM logged over the window, exact. */
#ifndef KVMTRACK_DIRTYRATE_LOG_H
#define KVMTRACK_DIRTYRATE_LOG_H

#include <stddef.h>

struct dirtyrate_request;
struct jw;
struct vm;

/* Writes the mode's reply members into the open object w; -errno with err
 * set on failure (dirtyrate_measure() checked the request). */
int dirtyrate_measure_log(struct vm *vm, const struct dirtyrate_request *req,
			  struct jw *w, char *err, size_t err_len);

#endif
