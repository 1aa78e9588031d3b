/* SPDX-License-Identifier: MIT */
/*
 * triple: a triple fault, entered in 64-bit mode (no PVH note). The IDT
 * is loaded with limit 0, then a load from a non-canonical address raises
 * #GP; delivering it needs IDT entry 13, which is past the limit, so the
 * CPU raises #DF, which cannot be delivered either: shutdown
 * (KVM_EXIT_SHUTDOWN). A naturally faulting load is used rather than ud2
 * or int3 because the shadow-paging KVM on the build machines emulates
 * CPL0 code and fails on some instructions instead of faulting (see
 * triple_ud2.S for the ud2 variant).
 * The faulting instruction, at 0x100007 (entry + 7), is what capstone
 * prints as "movabs rax, qword ptr [0x8000000000000000]".
 * If no fault happened, the image exits with status 3.
 */
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	lidt	null_idt(%rip)
	movabsq	0x8000000000000000, %rax
	movb	$3, %al
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b

	.section .rodata
	.balign	16
null_idt:
	.word	0		/* limit 0: not even vector 0 fits */
	.quad	0		/* base */
