/* SPDX-License-Identifier: MIT */
/*
 * The inside of struct vm and struct vcpu, shared by vm.c, vcpu.c and
 * exit_report.c only. Everything else goes through vm.h.
 */
#ifndef KVMTRACK_VM_IMPL_H
#define KVMTRACK_VM_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/mem/bus.h"
#include "vmm/vm_config.h"
#include "vmm/dirty/dirty.h"
#include "vmm/fdt.h"
#include "kvm/kvm.h"
#include "vmm/boot/loader.h"
#include "vmm/mem/memory.h"
#include "vmm/runstate.h"
#include "vmm/vm.h"

#define VM_MAX_DEVICES 8

/* Per-vCPU exit counters, read (relaxed) by the stats command. */
struct vcpu_stats {
	uint64_t exits;
	uint64_t io;
	uint64_t mmio;
	uint64_t intr;
};

struct vcpu {
	struct vm *vm;
	unsigned int index;
	struct kvm_vcpu kvm;
	struct runstate_thread thread;
	struct vcpu_stats stats;
	size_t disasm; /* capstone handle, opened on first use (0: none) */
	/*
	 * The registers as kvmtrack last read them: before the vCPU's first
	 * run, and at each exit --trace-exits reports. KVM on AMD SVM resets
	 * a vCPU before it reports a triple fault, so this is all a report of
	 * one can show (exit_report.c).
	 */
	struct {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		uint64_t exit_nr; /* its exit count then; 0: before it ran */
		bool valid;
	} seen;
};

struct control;

struct vm {
	struct vm_config cfg;
	struct kvm_sys sys;
	int vm_fd;
	struct guest_mem mem;
	struct bus bus;
	struct vcpu vcpus[VM_MAX_CPUS];
	unsigned int nr_vcpus;
	struct fdt_device devices[VM_MAX_DEVICES];
	unsigned int nr_devices;
	struct boot_plan plan;
	uint32_t tsc_khz;
	struct control *control;
	struct {
		int (*fn)(struct control *c, void *opaque);
		void *opaque;
	} control_groups[4];
	unsigned int nr_control_groups;
	bool threads_created; /* vm_prestart() */
	void (*on_started)(void *arg);
	void *on_started_arg;
	struct dirty_tracker *dirty;
	uint64_t start_ns;

	struct runstate *rs;
};

/* vcpu.c */
int vcpu_init(struct vm *vm, struct vcpu *vcpu, unsigned int index);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/* exit_report.c: stops the VM with a report of an unexpected exit. */
void exit_report_unexpected(struct vcpu *vcpu, const char *what);
/* The instruction at RIP, disassembled: "0x...: mnemonic operands". */
void exit_report_insn(struct vcpu *vcpu, char *out, size_t len);
/* One trace line for --trace-exits. */
void exit_report_trace(struct vcpu *vcpu);
/* Reads the vCPU's registers into vcpu->seen (before its first run). */
void exit_report_remember(struct vcpu *vcpu);
void exit_report_close(struct vcpu *vcpu);

#endif
