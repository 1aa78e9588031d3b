/* SPDX-License-Identifier: MIT */
/*
 * A vCPU: its KVM object, its thread and the exit loop that thread runs
 * (vcpu.c). The VM (vm.c) owns the vCPUs; a vCPU sees of the VM only its
 * struct vcpu_env.
 */
#ifndef KVMTRACK_VCPU_H
#define KVMTRACK_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm.h"
#include "vmm/exit_report.h"
#include "vmm/runstate.h"

struct bus;
struct guest_mem;
struct dirty_tracker;
struct jw;
struct unclaimed;

/*
 * What a vCPU's exits need of its VM: the run state it parks on and stops,
 * the bus its port I/O and MMIO go to, guest memory (with its aliases,
 * whose trapped writes arrive as MMIO exits), the dirty tracker that
 * empties a full dirty ring, where accesses to nothing are counted, and
 * whether to trace every exit and to stop at an access to nothing. Copied into
 * each vCPU, so an exit reaches them with no more loads than before.
 */
struct vcpu_env {
	struct runstate *rs;
	const struct bus *bus;
	struct guest_mem *mem;
	struct dirty_tracker *dirty;
	struct unclaimed *unclaimed; /* accesses no device claims */
	bool trace_exits;
	bool strict_io; /* such an access stops the VM (--strict-io) */
};

/* Per-vCPU exit counters, read (relaxed) by the stats command. */
struct vcpu_stats {
	uint64_t exits;
	uint64_t io;
	uint64_t mmio;
	uint64_t intr;
};

struct vcpu {
	struct vcpu_env env;
	unsigned int index;
	struct kvm_vcpu kvm;
	struct runstate_thread thread;
	struct vcpu_stats stats;
	struct exit_reporter report;
	/* An I/O exit was handled and KVM_RUN has not completed its
	 * instruction yet (vcpu_thread only). */
	bool io_pending;
};

/* Creates vCPU `index` of the VM vm_fd, which keeps a copy of env, and
 * lists its thread in env->rs. 0 or -errno. */
int vcpu_init(struct vcpu *vcpu, const struct vcpu_env *env,
	      const struct kvm_sys *sys, int vm_fd, unsigned int index);
void vcpu_destroy(struct vcpu *vcpu);

/* Starts the vCPU's thread, which runs while the run state lets it. */
int vcpu_start(struct vcpu *vcpu);
/* Waits for the thread to end (after a stop request). */
void vcpu_join(struct vcpu *vcpu);

/* Writes the vCPU's object in the `stats` reply's "vcpus" array. */
void vcpu_stats_json(const struct vcpu *vcpu, struct jw *w);

#endif
