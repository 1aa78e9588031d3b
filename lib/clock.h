/* SPDX-License-Identifier: MIT */
/* The monotonic clock every timing in kvmtrack reads, in nanoseconds, and
 * short waits polled against it. */
#ifndef KVMTRACK_CLOCK_H
#define KVMTRACK_CLOCK_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Polls done(arg) until it holds or the clock reaches until_ns, yielding
 * the CPU between tries to any thread that wants it; returns done's last
 * answer. For waits shorter than waking a sleeping thread, which takes
 * tens to hundreds of microseconds on the nested development hosts and
 * would count in a migration's downtime; the caller sleeps after it.
 */
static inline bool clock_poll_until(bool (*done)(void *arg), void *arg,
				    uint64_t until_ns)
{
	bool ok;

	while (!(ok = done(arg)) && clock_now_ns() < until_ns)
		sched_yield();
	return ok;
}

#endif
