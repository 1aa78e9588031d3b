// SPDX-License-Identifier: MIT
/* The final digest, read by the last vCPU to park (see digest_job.h). */
#include "migrate/digest_job.h"

#include <stdint.h>
#include <string.h>

#include "lib/clock.h"
#include "migrate/stream.h"

/* mem_digest_compute() threads, the caller's included: a second one only
 * for large memories (digest.c), where the digest dominates the downtime. */
#define DIGEST_THREADS 2
/*
 * How long a wait for the digest polls before it sleeps: an idle guest's
 * digest is ready ~0.2 ms after the stop, about when the state has gone
 * out, sooner than a sleeping thread would be woken.
 */
#define RESULT_POLL_NS 200000ull

void digest_job_init(struct digest_job *job, const struct guest_mem *mem)
{
	memset(job, 0, sizeof(*job));
	job->mem = mem;
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->cond, NULL);
}

void digest_job_destroy(struct digest_job *job)
{
	pthread_cond_destroy(&job->cond);
	pthread_mutex_destroy(&job->lock);
}

void digest_job_run(void *arg)
{
	struct digest_job *job = arg;

	mem_digest_compute(job->mem, DIGEST_THREADS, &job->result);
	pthread_mutex_lock(&job->lock);
	__atomic_store_n(&job->done, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&job->cond);
	pthread_mutex_unlock(&job->lock);
}

static bool job_done(void *job)
{
	return __atomic_load_n(&((struct digest_job *)job)->done,
			       __ATOMIC_ACQUIRE);
}

static void wait_done(struct digest_job *job)
{
	clock_poll_until(job_done, job, clock_now_ns() + RESULT_POLL_NS);
	pthread_mutex_lock(&job->lock);
	while (!job->done)
		pthread_cond_wait(&job->cond, &job->lock);
	pthread_mutex_unlock(&job->lock);
}

void digest_job_result(struct digest_job *job, bool called,
		       struct mem_digest *out)
{
	if (called)
		wait_done(job);
	else
		mem_digest_compute(job->mem, DIGEST_THREADS, &job->result);
	*out = job->result;
}

void digest_job_finish(struct digest_job *job, bool called)
{
	if (called)
		wait_done(job);
	job->done = false;
}
