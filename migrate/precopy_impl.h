/* SPDX-License-Identifier: MIT */
/* The inside of the pre-copy sender (precopy.c, stop_copy.c). */
#ifndef KVMTRACK_PRECOPY_IMPL_H
#define KVMTRACK_PRECOPY_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate/digest_job.h"
#include "migrate/ram_send.h"
#include "migrate/stream.h"
#include "vmm/dirty/dirty.h"

struct migrator;
struct vm;
struct throttle;

struct precopy {
	struct migrator *m;
	struct vm *vm;
	struct mig_stream s;
	struct ram_sender rs;
	struct dirty_set set;
	bool attached;
	bool stopped_vm; /* we paused the vCPUs for stop-and-copy */
	/* DIGEST went out: from here the destination may resume the guest
	 * at any moment, and only its ERROR proves it did not. */
	bool digest_sent;
	bool have_digest_job;
	bool digest_job_called; /* handed to a vCPU by vm_pause_then() */
	struct digest_job digest_job;
	struct throttle *throttle;
	uint64_t stop_ns;
	uint64_t written_pages; /* sent by the first pass: all written memory */
};

/* PASS, and the destination's SYNCED for it (see proto.h). */
int precopy_pass_frame(struct precopy *pc, unsigned int pass);
int precopy_expect_synced(struct precopy *pc, unsigned int pass);

/*
 * With the vCPUs stopped: the last dirty pages, the machine state and the
 * digest, then the destination's DONE (stop_copy.c). On failure the caller
 * resumes the guest, unless the outcome is unknown (precopy.c).
 */
int stop_and_copy(struct precopy *pc);

#endif
