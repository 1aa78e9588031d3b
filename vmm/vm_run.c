// SPDX-License-Identifier: MIT
/*
 * Running a VM from the main thread: the signals that stop it, the control
 * socket, and the last line that says why the guest stopped. Only vm.h's
 * API: the VM starts and joins its vCPU threads itself.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control/control.h"
#include "lib/log.h"
#include "vmm/commands.h"
#include "vmm/runstate.h"
#include "vmm/vm.h"

/* Waits for a stop request or a signal, turning the signal into a stop. */
static void wait_for_stop(struct vm *vm, int sig_fd)
{
	struct pollfd fds[2] = {
		{ .fd = vm_stop_fd(vm), .events = POLLIN },
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

static int start_control(struct vm *vm, struct control **control)
{
	int ret = vm_control_start(vm, vm_config(vm)->control_path, control);

	return ret ?: vm_register_added_commands(vm, *control);
}

int vm_run(struct vm *vm)
{
	struct control *control = NULL;
	sigset_t set;
	const char *why;
	int sig_fd = -1, ret, status;

	ret = runstate_block_signals(&set);
	if (!ret) {
		sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
		ret = sig_fd < 0 ? -errno : 0;
	}
	/* vCPUs first: an incoming guest is in its downtime until they run. */
	ret = ret ?: vm_start(vm);
	if (!ret && vm_config(vm)->control_path)
		ret = start_control(vm, &control);
	if (ret < 0)
		vm_request_stop(vm, VM_STOP_ERROR, 1, strerror(-ret));
	wait_for_stop(vm, sig_fd);
	vm_join(vm);
	control_stop(control);
	if (sig_fd >= 0)
		close(sig_fd);
	/* Flush what the guest printed before the last line. */
	fflush(stdout);
	status = vm_stop_status(vm, &why);
	log_info("guest stopped: %s (exit status %d)", why, status);
	return status;
}
