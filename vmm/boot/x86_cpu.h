/* SPDX-License-Identifier: MIT */
/*
 * x86 vCPU set-up for the boot protocols kvmtrack supports: the PVH 32-bit
 * entry (also used for kvmtrack's AP entry) and direct 64-bit entry with an
 * identity map.
 */
#ifndef KVMTRACK_X86_CPU_H
#define KVMTRACK_X86_CPU_H

#include <stdint.h>

struct kvm_sys;
struct kvm_vcpu;
struct guest_mem;

/* CPUID from KVM_GET_SUPPORTED_CPUID, with this vCPU's APIC ID filled in. */
int x86_setup_cpuid(const struct kvm_sys *sys, struct kvm_vcpu *vcpu,
		    unsigned int nr_cpus);

/* 32-bit protected mode, paging off, flat segments (PVH ABI). */
int x86_enter_protected32(struct kvm_vcpu *vcpu, uint32_t entry, uint32_t ebx,
			  uint32_t esi);

/* Writes the boot GDT and the 4 GiB identity map into guest RAM. */
int x86_write_long_mode_tables(struct guest_mem *mem);

/* Long mode, CPL0, on the tables written above; RDI = rdi. */
int x86_enter_long64(struct kvm_vcpu *vcpu, uint64_t entry, uint64_t rdi);

/*
 * Linux's 64-bit boot protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18,
 * which kvmtrack's own GDT (CS 0x08, DS 0x10) cannot also provide: this
 * writes a 4-entry GDT at the same place instead. Call it after
 * x86_write_long_mode_tables().
 */
int x86_write_linux_gdt(struct guest_mem *mem);

/* Long mode on the tables above, CS 0x10, DS/ES/SS 0x18, interrupts off,
 * RSI = the zero page (struct boot_params). */
int x86_enter_linux64(struct kvm_vcpu *vcpu, uint64_t entry,
		      uint64_t boot_params_gpa);

#endif
