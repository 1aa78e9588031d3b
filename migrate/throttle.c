// SPDX-License-Identifier: MIT
/* vCPU throttling for auto-converge (see throttle.h). */
#include "migrate/throttle.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "vmm/vm.h"

#define PERIOD_NS 10000000ull

struct throttle {
	struct vm *vm;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int percent;
	bool stop;
	bool holding; /* the thread has the vCPUs paused right now */
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Waits until ns have passed or throttling was switched off; lock held. */
static void hold_ns(struct throttle *t, uint64_t ns)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(ns / 1000000000ull);
	deadline.tv_nsec += (long)(ns % 1000000000ull);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (t->percent && !t->stop &&
	       pthread_cond_timedwait(&t->cond, &t->lock, &deadline) == 0)
		;
}

static void *throttle_thread(void *arg)
{
	struct throttle *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		unsigned int pct = t->percent;

		if (pct == 0) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		/* A failed pause (the VM is paused or stopping) is fine: the
		 * guest is not running either way. The pause is taken and
		 * released under the lock, so that throttle_set(0) returns
		 * only when the vCPUs are no longer held by us: otherwise our
		 * vm_resume() could let the guest run again after the caller
		 * paused it for good (its vm_pause() would see -EALREADY). */
		if (vm_pause(t->vm) == 0) {
			t->holding = true;
			hold_ns(t, PERIOD_NS * pct / 100);
			vm_resume(t->vm);
			t->holding = false;
			pthread_cond_broadcast(&t->cond);
		}
		pthread_mutex_unlock(&t->lock);
		sleep_ns(PERIOD_NS * (100 - pct) / 100);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int throttle_create(struct vm *vm, struct throttle **out)
{
	struct throttle *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	ret = pthread_create(&t->thread, NULL, throttle_thread, t);
	if (ret) {
		free(t);
		return -ret;
	}
	t->running = true;
	*out = t;
	return 0;
}

int throttle_set(struct throttle *t, unsigned int percent)
{
	pthread_mutex_lock(&t->lock);
	t->percent = percent > 99 ? 99 : percent;
	pthread_cond_broadcast(&t->cond);
	/* Off means off: the vCPUs are released when this returns. */
	while (t->percent == 0 && t->holding)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

unsigned int throttle_percent(const struct throttle *t)
{
	return __atomic_load_n(&t->percent, __ATOMIC_RELAXED);
}

void throttle_destroy(struct throttle *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (t->running)
		pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
