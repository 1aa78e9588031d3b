/* SPDX-License-Identifier: MIT */
/*
 * The checkpointer's state (checkpoint.h), shared by checkpointer.c (its
 * life: made, adopting a restored chain, destroyed) and take.c (taking
 * checkpoints).
 */
#ifndef KVMTRACK_CKPT_CHECKPOINTER_TYPES_H
#define KVMTRACK_CKPT_CHECKPOINTER_TYPES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "checkpoint/checkpoint.h"
#include "vmm/dirty/dirty.h"

struct checkpointer {
	struct vm *vm;
	ckpt_busy_fn *busy;
	void *busy_arg;
	/* Attached from the first checkpoint on: what the guest wrote since
	 * the last one, which an incremental checkpoint holds. */
	struct dirty_set set;
	bool attached;
	/* The last checkpoint taken, the parent an incremental one needs:
	 * the dirty set is relative to it and nothing else. */
	char dir[PATH_MAX];
	char last[CKPT_NAME_MAX];
	uint64_t last_digest;
	/* Measured by the last checkpoint, for the next one's plan: what the
	 * pause costs besides the pages (stopping, the state), and how fast
	 * pages are copied. */
	uint64_t fixed_pause_us;
	double bytes_per_s;
};

#endif
