/* SPDX-License-Identifier: MIT */
/*
 * One vCPU's state as KVM holds it, read and loaded in the order the KVM
 * ABI needs (the reasons are at vcpu_snapshot_get and vcpu_snapshot_put in
 * vcpu_snapshot.c). The snapshot holds KVM's uapi structs in memory only:
 * how it travels is migrate/vcpu_codec.h's business.
 */
#ifndef KVMTRACK_VCPU_SNAPSHOT_H
#define KVMTRACK_VCPU_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/kvm.h"

/* What this host's KVM offers for the FPU and extended state, per VM. */
struct vcpu_caps {
	bool xsave; /* KVM_CAP_XSAVE: else only KVM_GET_FPU */
	bool xsave2; /* KVM_CAP_XSAVE2: KVM_GET_XSAVE2 of xsave_bytes */
	uint32_t xsave_bytes; /* >= sizeof(struct kvm_xsave) */
	bool xcrs; /* KVM_CAP_XCRS */
};
int vcpu_caps_probe(int vm_fd, struct vcpu_caps *caps);

/* MSRs to migrate: IA32_TSC first, then KVM_GET_MSR_INDEX_LIST's MSRs
 * that KVM_GET_MSRS can read on this VM. */
struct msr_list {
	uint32_t *indices;
	uint32_t count;
};
int msr_list_build(const struct kvm_sys *sys, struct kvm_vcpu *vcpu,
		   struct msr_list *list);
void msr_list_free(struct msr_list *list);

struct vcpu_snapshot {
	uint32_t index;
	uint32_t mp_state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	bool has_xsave; /* else fpu */
	uint32_t xsave_bytes;
	struct kvm_xsave *xsave; /* malloc'ed, xsave_bytes long */
	struct kvm_fpu fpu;
	bool has_xcrs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	uint32_t nr_msrs;
	struct kvm_msr_entry *msrs; /* malloc'ed */
	struct kvm_vcpu_events events;
};

/* Reads the state of a vCPU that is out of KVM_RUN into s (which it
 * zeroes first): 0 or -errno. Free s with vcpu_snapshot_free() either way. */
int vcpu_snapshot_get(struct kvm_vcpu *vcpu, const struct vcpu_caps *caps,
		      const struct msr_list *msrs, struct vcpu_snapshot *s);
/* Loads s into a vCPU that has not run, in the order the KVM ABI needs;
 * -errno with the step that failed named in err. */
int vcpu_snapshot_put(struct kvm_vcpu *vcpu, const struct vcpu_caps *caps,
		      const struct vcpu_snapshot *s, char *err, size_t err_len);
void vcpu_snapshot_free(struct vcpu_snapshot *s);

#endif
