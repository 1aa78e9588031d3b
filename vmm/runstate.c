// SPDX-License-Identifier: MIT
/*
 * The run/pause/stop state machine of the vCPU threads (see runstate.h).
 *
 * Kicking a vCPU out of KVM_RUN (pause, stop) sets kvm_run.immediate_exit
 * and then sends SIGUSR1: the flag covers a vCPU that is just about to enter
 * KVM_RUN, the signal one that is inside it. The flag is set and cleared
 * only under rs->lock together with the state change, so no kick is lost.
 */
#include "vmm/runstate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "vmm/mem/limits.h"

#define KICK_SIGNAL SIGUSR1

struct runstate {
	struct runstate_thread *threads[VM_MAX_CPUS];
	unsigned int nr_threads;
	bool has_run; /* the state was VM_RUNNING at some point */

	/* lock guards everything below. */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* the state changed: what vCPU threads wait on */
	/* A vCPU parked: what runstate_pause_then() waits on. Apart from
	 * cond, since a vCPU that woke its paused peers on parking would be
	 * woken by them in turn: two threads busy for as long as the VM is
	 * paused, a whole incoming migration on a destination. */
	pthread_cond_t parked_cond;
	enum vm_state state;
	unsigned int parked; /* vCPUs waiting while paused (atomic writes) */
	void (*parked_fn)(void *arg); /* vm_pause_then() */
	void *parked_fn_arg;
	uint64_t resume_expected_until_ns; /* vm_expect_resume() */
	enum vm_stop_reason stop_reason;
	int stop_status;
	char stop_why[512];
	int stop_fd; /* eventfd: written once when the VM stops */
};

int runstate_create(struct runstate **out)
{
	struct runstate *rs = calloc(1, sizeof(*rs));
	int ret;

	if (!rs)
		return -ENOMEM;
	rs->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (rs->stop_fd < 0) {
		ret = -errno;
		free(rs);
		return ret;
	}
	pthread_mutex_init(&rs->lock, NULL);
	pthread_cond_init(&rs->cond, NULL);
	pthread_cond_init(&rs->parked_cond, NULL);
	rs->state = VM_CREATED;
	*out = rs;
	return 0;
}

void runstate_destroy(struct runstate *rs)
{
	if (!rs)
		return;
	close(rs->stop_fd);
	pthread_cond_destroy(&rs->cond);
	pthread_cond_destroy(&rs->parked_cond);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

void runstate_add_thread(struct runstate *rs, struct runstate_thread *t)
{
	rs->threads[rs->nr_threads++] = t;
}

static void kick_handler(int sig)
{
	(void)sig; /* interrupting KVM_RUN is all it is for */
}

int runstate_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must fail */
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/*
 * SIGINT/SIGTERM are blocked in every thread (the vCPU threads inherit the
 * mask) and read from a signalfd by the main thread, so a signal never lands
 * in a vCPU thread in the middle of an exit.
 */
int runstate_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, KICK_SIGNAL); /* unblocked by the vCPU threads only */
	signal(SIGPIPE, SIG_IGN); /* a vanished control client is an EPIPE */
	if (pthread_sigmask(SIG_BLOCK, set, NULL))
		return -EINVAL;
	sigdelset(set, KICK_SIGNAL);
	return 0;
}

void runstate_thread_init(void)
{
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
}

