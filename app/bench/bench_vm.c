// SPDX-License-Identifier: MIT
/*
 * The few things `bench dirtylog` needs from inside struct vm: the test
 * device's state, the VM fd and vCPUs for the bare ioctls, the TSC rate.
 * vm.h has no accessors for them yet; they are kept in this one file so
 * that they can move behind vm.h in one step.
 */
#include "devices/registry.h"
#include "app/bench/dirtylog.h"
#include "vmm/vm_impl.h"

struct testdev *bench_vm_testdev(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].ops == &testdev_ops)
			return vm->devices[i].state;
	return NULL;
}

int bench_vm_fd(struct vm *vm)
{
	return vm->vm_fd;
}

uint32_t bench_vm_tsc_khz(struct vm *vm)
{
	return vm->tsc_khz;
}

struct kvm_vcpu *bench_vm_vcpu(struct vm *vm, unsigned int index)
{
	return index < vm->nr_vcpus ? &vm->vcpus[index].kvm : NULL;
}
