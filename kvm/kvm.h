/* SPDX-License-Identifier: MIT */
/*
 * The one way into KVM. Only kvm.c calls ioctl() on KVM file descriptors.
 *
 * Every wrapper checks its result and returns 0 (or a non-negative value
 * such as a new fd) or -errno, having logged the ioctl's name, the object
 * and the reason. KVM_IOCTL() also checks at compile time that the argument
 * has the size encoded in the ioctl number, as the KVM selftests do.
 */
#ifndef KVMTRACK_KVM_H
#define KVMTRACK_KVM_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

struct kvm_sys {
	int fd; /* /dev/kvm */
	int vcpu_mmap_bytes;
	struct kvm_cpuid2 *supported_cpuid; /* KVM_GET_SUPPORTED_CPUID */
};

struct kvm_vcpu {
	int fd;
	uint32_t id;
	struct kvm_run *run; /* mmap'ed, vcpu_mmap_bytes long */
	int run_bytes;
};

/* System level. */
int kvm_sys_open(struct kvm_sys *sys);
void kvm_sys_close(struct kvm_sys *sys);
int kvm_check_extension(const struct kvm_sys *sys, long cap);

/* VM level. */
int kvm_vm_create(const struct kvm_sys *sys);
int kvm_set_memslot(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		    uint64_t size_bytes, void *hva);
int kvm_create_irqchip(int vm_fd);
int kvm_create_pit2(int vm_fd);
int kvm_set_tss_addr(int vm_fd, uint64_t gpa);
int kvm_set_identity_map_addr(int vm_fd, uint64_t gpa);
int kvm_irq_line(int vm_fd, uint32_t gsi, int level);
int kvm_enable_cap(int vm_fd, uint32_t cap, uint64_t arg0);

/* Dirty logging. bitmap holds one bit per page of the slot. */
int kvm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap);
/* Clears (and write-protects again) num_pages from first_page: both must
 * be multiples of 64, except a num_pages that reaches the slot's end. */
int kvm_clear_dirty_log(int vm_fd, uint32_t slot, uint64_t first_page,
			uint32_t num_pages, uint64_t *bitmap);
/* Returns how many entries KVM reset (see kvm.c on signals). */
int kvm_reset_dirty_rings(int vm_fd);

/* vCPU level. */
int kvm_vcpu_create(const struct kvm_sys *sys, int vm_fd, uint32_t id,
		    struct kvm_vcpu *vcpu);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);
/* KVM_RUN: 0, or -EINTR when kicked, or -errno (logged). */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);
int kvm_get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs);
int kvm_set_regs(struct kvm_vcpu *vcpu, const struct kvm_regs *regs);
int kvm_get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);
int kvm_set_sregs(struct kvm_vcpu *vcpu, const struct kvm_sregs *sregs);
int kvm_set_mp_state(struct kvm_vcpu *vcpu, uint32_t mp_state);
int kvm_set_cpuid(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
int kvm_translate(struct kvm_vcpu *vcpu, uint64_t gva, uint64_t *gpa);
int kvm_get_tsc_khz(struct kvm_vcpu *vcpu);
/* The vCPU's dirty ring: kvm/dirty_ring.h. */

/*
 * Machine state for migration (migrate/vm_state*.c). Each get/set pair
 * moves one KVM state object; the VM must not be running.
 */
/* KVM_CHECK_EXTENSION on the VM fd (answers for this VM): >= 0 or -errno. */
int kvm_vm_check_extension(int vm_fd, long cap);
/* KVM_GET_MSR_INDEX_LIST: a malloc'ed array of *count indices. */
int kvm_get_msr_index_list(const struct kvm_sys *sys, uint32_t **indices,
			   uint32_t *count);
/* KVM_GET_MSRS / KVM_SET_MSRS: the number of MSRs KVM processed, which
 * stops at the first MSR it refuses (not an error), or -errno. */
int kvm_get_msrs(struct kvm_vcpu *vcpu, struct kvm_msrs *msrs);
int kvm_set_msrs(struct kvm_vcpu *vcpu, const struct kvm_msrs *msrs);
int kvm_get_mp_state(struct kvm_vcpu *vcpu, uint32_t *mp_state);
int kvm_get_fpu(struct kvm_vcpu *vcpu, struct kvm_fpu *fpu);
int kvm_set_fpu(struct kvm_vcpu *vcpu, const struct kvm_fpu *fpu);
/* xsave points to a buffer of KVM_CAP_XSAVE2's size when xsave2 (at least
 * sizeof(struct kvm_xsave) otherwise); KVM_SET_XSAVE reads the same size. */
int kvm_get_xsave(struct kvm_vcpu *vcpu, struct kvm_xsave *xsave, bool xsave2);
int kvm_set_xsave(struct kvm_vcpu *vcpu, const struct kvm_xsave *xsave);
int kvm_get_xcrs(struct kvm_vcpu *vcpu, struct kvm_xcrs *xcrs);
int kvm_set_xcrs(struct kvm_vcpu *vcpu, const struct kvm_xcrs *xcrs);
int kvm_get_lapic(struct kvm_vcpu *vcpu, struct kvm_lapic_state *lapic);
int kvm_set_lapic(struct kvm_vcpu *vcpu, const struct kvm_lapic_state *lapic);
int kvm_get_vcpu_events(struct kvm_vcpu *vcpu, struct kvm_vcpu_events *ev);
int kvm_set_vcpu_events(struct kvm_vcpu *vcpu,
			const struct kvm_vcpu_events *ev);
int kvm_get_debugregs(struct kvm_vcpu *vcpu, struct kvm_debugregs *dregs);
int kvm_set_debugregs(struct kvm_vcpu *vcpu,
		      const struct kvm_debugregs *dregs);
/* chip->chip_id selects KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE or _IOAPIC. */
int kvm_get_irqchip(int vm_fd, struct kvm_irqchip *chip);
int kvm_set_irqchip(int vm_fd, const struct kvm_irqchip *chip);
int kvm_get_pit2(int vm_fd, struct kvm_pit_state2 *pit);
int kvm_set_pit2(int vm_fd, const struct kvm_pit_state2 *pit);
int kvm_get_clock(int vm_fd, struct kvm_clock_data *clock);
int kvm_set_clock(int vm_fd, const struct kvm_clock_data *clock);

/* Name of a KVM_EXIT_* reason, "unknown" for others. */
const char *kvm_exit_name(uint32_t reason);

#endif
