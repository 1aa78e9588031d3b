/* SPDX-License-Identifier: MIT */
/*
 * The inside of struct vm, private to vm.c.
 * Everything else goes through vm.h.
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
#include "vmm/mem/memory.h"
#include "vmm/runstate.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define VM_MAX_DEVICES 8

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
	uint32_t tsc_khz;
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

#endif
