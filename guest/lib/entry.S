/* SPDX-License-Identifier: MIT */
/*
 * Entry points, static page tables and exception stubs.
 *
 * On the build machines every instruction here runs in KVM's emulator
 * (~0.7 us each), so the 32-bit path does the minimum to reach long mode:
 * no table is built at run time, the identity map below is assembled into
 * the image.
 */
#include "guest/lib/layout.h"

#define X86_CR0_PE 0x00000001
#define X86_CR0_PG 0x80000000
#define X86_CR4_PAE 0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_US 0x004 /* CPL3 runs everything, so every level is US */
#define PTE_PS 0x080

/* --- ELF notes: how PVH loaders and kvmtrack find the 32-bit entries ---- */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long pvh_start32
	.balign 4

	.section .note.kvmtrack, "a", @note
	.balign 4
	.long 9			/* namesz: "kvmtrack\0" */
	.long 4			/* descsz */
	.long 1			/* KVMTRACK_NOTE_AP_ENTRY32 */
	.asciz "kvmtrack"
	.balign 4
	.long ap_start32
	.balign 4

/* --- 32-bit entries ------------------------------------------------------- */
	.section .text.entry, "ax"
	.code32
/* PVH boot vCPU: EBX = GPA of hvm_start_info; flat 32-bit segments. */
	.globl pvh_start32
pvh_start32:
	movl %ebx, boot_info_gpa	/* machine.c's; its high half is bss, 0 */
	xorl %esi, %esi
	jmp 1f

/* kvmtrack's secondary vCPUs: same state, ESI = vCPU index. */
	.globl ap_start32
ap_start32:
1:	lgdt gdt_ptr
	movl %cr4, %eax
	orl $X86_CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_PE), %eax
	movl %eax, %cr0
	ljmp $KERNEL_CS, $entry64

/* --- 64-bit, CPL0 --------------------------------------------------------- */
	.code64
entry64:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	/* Reload so GDTR holds a clean 64-bit base. */
	lgdt gdt_ptr
	/* Static per-CPU data covers MAX_CPUS; anything beyond stays parked. */
	cmpl $MAX_CPUS, %esi
	jae park
	movl %esi, %ebx
	leal 1(%esi), %eax
	shll $KSTACK_SHIFT, %eax
	leaq kstacks(%rax), %rsp
	movl %ebx, %edi
	movl $exc_stubs, %esi
	movl $halt_stub, %edx
	call cpu_setup0
	/* iretq frame into CPL3 with IF=0 (no timer is needed) and IOPL=3,
	 * with the TSS I/O bitmap open as well, because KVMs differ in which
	 * one they honour:
	 * - after a restore, KVM on SVM reports TR as a busy TSS (type 11),
	 *   and QEMU's TCG (the test VM's CPU, tests/vm/) then rejects the
	 *   bitmap, which it only reads from an available one (type 9): with
	 *   IOPL=3 it never looks;
	 * - the shadow-paging KVM (PVM) ignores IOPL and uses only the bitmap.
	 * Hardware honours either. */
	pushq $USER_DS
	pushq %rax
	pushq $0x3002
	pushq $USER_CS
	pushq $user_entry
	movl %ebx, %edi
	iretq

park:
	cli
	hlt
	jmp park

/* --- 64-bit, CPL3 --------------------------------------------------------- */
	.text
user_entry:
	call user_main
	ud2

/* --- exception and software-vector stubs (CPL0) --------------------------- */
/* Vectors that push an error code themselves. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
		    (v) == 21 || (v) == 29 || (v) == 30)

	.balign 16
exc_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	.if !HAS_ERR(vec)
	pushq $0
	.endif
	pushq $vec
	jmp exc_common
	.set vec, vec + 1
	.endr

exc_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call exception_handler
	/* It returns only for sys_halt's #UD: park, as halt_stub does. */
	jmp park

/* VEC_HALT: the end of the run when there is no debug-exit device. */
halt_stub:
	jmp park

/* --- data ------------------------------------------------------------------ */
/*
 * Identity map of the first 4 GiB with 2 MiB pages: PML4 -> one PDPT ->
 * four page directories. Writable and user-accessible everywhere, so CPL3
 * code reaches RAM, the test device and everything else in the hole.
 */
	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + (PTE_P | PTE_RW | PTE_US)
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x1000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x2000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x3000 + (PTE_P | PTE_RW | PTE_US)
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.quad (i << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS)
	.set i, i + 1
	.endr

	.section .note.GNU-stack, "", @progbits
