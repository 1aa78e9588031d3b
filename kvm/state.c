// SPDX-License-Identifier: MIT
/*
 * The KVM layer's wrappers for machine state (kvm.h): what migration saves
 * and restores, vCPU by vCPU (MSRs, FPU/XSAVE, XCRs, LAPIC, events, debug
 * registers, MP state) and for the VM (irqchip, PIT, clock).
 */
#include "kvm/kvm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/ioctl.h"
#include "lib/log.h"

int kvm_vm_check_extension(int vm_fd, long cap)
{
	return kvm_ioctl_raw(vm_fd, KVM_CHECK_EXTENSION, (unsigned long)cap,
			     "KVM_CHECK_EXTENSION", "vm", true);
}

int kvm_get_msr_index_list(const struct kvm_sys *sys, uint32_t **indices,
			   uint32_t *count)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;
	int ret;

	/* A list of 0 entries fails with E2BIG and tells the real count. */
	KVM_IOCTL_ARG_CHECK(KVM_GET_MSR_INDEX_LIST, &probe);
	ret = kvm_ioctl_raw(sys->fd, KVM_GET_MSR_INDEX_LIST,
			    (unsigned long)&probe, "KVM_GET_MSR_INDEX_LIST",
			    "/dev/kvm", true);
	if (ret < 0 && ret != -E2BIG) {
		log_err("kvm: KVM_GET_MSR_INDEX_LIST (/dev/kvm): %s",
			strerror(-ret));
		return ret;
	}
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	ret = KVM_IOCTL(sys->fd, KVM_GET_MSR_INDEX_LIST, list, "/dev/kvm");
	if (ret < 0) {
		free(list);
		return ret;
	}
	*count = list->nmsrs;
	*indices = malloc((list->nmsrs ?: 1) * sizeof(uint32_t));
	if (!*indices) {
		free(list);
		return -ENOMEM;
	}
	memcpy(*indices, list->indices, list->nmsrs * sizeof(uint32_t));
	free(list);
	return 0;
}

/* The struct kvm_msrs header is what the ioctl number encodes; the
 * entries follow it. */
int kvm_get_msrs(struct kvm_vcpu *vcpu, struct kvm_msrs *msrs)
{
	return VCPU_IOCTL(vcpu, KVM_GET_MSRS, msrs);
}

int kvm_set_msrs(struct kvm_vcpu *vcpu, const struct kvm_msrs *msrs)
{
	return VCPU_IOCTL(vcpu, KVM_SET_MSRS, msrs);
}

int kvm_get_mp_state(struct kvm_vcpu *vcpu, uint32_t *mp_state)
{
	struct kvm_mp_state state = { 0 };
	int ret = VCPU_IOCTL(vcpu, KVM_GET_MP_STATE, &state);

	if (ret >= 0)
		*mp_state = state.mp_state;
	return ret;
}

int kvm_get_fpu(struct kvm_vcpu *vcpu, struct kvm_fpu *fpu)
{
	return VCPU_IOCTL(vcpu, KVM_GET_FPU, fpu);
}

int kvm_set_fpu(struct kvm_vcpu *vcpu, const struct kvm_fpu *fpu)
{
	return VCPU_IOCTL(vcpu, KVM_SET_FPU, fpu);
}

int kvm_get_xsave(struct kvm_vcpu *vcpu, struct kvm_xsave *xsave, bool xsave2)
{
	if (xsave2)
		return VCPU_IOCTL(vcpu, KVM_GET_XSAVE2, xsave);
	return VCPU_IOCTL(vcpu, KVM_GET_XSAVE, xsave);
}

int kvm_set_xsave(struct kvm_vcpu *vcpu, const struct kvm_xsave *xsave)
{
	return VCPU_IOCTL(vcpu, KVM_SET_XSAVE, xsave);
}

int kvm_get_xcrs(struct kvm_vcpu *vcpu, struct kvm_xcrs *xcrs)
{
	return VCPU_IOCTL(vcpu, KVM_GET_XCRS, xcrs);
}

int kvm_set_xcrs(struct kvm_vcpu *vcpu, const struct kvm_xcrs *xcrs)
{
	return VCPU_IOCTL(vcpu, KVM_SET_XCRS, xcrs);
}

int kvm_get_lapic(struct kvm_vcpu *vcpu, struct kvm_lapic_state *lapic)
{
	return VCPU_IOCTL(vcpu, KVM_GET_LAPIC, lapic);
}

int kvm_set_lapic(struct kvm_vcpu *vcpu, const struct kvm_lapic_state *lapic)
{
	return VCPU_IOCTL(vcpu, KVM_SET_LAPIC, lapic);
}

int kvm_get_vcpu_events(struct kvm_vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	return VCPU_IOCTL(vcpu, KVM_GET_VCPU_EVENTS, ev);
}

int kvm_set_vcpu_events(struct kvm_vcpu *vcpu,
			const struct kvm_vcpu_events *ev)
{
	return VCPU_IOCTL(vcpu, KVM_SET_VCPU_EVENTS, ev);
}

int kvm_get_debugregs(struct kvm_vcpu *vcpu, struct kvm_debugregs *dregs)
{
	return VCPU_IOCTL(vcpu, KVM_GET_DEBUGREGS, dregs);
}

int kvm_set_debugregs(struct kvm_vcpu *vcpu,
		      const struct kvm_debugregs *dregs)
{
	return VCPU_IOCTL(vcpu, KVM_SET_DEBUGREGS, dregs);
}

static const char *irqchip_name(uint32_t chip_id)
{
	switch (chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
		return "PIC master";
	case KVM_IRQCHIP_PIC_SLAVE:
		return "PIC slave";
	case KVM_IRQCHIP_IOAPIC:
		return "IOAPIC";
	}
	return "unknown irqchip";
}

int kvm_get_irqchip(int vm_fd, struct kvm_irqchip *chip)
{
	return KVM_IOCTL(vm_fd, KVM_GET_IRQCHIP, chip,
			 irqchip_name(chip->chip_id));
}

int kvm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip)
{
	return KVM_IOCTL(vm_fd, KVM_SET_IRQCHIP, chip,
			 irqchip_name(chip->chip_id));
}

int kvm_get_pit2(int vm_fd, struct kvm_pit_state2 *pit)
{
	return KVM_IOCTL(vm_fd, KVM_GET_PIT2, pit, "vm");
}

int kvm_set_pit2(int vm_fd, const struct kvm_pit_state2 *pit)
{
	return KVM_IOCTL(vm_fd, KVM_SET_PIT2, pit, "vm");
}

int kvm_get_clock(int vm_fd, struct kvm_clock_data *clock)
{
	return KVM_IOCTL(vm_fd, KVM_GET_CLOCK, clock, "vm");
}

int kvm_set_clock(int vm_fd, const struct kvm_clock_data *clock)
{
	return KVM_IOCTL(vm_fd, KVM_SET_CLOCK, clock, "vm");
}