static void kick(struct runstate_thread *t)
{
	if (!t->kvm->run)
		return;
	__atomic_store_n(&t->kvm->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (t->started)
		pthread_kill(t->id, KICK_SIGNAL);
}

/* Caller holds rs->lock. */
static void kick_all(struct runstate *rs)
{
	for (unsigned int i = 0; i < rs->nr_threads; i++)
		kick(rs->threads[i]);
	pthread_cond_broadcast(&rs->cond);
	pthread_cond_broadcast(&rs->parked_cond);
}

void runstate_start(struct runstate *rs, enum vm_state initial)
{
	pthread_mutex_lock(&rs->lock);
	if (rs->state == VM_CREATED) {
		rs->state = initial;
		rs->has_run = initial == VM_RUNNING;
	}
	pthread_mutex_unlock(&rs->lock);
}

void runstate_request_stop(struct runstate *rs, enum vm_stop_reason reason,
			   int status, const char *why)
{
	uint64_t one = 1;

	pthread_mutex_lock(&rs->lock);
	if (rs->stop_reason == VM_STOP_NONE) {
		rs->stop_reason = reason;
		rs->stop_status = status;
		snprintf(rs->stop_why, sizeof(rs->stop_why), "%s", why);
		rs->state = VM_STOPPED;
		kick_all(rs);
		if (write(rs->stop_fd, &one, sizeof(one)) < 0)
			log_err("vm: cannot signal stop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&rs->lock);
}

/*
 * How long vm_pause() polls for the kicked vCPUs to park before it sleeps.
 * They leave KVM_RUN and park in tens of microseconds; sleeping on the
 * condition instead adds this thread's own wake-up to the pause, 20 us
 * typically and up to a few hundred on the nested development hosts, and
 * the pause is part of a migration's downtime.
 */
#define PAUSE_POLL_NS 500000ull

static bool all_parked(void *arg)
{
	struct runstate *rs = arg;
	unsigned int parked = __atomic_load_n(&rs->parked, __ATOMIC_ACQUIRE);

	return parked >= rs->nr_threads || runstate_state(rs) != VM_PAUSED;
}

int runstate_pause_then(struct runstate *rs, void (*fn)(void *arg), void *arg,
			bool *called)
{
	bool taken = false;
	int ret = 0;

	pthread_mutex_lock(&rs->lock);
	if (rs->state != VM_RUNNING) {
		ret = rs->state == VM_PAUSED ? -EALREADY : -EINVAL;
		goto unlock;
	}
	rs->state = VM_PAUSED;
	rs->parked_fn = fn;
	rs->parked_fn_arg = arg;
	kick_all(rs);
	/* Without rs->lock: the vCPU threads need it to park. */
	pthread_mutex_unlock(&rs->lock);
	clock_poll_until(all_parked, rs, clock_now_ns() + PAUSE_POLL_NS);
	pthread_mutex_lock(&rs->lock);
	while (rs->state == VM_PAUSED && rs->parked < rs->nr_threads)
		pthread_cond_wait(&rs->parked_cond, &rs->lock);
	if (rs->state != VM_PAUSED)
		ret = -ECANCELED; /* stopped while pausing */
	/* Taken by the last vCPU to park; or by none, when they all counted
	 * as parked already (still waking from a resume) or the VM stopped:
	 * then it is dropped here, under the lock, and never called. */
	taken = fn && !rs->parked_fn;
	rs->parked_fn = NULL;
unlock:
	pthread_mutex_unlock(&rs->lock);
	if (called)
		*called = taken;
	return ret;
}

/* Pauses the VM from a vCPU's own exit: like vm_pause() without waiting
 * for the vCPUs to park (this one parks when it returns to its loop). */
void runstate_request_pause(struct runstate *rs)
{
	pthread_mutex_lock(&rs->lock);
	if (rs->state == VM_RUNNING) {
		rs->state = VM_PAUSED;
		kick_all(rs);
	}
	pthread_mutex_unlock(&rs->lock);
}

/*
 * How long the vCPU threads poll after vm_expect_resume(): a destination
 * loads the state and waits for the source's digest, which takes ~0.1 ms
 * for an idle guest and ~10 ms per 64 MiB written with --verify full.
 */
#define RESUME_POLL_NS 20000000ull

/*
 * Polling pays only where each polling vCPU thread has a CPU of its own
 * beside the thread that loads the state and a source on the same host.
 * Without one it takes the CPU from them (sched_yield() gives it back
 * only after a context switch each time), and the resume comes later:
 * with one CPU in the test VM, the state took 30 ms to load, not 11.
 */
static bool cpus_to_spare(unsigned int pollers)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 &&
	       (unsigned int)CPU_COUNT(&set) >= pollers + 2;
}

void runstate_expect_resume(struct runstate *rs)
{
	if (!cpus_to_spare(rs->nr_threads))
		return;
	pthread_mutex_lock(&rs->lock);
	if (rs->state == VM_PAUSED) {
		rs->resume_expected_until_ns = clock_now_ns() + RESUME_POLL_NS;
		pthread_cond_broadcast(&rs->cond);
	}
	pthread_mutex_unlock(&rs->lock);
}

int runstate_resume(struct runstate *rs)
{
	int ret = 0;

	pthread_mutex_lock(&rs->lock);
	if (rs->state != VM_PAUSED) {
		ret = rs->state == VM_RUNNING ? -EALREADY : -EINVAL;
	} else {
		rs->state = VM_RUNNING;
		rs->has_run = true;
		pthread_cond_broadcast(&rs->cond);
		pthread_cond_broadcast(&rs->parked_cond);
	}
	pthread_mutex_unlock(&rs->lock);
	return ret;
}

/*
 * While a resume is expected (vm_expect_resume()), polls for it instead of
 * sleeping: the resume then costs no wake-up of this thread, tens to
 * hundreds of microseconds on the nested development hosts, and it is a
 * migration's downtime. rs->lock held on entry and on return.
 */
static bool not_paused(void *rs)
{
	return runstate_state(rs) != VM_PAUSED;
}

static void poll_for_resume(struct runstate *rs)
{
	uint64_t until_ns = rs->resume_expected_until_ns;

	pthread_mutex_unlock(&rs->lock);
	clock_poll_until(not_paused, rs, until_ns);
	pthread_mutex_lock(&rs->lock);
}

/* The last vCPU to park runs vm_pause_then()'s function, on the CPU the
 * guest just left. rs->lock held on entry and on return. */
static void run_parked_fn(struct runstate *rs)
{
	void (*fn)(void *arg) = rs->parked_fn;
	void *arg = rs->parked_fn_arg;

	rs->parked_fn = NULL;
	pthread_mutex_unlock(&rs->lock);
	fn(arg);
	pthread_mutex_lock(&rs->lock);
}

bool runstate_wait_runnable(struct runstate *rs, struct kvm_run *run,
			    void (*settle)(void *arg), void *arg)
{
	bool runnable;

	pthread_mutex_lock(&rs->lock);
	while (rs->state == VM_PAUSED) {
		settle(arg);
		/* Atomic: vm_pause() polls it without the lock. Running the
		 * parked function or polling for a resume counts as parked:
		 * this vCPU is out of KVM_RUN. */
		__atomic_add_fetch(&rs->parked, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&rs->parked_cond);
		if (rs->parked_fn && rs->parked == rs->nr_threads)
			run_parked_fn(rs);
		else if (clock_now_ns() < rs->resume_expected_until_ns)
			poll_for_resume(rs);
		else
			pthread_cond_wait(&rs->cond, &rs->lock);
		__atomic_sub_fetch(&rs->parked, 1, __ATOMIC_RELAXED);
	}
	runnable = rs->state == VM_RUNNING;
	if (runnable)
		run->immediate_exit = 0;
	pthread_mutex_unlock(&rs->lock);
	return runnable;
}

enum vm_state runstate_state(const struct runstate *rs)
{
	return __atomic_load_n(&rs->state, __ATOMIC_ACQUIRE);
}

bool runstate_has_run(const struct runstate *rs)
{
	return __atomic_load_n(&rs->has_run, __ATOMIC_ACQUIRE);
}

int runstate_stop_fd(const struct runstate *rs)
{
	return rs->stop_fd;
}

/* Read after the stop request that set them, which the caller saw. */
int runstate_stop_status(const struct runstate *rs, const char **why)
{
	*why = rs->stop_why;
	return rs->stop_status;
}

const char *vm_state_name(enum vm_state state)
{
	switch (state) {
	case VM_CREATED:
		return "prelaunch";
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_STOPPED:
		return "shutdown";
	}
	return "unknown";
}
