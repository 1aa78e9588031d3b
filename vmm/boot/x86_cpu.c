// SPDX-License-Identifier: MIT
/* x86 register state for kvmtrack's boot protocols (see x86_cpu.h). */
#include "vmm/boot/x86_cpu.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"
#include "vmm/boot/layout.h"
#include "vmm/mem/memory.h"

#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_ET (1u << 4)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_PG (1u << 31)
#define X86_CR4_PAE (1u << 5)
#define X86_EFER_LME (1u << 8)
#define X86_EFER_LMA (1u << 10)
#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_PS 0x80ull
#define X86_CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define X86_CPUID_1_ECX_HYPERVISOR (1u << 31)

int x86_setup_cpuid(const struct kvm_sys *sys, struct kvm_vcpu *vcpu,
		    unsigned int nr_cpus)
{
	const struct kvm_cpuid2 *src = sys->supported_cpuid;
	size_t bytes = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(bytes);
	bool tsc_deadline =
		kvm_check_extension(sys, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	int ret;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, src, bytes);
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1) {
			/* Initial APIC ID and logical processor count. */
			e->ebx = (e->ebx & 0x0000ffffu) | (vcpu->id << 24) |
				 ((nr_cpus & 0xffu) << 16);
			/*
			 * KVM leaves two bits to the VMM, as QEMU and kvmtool
			 * set them. "Hypervisor present" makes Linux read the
			 * KVM leaves (0x40000000) and use kvmclock, which gives
			 * it the TSC's rate: without it Linux calibrates the TSC
			 * and the LAPIC timer against the PIT, which fails
			 * under nested paging, and falls back to jiffies. The
			 * TSC-deadline timer spares the LAPIC timer's
			 * calibration.
			 */
			e->ecx |= X86_CPUID_1_ECX_HYPERVISOR;
			if (tsc_deadline)
				e->ecx |= X86_CPUID_1_ECX_TSC_DEADLINE;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = vcpu->id; /* x2APIC ID */
		}
	}
	ret = kvm_set_cpuid(vcpu, cpuid);
	free(cpuid);
	return ret;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type,
				       int long_mode)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = long_mode && (type & 8) ? 0 : 1,
		.s = 1,
		.l = long_mode && (type & 8) ? 1 : 0,
		.g = 1,
	};
}

/* Segments a VM entry checks even when the guest never loads them. */
static void system_segments(struct kvm_sregs *sregs)
{
	sregs->tr = (struct kvm_segment){
		.limit = 0x67, .type = 11, .present = 1, .selector = 0,
	};
	sregs->ldt = (struct kvm_segment){
		.limit = 0xffff, .type = 2, .present = 1, .unusable = 1,
	};
}

static void set_data_segments(struct kvm_sregs *sregs, struct kvm_segment ds)
{
	sregs->ds = ds;
	sregs->es = ds;
	sregs->fs = ds;
	sregs->gs = ds;
	sregs->ss = ds;
}

int x86_enter_protected32(struct kvm_vcpu *vcpu, uint32_t entry, uint32_t ebx,
			  uint32_t esi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry, .rflags = 0x2, .rbx = ebx, .rsi = esi,
	};
	int ret = kvm_get_sregs(vcpu, &sregs);

	if (ret < 0)
		return ret;
	sregs.cs = flat_segment(0x8, 0xb, 0);
	set_data_segments(&sregs, flat_segment(0x10, 0x3, 0));
	system_segments(&sregs);
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	ret = kvm_set_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	return kvm_set_regs(vcpu, &regs);
}

int x86_write_long_mode_tables(struct guest_mem *mem)
{
	/* null, code64 (0x08), data (0x10) */
	const uint64_t gdt[3] = { 0, 0x00af9b000000ffffull,
				  0x00cf93000000ffffull };
	uint64_t table[512];
	int ret;

	ret = guest_mem_write(mem, BOOT_GDT_GPA, gdt, sizeof(gdt));
	memset(table, 0, sizeof(table));
	table[0] = BOOT_PDPT_GPA | PTE_PRESENT | PTE_WRITE;
	ret = ret ?: guest_mem_write(mem, BOOT_PML4_GPA, table, sizeof(table));
	for (int i = 0; i < 4; i++)
		table[i] = (BOOT_PD_GPA + 0x1000ull * i) | PTE_PRESENT |
			   PTE_WRITE;
	ret = ret ?: guest_mem_write(mem, BOOT_PDPT_GPA, table, sizeof(table));
	for (uint64_t pd = 0; pd < 4 && !ret; pd++) {
		for (uint64_t i = 0; i < 512; i++)
			table[i] = ((pd * 512 + i) << 21) | PTE_PRESENT |
				   PTE_WRITE | PTE_PS;
		ret = guest_mem_write(mem, BOOT_PD_GPA + pd * 0x1000, table,
				      sizeof(table));
	}
	return ret;
}

/* Long mode on the identity map, with CS/DS at the given GDT selectors. */
static int enter_long64(struct kvm_vcpu *vcpu, struct kvm_regs *regs,
			uint16_t cs, uint16_t ds, unsigned int gdt_entries)
{
	struct kvm_sregs sregs;
	int ret = kvm_get_sregs(vcpu, &sregs);

	if (ret < 0)
		return ret;
	sregs.cs = flat_segment(cs, 0xb, 1);
	set_data_segments(&sregs, flat_segment(ds, 0x3, 1));
	system_segments(&sregs);
	sregs.gdt.base = BOOT_GDT_GPA;
	sregs.gdt.limit = (uint16_t)(gdt_entries * 8 - 1);
	sregs.cr3 = BOOT_PML4_GPA;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		    X86_CR0_PG;
	sregs.efer = X86_EFER_LME | X86_EFER_LMA;
	ret = kvm_set_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	return kvm_set_regs(vcpu, regs);
}

int x86_enter_long64(struct kvm_vcpu *vcpu, uint64_t entry, uint64_t rdi)
{
	struct kvm_regs regs = {
		.rip = entry, .rflags = 0x2, .rdi = rdi,
		.rsp = BOOT_STACK_TOP_GPA,
	};

	return enter_long64(vcpu, &regs, 0x8, 0x10, 3);
}

int x86_write_linux_gdt(struct guest_mem *mem)
{
	/* null, unused (0x08), __BOOT_CS (0x10), __BOOT_DS (0x18) */
	const uint64_t gdt[4] = { 0, 0, 0x00af9b000000ffffull,
				  0x00cf93000000ffffull };

	return guest_mem_write(mem, BOOT_GDT_GPA, gdt, sizeof(gdt));
}

int x86_enter_linux64(struct kvm_vcpu *vcpu, uint64_t entry,
		      uint64_t boot_params_gpa)
{
	struct kvm_regs regs = {
		.rip = entry, .rflags = 0x2, .rsi = boot_params_gpa,
		.rsp = BOOT_STACK_TOP_GPA,
	};

	return enter_long64(vcpu, &regs, 0x10, 0x18, 4);
}
