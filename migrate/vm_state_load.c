// SPDX-License-Identifier: MIT
/*
 * Loading a parsed machine-state stream (vm_state.h) into a VM that has
 * not run, in the order the KVM ABI needs.
 */
#include "migrate/vm_state.h"

#include <errno.h>
#include <stdio.h>

#include "kvm/platform_snapshot.h"
#include "kvm/vcpu_snapshot.h"
#include "migrate/vm_state_parse.h"
#include "vmm/device.h"
#include "vmm/fdt.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

static int load_device(struct vm *vm, const struct device_section *sec,
		       char *err, size_t err_len)
{
	struct rbuf b = sec->block;
	char why[256];
	int ret;

	for (unsigned int i = 0; i < vm_nr_devices(vm); i++) {
		const struct fdt_device *d = vm_device(vm, i);

		if (d->ops != sec->ops)
			continue;
		why[0] = '\0';
		ret = d->ops->load(d->state, &b, sec->version, why, sizeof(why));
		if (!ret && rbuf_left(&b)) {
			snprintf(why, sizeof(why), "%zu bytes left over",
				 rbuf_left(&b));
			ret = -EBADMSG;
		}
		if (ret < 0)
			snprintf(err, err_len,
				 "section '" VM_STATE_DEVICE_PREFIX "%s': %s",
				 d->ops->name, why);
		return ret;
	}
	snprintf(err, err_len, "section '" VM_STATE_DEVICE_PREFIX "%s': this VM has no such device",
		 sec->ops->name);
	return -EINVAL;
}

/*
 * The VM-level order, each constraint with its reason:
 *  1. Every vCPU (its own order is at vcpu_snapshot_put) before the
 *     irqchip: loading the IOAPIC re-delivers the pins whose IRR bit is set,
 *     to LAPICs chosen by their IDs and destination modes, so the LAPICs
 *     must hold their loaded state or the interrupt lands in a reset LAPIC
 *     that SET_LAPIC then overwrites.
 *  2. The irqchip before the PIT: KVM_SET_PIT2 re-arms channel 0's timer,
 *     whose ticks must find the PIC and IOAPIC programmed (vector base,
 *     masks), not in their power-on state.
 *  3. Devices: their IRQ lines need no replay. The PIC and IOAPIC IRR
 *     carry what was pending, and a device's next change of level is
 *     what KVM must see next.
 *  4. The KVM clock last, just before the vCPUs may run: KVM_SET_CLOCK
 *     counts from the moment it is called, and the TSC writes above
 *     (IA32_TSC) update the kvmclock master copy it is based on.
 */
static int load_parsed(struct vm *vm, const struct vm_state_parsed *p,
		       char *err, size_t err_len)
{
	struct vcpu_caps caps;
	int ret = 0;

	vcpu_caps_probe(vm_kvm_fd(vm), &caps);
	for (unsigned int i = 0; i < vm_nr_vcpus(vm) && !ret; i++)
		ret = vcpu_snapshot_put(vm_kvm_vcpu(vm, i), &caps, &p->vcpus[i],
					err, err_len);
	ret = ret ?: irqchip_put(vm_kvm_fd(vm), &p->platform, err, err_len);
	ret = ret ?: pit_put(vm_kvm_fd(vm), &p->platform, err, err_len);
	for (unsigned int i = 0; i < p->nr_devices && !ret; i++)
		ret = load_device(vm, &p->devices[i], err, err_len);
	ret = ret ?: clock_put(vm_kvm_fd(vm), &p->platform, err, err_len);
	return ret;
}

int vm_state_load(struct vm *vm, struct rbuf *r, char *err, size_t err_len)
{
	/* About 2 KiB without the vCPUs: on the stack, whose pages are warm,
	 * rather than in fresh heap pages (see struct vm_state_parsed). */
	struct vm_state_parsed parsed = { 0 }, *p = &parsed;
	int ret;

	if (vm_has_run(vm) || vm_get_state(vm) == VM_STOPPED) {
		snprintf(err, err_len, "the VM is %s: state loads only into a VM that has not run",
			 vm_state_name(vm_get_state(vm)));
		return -EBUSY;
	}
	/* Prestarted vCPU threads (a migration destination) get ready to
	 * run while the state loads, rather than on the resume. */
	vm_expect_resume(vm);
	ret = vm_state_parse(r, p, err, err_len);
	if (!ret && p->nr_vcpus != vm_nr_vcpus(vm)) {
		snprintf(err, err_len,
			 "section 'machine': vCPU count mismatch: the stream has %u, this VM %u",
			 p->nr_vcpus, vm_nr_vcpus(vm));
		ret = -EINVAL;
	}
	if (!ret && p->mem_bytes != vm_mem(vm)->ram_bytes) {
		snprintf(err, err_len,
			 "section 'machine': RAM size mismatch: the stream has %llu bytes, this VM %llu",
			 (unsigned long long)p->mem_bytes,
			 (unsigned long long)vm_mem(vm)->ram_bytes);
		ret = -EINVAL;
	}
	ret = ret ?: load_parsed(vm, p, err, err_len);
	vm_state_parsed_free(p);
	return ret;
}
