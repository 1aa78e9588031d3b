/* SPDX-License-Identifier: MIT */
/*
 * The VM-wide state KVM holds for the platform: the in-kernel irqchip (two
 * PICs and the IOAPIC), the PIT and the KVM clock, read from a VM and
 * loaded into one that has not run. How they travel is
 * migrate/platform_codec.h's business.
 *
 * Each put has its place in the VM's restore order (the full list is at
 * migrate/vm_state_load.c's load_parsed): the irqchip after every vCPU's
 * LAPIC, since loading the IOAPIC re-delivers pending pins to the LAPICs;
 * the PIT after the irqchip, since KVM_SET_PIT2 re-arms a timer that ticks
 * into it; the clock last, since KVM_SET_CLOCK counts from its call and
 * builds on the TSC the vCPUs' MSRs set.
 */
#ifndef KVMTRACK_PLATFORM_SNAPSHOT_H
#define KVMTRACK_PLATFORM_SNAPSHOT_H

#include <stddef.h>

#include "kvm/kvm.h"

struct platform_snapshot {
	struct kvm_irqchip chips[3]; /* indexed by KVM_IRQCHIP_* */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* Zeroes the three chips and gives each its KVM_IRQCHIP_* id: the form
 * KVM_GET_IRQCHIP and a decoder fill in. */
void irqchip_init(struct platform_snapshot *p);

/* Each get reads one part into p: 0 or -errno (logged by kvm.c). Each put
 * loads it, -errno with the ioctl and the reason in err. */
int irqchip_get(int vm_fd, struct platform_snapshot *p);
int irqchip_put(int vm_fd, const struct platform_snapshot *p, char *err,
		size_t err_len);
int pit_get(int vm_fd, struct platform_snapshot *p);
int pit_put(int vm_fd, const struct platform_snapshot *p, char *err,
	    size_t err_len);
int clock_get(int vm_fd, struct platform_snapshot *p);
/* Loads the clock value alone, without its flags (see clock_put). */
int clock_put(int vm_fd, const struct platform_snapshot *p, char *err,
	      size_t err_len);

#endif
