// SPDX-License-Identifier: MIT
/*
 * Running a VM: signals, the control socket, the vCPU threads, and the last
 * line that says why the guest stopped.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "control/control.h"
#include "vmm/commands.h"
#include "lib/log.h"
#include "vmm/vm_impl.h"

/* Creates the vCPU threads, which run at once or wait while `initial` is
 * VM_PAUSED. The signal mask they inherit is set first. */
static int create_vcpu_threads(struct vm *vm, enum vm_state initial)
{
	sigset_t set;
	int ret = runstate_signals_init();

	ret = ret ?: runstate_block_signals(&set);
	if (ret)
		return ret;
	runstate_start(vm->rs, initial);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret < 0)
			return ret;
	}
	vm->threads_created = true;
	return 0;
}

int vm_prestart(struct vm *vm)
{
	return create_vcpu_threads(vm, VM_PAUSED);
}

/* A migration destination may have resumed its prestarted vCPUs already,
 * as soon as the memory was verified (incoming.c). */
static int start_vcpus(struct vm *vm)
{
	int ret;

	if (!vm->threads_created)
		return create_vcpu_threads(vm, VM_RUNNING);
	ret = vm_resume(vm);
	return ret == -EALREADY ? 0 : ret;
}

/* Waits for a stop request or a signal, turning the signal into a stop. */
static void wait_for_stop(struct vm *vm, int sig_fd)
{
	struct pollfd fds[2] = {
		{ .fd = runstate_stop_fd(vm->rs), .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};

	for (;;) {
		struct signalfd_siginfo si;
		char why[64];

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			return;
		if (!(fds[1].revents & POLLIN) ||
		    read(sig_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		snprintf(why, sizeof(why), "stopped by %s",
			 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		vm_request_stop(vm, VM_STOP_SIGNAL, 128 + (int)si.ssi_signo,
				why);
	}
}

void vm_on_started(struct vm *vm, void (*fn)(void *arg), void *arg)
{
	vm->on_started = fn;
	vm->on_started_arg = arg;
}

int vm_add_control_commands(struct vm *vm,
			    int (*fn)(struct control *c, void *opaque),
			    void *opaque)
{
	if (vm->nr_control_groups == 4)
		return -ENOSPC;
	vm->control_groups[vm->nr_control_groups].fn = fn;
	vm->control_groups[vm->nr_control_groups++].opaque = opaque;
	return 0;
}

static int start_control(struct vm *vm)
{
	int ret = vm_control_start(vm, vm->cfg.control_path, &vm->control);

	for (unsigned int i = 0; i < vm->nr_control_groups && !ret; i++)
		ret = vm->control_groups[i].fn(vm->control,
					       vm->control_groups[i].opaque);
	return ret;
}

int vm_run(struct vm *vm)
{
	sigset_t set;
	const char *why;
	int sig_fd = -1, ret, status;

	ret = runstate_block_signals(&set);
	if (!ret) {
		sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
		ret = sig_fd < 0 ? -errno : 0;
	}
	vm->start_ns = clock_now_ns();
	/* vCPUs first: an incoming guest is in its downtime until they run. */
	ret = ret ?: start_vcpus(vm);
	if (!ret && vm->on_started)
		vm->on_started(vm->on_started_arg);
	if (!ret && vm->cfg.control_path)
		ret = start_control(vm);
	if (ret < 0)
		vm_request_stop(vm, VM_STOP_ERROR, 1, strerror(-ret));
	wait_for_stop(vm, sig_fd);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	control_stop(vm->control);
	vm->control = NULL;
	if (sig_fd >= 0)
		close(sig_fd);
	/* Flush what the guest printed before the last line. */
	fflush(stdout);
	status = runstate_stop_status(vm->rs, &why);
	log_info("guest stopped: %s (exit status %d)", why, status);
	return status;
}
