// SPDX-License-Identifier: MIT
/*
 * The platform's KVM state (platform_snapshot.h): the in-kernel irqchip,
 * the PIT and the KVM clock, each read from the VM and loaded into a fresh
 * one. The order they are loaded in is the VM's (platform_snapshot.h).
 */
#include "kvm/platform_snapshot.h"

#include <stdio.h>
#include <string.h>

static const uint32_t chip_ids[3] = { KVM_IRQCHIP_PIC_MASTER,
				      KVM_IRQCHIP_PIC_SLAVE,
				      KVM_IRQCHIP_IOAPIC };

void irqchip_init(struct platform_snapshot *p)
{
	for (int i = 0; i < 3; i++) {
		memset(&p->chips[i], 0, sizeof(p->chips[i]));
		p->chips[i].chip_id = chip_ids[i];
	}
}

int irqchip_get(int vm_fd, struct platform_snapshot *p)
{
	irqchip_init(p);
	for (int i = 0; i < 3; i++) {
		int ret = kvm_get_irqchip(vm_fd, &p->chips[i]);

		if (ret < 0)
			return ret;
	}
	return 0;
}

int irqchip_put(int vm_fd, const struct platform_snapshot *p, char *err,
		size_t err_len)
{
	static const char *const names[3] = { "pic_master", "pic_slave",
					      "ioapic" };

	for (int i = 0; i < 3; i++) {
		int ret = kvm_set_irqchip(vm_fd, &p->chips[i]);

		if (ret < 0) {
			snprintf(err, err_len, "irqchip: %s: KVM_SET_IRQCHIP: %s",
				 names[i], strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int pit_get(int vm_fd, struct platform_snapshot *p)
{
	memset(&p->pit, 0, sizeof(p->pit));
	return kvm_get_pit2(vm_fd, &p->pit);
}

int pit_put(int vm_fd, const struct platform_snapshot *p, char *err,
	    size_t err_len)
{
	int ret = kvm_set_pit2(vm_fd, &p->pit);

	if (ret < 0)
		snprintf(err, err_len, "pit: KVM_SET_PIT2: %s", strerror(-ret));
	return ret;
}

int clock_get(int vm_fd, struct platform_snapshot *p)
{
	memset(&p->clock, 0, sizeof(p->clock));
	return kvm_get_clock(vm_fd, &p->clock);
}

/*
 * Only the clock value, no flags: the guest's kvmclock resumes where it was
 * saved, as its TSC does (IA32_TSC), instead of jumping by the time the
 * migration took, which KVM_CLOCK_REALTIME would add.
 */
int clock_put(int vm_fd, const struct platform_snapshot *p, char *err,
	      size_t err_len)
{
	struct kvm_clock_data data = { .clock = p->clock.clock };
	int ret = kvm_set_clock(vm_fd, &data);

	if (ret < 0)
		snprintf(err, err_len, "clock: KVM_SET_CLOCK: %s",
			 strerror(-ret));
	return ret;
}
