// SPDX-License-Identifier: MIT
/*
 * vCPU threads and the exit loop. Each vCPU runs KVM_RUN in its own thread
 * and dispatches port I/O and MMIO exits to the bus; runstate.c parks it
 * while the VM is paused and kicks it out of KVM_RUN.
 */
#include "vmm/vcpu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json/json.h"
#include "lib/log.h"
#include "vmm/alias/alias.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/bus.h"
#include "vmm/unclaimed.h"

int vcpu_init(struct vcpu *vcpu, const struct vcpu_env *env,
	      const struct kvm_sys *sys, int vm_fd, unsigned int index)
{
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->env = *env;
	vcpu->index = index;
	vcpu->kvm.fd = -1;
	vcpu->thread.kvm = &vcpu->kvm;
	exit_report_init(&vcpu->report, &vcpu->kvm, env->mem, index);
	ret = kvm_vcpu_create(sys, vm_fd, index, &vcpu->kvm);
	if (ret >= 0)
		runstate_add_thread(env->rs, &vcpu->thread);
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	exit_report_close(&vcpu->report);
	kvm_vcpu_destroy(&vcpu->kvm);
}

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* Reports an exit kvmtrack cannot handle and stops the VM with it. */
static void unexpected_exit(struct vcpu *vcpu, const char *what)
{
	char why[256];

	exit_report_unexpected(&vcpu->report, what, why, sizeof(why));
	runstate_request_stop(vcpu->env.rs, VM_STOP_UNEXPECTED, 3, why);
}

static void unexpected_access(struct vcpu *vcpu, const char *space,
			      uint64_t addr, uint32_t len, bool is_write,
			      int err)
{
	char what[160];

	if (err == -ENOENT)
		snprintf(what, sizeof(what),
			 "%s of %u byte%s at unknown %s 0x%llx",
			 is_write ? "write" : "read", len, len == 1 ? "" : "s",
			 space, (unsigned long long)addr);
	else
		snprintf(what, sizeof(what), "%s %s 0x%llx failed: %s",
			 space, is_write ? "write" : "read",
			 (unsigned long long)addr, strerror(-err));
	unexpected_exit(vcpu, what);
}

/*
 * An access no device claims: answered as an empty bus does and counted,
 * unless --strict-io makes it a bug. Returns false when the VM stops.
 */
static bool unclaimed(struct vcpu *vcpu, enum bus_space space, uint64_t addr,
		      uint8_t *data, uint32_t len, bool is_write)
{
	const char *name = space == BUS_PIO ? "port" : "MMIO address";

	if (vcpu->env.strict_io) {
		unexpected_access(vcpu, name, addr, len, is_write, -ENOENT);
		return false;
	}
	if (unclaimed_access(vcpu->env.unclaimed, space, addr, data, len,
			     is_write) &&
	    vcpu->env.trace_exits)
		log_info("vcpu %u: unclaimed %s 0x%llx (%s of %u byte%s): reads give all ones, writes are dropped; counted in stats",
			 vcpu->index, name, (unsigned long long)addr,
			 is_write ? "write" : "read", len, len == 1 ? "" : "s");
	return true;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	count(&vcpu->stats.io);
	/* String I/O (rep outsb etc.) arrives as count back-to-back items. */
	for (uint32_t i = 0; i < run->io.count; i++) {
		int ret = bus_dispatch(vcpu->env.bus, BUS_PIO, run->io.port,
				       data, run->io.size, is_write);

		if (ret == -ENOENT && !unclaimed(vcpu, BUS_PIO, run->io.port,
						 data, run->io.size, is_write))
			return;
		if (ret < 0 && ret != -ENOENT) {
			unexpected_access(vcpu, "port", run->io.port,
					  run->io.size, is_write, ret);
			return;
		}
		data += run->io.size;
	}
}

/*
 * A guest write into a read-only alias or shared file arrives as an MMIO
 * write exit; memory was not changed. Returns false when the address is
 * in no window, so it is an unknown MMIO address.
 */
static bool handle_alias_write(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	char insn[160] = "";
	int policy;

	if (!run->mmio.is_write ||
	    !alias_covers(vcpu->env.mem, run->mmio.phys_addr, run->mmio.len,
			  &policy))
		return false;
	if (policy != ALIAS_WRITE_IGNORE)
		exit_report_insn(&vcpu->report, insn, sizeof(insn));
	if (alias_trap_write(vcpu->env.mem, vcpu->index, run->mmio.phys_addr,
			     run->mmio.data, run->mmio.len, insn) < 0)
		return false;
	if (policy == ALIAS_WRITE_STOP)
		runstate_request_pause(vcpu->env.rs);
	return true;
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	int ret;

	count(&vcpu->stats.mmio);
	ret = bus_dispatch(vcpu->env.bus, BUS_MMIO, run->mmio.phys_addr,
			   run->mmio.data, run->mmio.len, run->mmio.is_write);
	if (ret == -ENOENT && handle_alias_write(vcpu))
		return;
	if (ret == -ENOENT) {
		unclaimed(vcpu, BUS_MMIO, run->mmio.phys_addr, run->mmio.data,
			  run->mmio.len, run->mmio.is_write);
		return;
	}
	if (ret < 0)
		unexpected_access(vcpu, "MMIO address", run->mmio.phys_addr,
				  run->mmio.len, run->mmio.is_write, ret);
}

