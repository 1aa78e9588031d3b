/* SPDX-License-Identifier: MIT */
/*
 * The source's final memory digest (--verify full), read while the
 * migration thread sends the last pages and the machine state: nothing
 * changes guest memory while the vCPUs are parked, and done one after the
 * other the two would add up in the downtime. The vCPU thread that parks
 * last reads it (digest_job_run() handed to vm_pause_then()), on the CPU
 * the guest just left: a thread of our own would have to be woken, which
 * costs tens to hundreds of microseconds on the nested development hosts
 * and lands it on the migration thread's CPU more often than not.
 * (Saving the vCPU state there too was tried: run beside the last dirty
 * sync its ioctls took twice as long, and nothing was gained.)
 */
#ifndef KVMTRACK_DIGEST_JOB_H
#define KVMTRACK_DIGEST_JOB_H

#include <pthread.h>
#include <stdbool.h>

#include "migrate/digest.h"

struct digest_job {
	const struct guest_mem *mem;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done; /* set under lock */
	struct mem_digest result;
};

void digest_job_init(struct digest_job *job, const struct guest_mem *mem);
void digest_job_destroy(struct digest_job *job);

/* Reads the digest; a vm_pause_then() function (arg: the job). */
void digest_job_run(void *job);

/*
 * The digest: waits for digest_job_run() when it was handed over (called,
 * from vm_pause_then()), else reads the memory here.
 */
void digest_job_result(struct digest_job *job, bool called,
		       struct mem_digest *out);

/* Waits until digest_job_run() is done with the job, if it was handed
 * over; due once per pause, before the job is used again or destroyed. */
void digest_job_finish(struct digest_job *job, bool called);

#endif
