/* SPDX-License-Identifier: MIT */
/*
 * `run --restore --restore-mode lazy`: the guest runs before its memory
 * is in place. Each page is put in place at its first touch, or by a
 * background fill, from the newest layer holding it and only after it
 * matched that layer's hash (docs/checkpoint.md).
 */
#ifndef KVMTRACK_CKPT_LAZY_H
#define KVMTRACK_CKPT_LAZY_H

#include <stdint.h>

#include "checkpoint/chain.h"

struct vm;
struct ckpt_lazy;

/*
 * Registers vm's RAM with userfaultfd and starts the threads that serve
 * it from layers[0..nr) (which must outlive them); vm_mem_filling() is
 * on until the fill ends, and the chain's lock (lock_fd, now its own) is
 * held until then, so that no merge changes a layer being read.
 * start_ns: when the restore began, for its log line. 0, or -errno with
 * err; *out is set either way, for ckpt_lazy_finish().
 */
int ckpt_lazy_start(const struct ckpt_layer *layers, unsigned int nr,
		    struct vm *vm, int lock_fd, uint64_t start_ns,
		    struct ckpt_lazy **out, char *err, size_t err_len);
/* Waits for the fill to end and stops the threads: before the VM goes. */
void ckpt_lazy_finish(struct ckpt_lazy *lz);

#endif
