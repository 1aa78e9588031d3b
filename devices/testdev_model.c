// SPDX-License-Identifier: MIT
/*
 * The test device's model (testdev_model.h): creation and the locked
 * operations that read what the guest reported, queue commands for it and
 * wait for its messages.
 */
#include "devices/testdev_model.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int testdev_create(struct guest_mem *mem, struct testdev **out)
{
	struct testdev *td = calloc(1, sizeof(*td));
	pthread_condattr_t attr;

	if (!td)
		return -ENOMEM;
	td->vcpus = calloc(TESTDEV_MAX_VCPUS, sizeof(*td->vcpus));
	if (!td->vcpus) {
		free(td);
		return -ENOMEM;
	}
	pthread_mutex_init(&td->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&td->reported, &attr);
	pthread_condattr_destroy(&attr);
	td->mem = mem;
	*out = td;
	return 0;
}

void testdev_destroy(struct testdev *td)
{
	if (!td)
		return;
	pthread_cond_destroy(&td->reported);
	pthread_mutex_destroy(&td->lock);
	free(td->vcpus);
	free(td);
}

int testdev_latest_report(struct testdev *td, uint32_t vcpu,
			  struct testdev_report *out)
{
	const struct testdev_vcpu *v;
	int err = 0;

	if (vcpu >= TESTDEV_MAX_VCPUS)
		return -ERANGE;
	pthread_mutex_lock(&td->lock);
	v = &td->vcpus[vcpu];
	if (v->count)
		*out = *testdev_latest_of(v);
	else
		err = -ENOENT;
	pthread_mutex_unlock(&td->lock);
	return err;
}

unsigned int testdev_report_history(struct testdev *td, uint32_t vcpu,
				    struct testdev_report *out,
				    unsigned int max)
{
	const struct testdev_vcpu *v;
	unsigned int n, first;

	if (vcpu >= TESTDEV_MAX_VCPUS)
		return 0;
	pthread_mutex_lock(&td->lock);
	v = &td->vcpus[vcpu];
	n = v->count < max ? v->count : max;
	first = (v->next + TESTDEV_REPORT_RING - n) % TESTDEV_REPORT_RING;
	for (unsigned int i = 0; i < n; i++)
		out[i] = v->ring[(first + i) % TESTDEV_REPORT_RING];
	pthread_mutex_unlock(&td->lock);
	return n;
}

int testdev_totals(struct testdev *td, uint32_t vcpu,
		   struct testdev_totals *out)
{
	if (vcpu != UINT32_MAX && vcpu >= TESTDEV_MAX_VCPUS)
		return -ERANGE;
	pthread_mutex_lock(&td->lock);
	*out = vcpu == UINT32_MAX ? td->totals : td->vcpus[vcpu].totals;
	pthread_mutex_unlock(&td->lock);
	return 0;
}

/* Copies src to out if *have; the lock makes the copy whole. */
static int copy_if_have(struct testdev *td, const bool *have, void *out,
			const void *src, size_t len)
{
	int err = -ENOENT;

	pthread_mutex_lock(&td->lock);
	if (*have) {
		memcpy(out, src, len);
		err = 0;
	}
	pthread_mutex_unlock(&td->lock);
	return err;
}

int testdev_hello(struct testdev *td, struct testdev_hello *out)
{
	return copy_if_have(td, &td->have_hello, out, &td->hello,
			    sizeof(*out));
}

int testdev_result(struct testdev *td, struct testdev_result *out)
{
	return copy_if_have(td, &td->have_result, out, &td->result,
			    sizeof(*out));
}

int testdev_queue_cmd(struct testdev *td, uint32_t cmd, uint64_t arg)
{
	int err = 0;

	if (cmd != TESTDEV_CMD_STOP && cmd != TESTDEV_CMD_VERIFY &&
	    cmd != TESTDEV_CMD_CONTINUE)
		return -EINVAL;
	pthread_mutex_lock(&td->lock);
	if (td->cmd_count < TESTDEV_CMD_QUEUE) {
		unsigned int tail =
			(td->cmd_head + td->cmd_count) % TESTDEV_CMD_QUEUE;

		td->cmds[tail].cmd = cmd;
		td->cmds[tail].arg = arg;
		td->cmd_count++;
	} else {
		err = -ENOSPC;
	}
	pthread_mutex_unlock(&td->lock);
	return err;
}

/* now + ms on CLOCK_MONOTONIC, the clock of td->reported. */
static struct timespec deadline_after_ms(unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int testdev_wait_reports(struct testdev *td, uint64_t min_reports,
			 unsigned int timeout_ms)
{
	struct timespec deadline = deadline_after_ms(timeout_ms);
	int err = 0;

	pthread_mutex_lock(&td->lock);
	while (td->totals.reports < min_reports && !err)
		err = pthread_cond_timedwait(&td->reported, &td->lock,
					     &deadline);
	if (td->totals.reports >= min_reports)
		err = 0;
	pthread_mutex_unlock(&td->lock);
	return err ? -ETIMEDOUT : 0;
}

int testdev_wait_hello(struct testdev *td, unsigned int timeout_ms)
{
	struct timespec deadline = deadline_after_ms(timeout_ms);
	int err = 0;

	pthread_mutex_lock(&td->lock);
	while (!td->have_hello && !err)
		err = pthread_cond_timedwait(&td->reported, &td->lock,
					     &deadline);
	err = td->have_hello ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&td->lock);
	return err;
}

int32_t testdev_status(struct testdev *td)
{
	int32_t status;

	pthread_mutex_lock(&td->lock);
	status = td->status;
	pthread_mutex_unlock(&td->lock);
	return status;
}

uint64_t testdev_error_count(struct testdev *td, enum testdev_err_kind kind)
{
	uint64_t n = 0;

	pthread_mutex_lock(&td->lock);
	if (kind < TESTDEV_ERR_NR_KINDS)
		n = td->errors[kind];
	pthread_mutex_unlock(&td->lock);
	return n;
}