static void handle_system_event(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;

	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		runstate_request_stop(vcpu->env.rs, VM_STOP_GUEST_EXIT, 0,
				      "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		runstate_request_stop(
			vcpu->env.rs, VM_STOP_GUEST_EXIT, 0,
			"guest asked for a reset; kvmtrack stops instead");
		break;
	default:
		unexpected_exit(vcpu, "system event");
	}
}

static void handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;

	count(&vcpu->stats.exits);
	if (vcpu->env.trace_exits)
		exit_report_trace(&vcpu->report, vcpu->stats.exits);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		break;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		break;
	case KVM_EXIT_INTR:
		count(&vcpu->stats.intr);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		break;
	case KVM_EXIT_DIRTY_RING_FULL:
		/* The ring is full: empty it, or the vCPU cannot go on. */
		if (dirty_ring_full(vcpu->env.dirty, vcpu->index) < 0)
			unexpected_exit(vcpu, "dirty ring harvest failed");
		break;
	case KVM_EXIT_SHUTDOWN:
		unexpected_exit(vcpu, "triple fault (shutdown)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		unexpected_exit(vcpu, run->internal.suberror ==
					      KVM_INTERNAL_ERROR_EMULATION
					  ? "emulation failure"
					  : "KVM internal error");
		break;
	default:
		unexpected_exit(vcpu, "unhandled exit");
	}
}

/*
 * KVM finishes a port or MMIO access (RIP past the instruction, a read's
 * data in its register) only when KVM_RUN is entered again. A vCPU that
 * parks right after handling one would leave the instruction half done in
 * the state a migration saves: the destination would execute it again (a
 * second "b" of a "hb" line was seen on the console). KVM_RUN with
 * immediate_exit set completes it and returns at once, running no guest
 * code (KVM API documentation, KVM_RUN).
 */
static void settle(void *arg)
{
	struct vcpu *vcpu = arg;

	if (!vcpu->io_pending)
		return;
	vcpu->kvm.run->immediate_exit = 1;
	(void)kvm_vcpu_run(&vcpu->kvm);
	vcpu->io_pending = false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);
	runstate_thread_init();

	while (runstate_wait_runnable(vcpu->env.rs, vcpu->kvm.run, settle,
				      vcpu)) {
		int ret;

		/* Once, before the first exit: never again on the exit path,
		 * even when reading the registers failed. */
		if (!vcpu->report.seen.valid && !vcpu->stats.exits)
			exit_report_remember(&vcpu->report);
		ret = kvm_vcpu_run(&vcpu->kvm);
		vcpu->io_pending = false;

		if (ret == -EINTR) {
			count(&vcpu->stats.intr);
			continue;
		}
		if (ret < 0) {
			char why[96];

			snprintf(why, sizeof(why), "KVM_RUN on vcpu %u: %s",
				 vcpu->index, strerror(-ret));
			runstate_request_stop(vcpu->env.rs, VM_STOP_ERROR, 1,
					      why);
			continue;
		}
		handle_exit(vcpu);
		vcpu->io_pending = vcpu->kvm.run->exit_reason == KVM_EXIT_IO ||
				   vcpu->kvm.run->exit_reason == KVM_EXIT_MMIO;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread.id, NULL, vcpu_thread, vcpu);

	if (ret) {
		log_err("vcpu %u: pthread_create: %s", vcpu->index,
			strerror(ret));
		return -ret;
	}
	vcpu->thread.started = true;
	return 0;
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->thread.started)
		pthread_join(vcpu->thread.id, NULL);
	vcpu->thread.started = false;
}

static uint64_t load_counter(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void vcpu_stats_json(const struct vcpu *vcpu, struct jw *w)
{
	const struct vcpu_stats *s = &vcpu->stats;

	jw_object_begin(w, NULL);
	jw_u64(w, "index", vcpu->index);
	jw_u64(w, "exits", load_counter(&s->exits));
	jw_u64(w, "io_exits", load_counter(&s->io));
	jw_u64(w, "mmio_exits", load_counter(&s->mmio));
	jw_u64(w, "kicks", load_counter(&s->intr));
	jw_object_end(w);
}
