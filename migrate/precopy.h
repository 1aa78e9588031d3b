/* SPDX-License-Identifier: MIT */
/*
 * The migration thread's work: one outgoing migration from start to end,
 * pre-copy passes and then stop-and-copy (stop_copy.h).
 */
#ifndef KVMTRACK_PRECOPY_H
#define KVMTRACK_PRECOPY_H

struct vm;
struct mig_params;
struct mig_progress;

/*
 * Migrates vm as params say, reporting into progress, and returns at the
 * end: on success once a client read the result, with the guest here
 * asked to stop (VM_STOP_MIGRATED); on failure with the guest resumed
 * here, unless it may already run at the destination (then it stays
 * paused). Either way the final status and error are in progress.
 */
void precopy_run(struct vm *vm, const struct mig_params *params,
		 struct mig_progress *progress);

#endif
