/* SPDX-License-Identifier: MIT */
/*
 * triple_ud2: the same triple fault as triple.S, reached through #UD from
 * ud2 instead of #GP. IDT limit 0, ud2 -> #UD -> #DF -> shutdown
 * (KVM_EXIT_SHUTDOWN). On hardware KVM both variants behave the same;
 * an emulating KVM may report an emulation failure here instead, which is
 * why triple.S is the primary test. The faulting instruction, at 0x100007
 * (entry + 7), is what capstone prints as "ud2".
 * If no fault happened, the image exits with status 3.
 */
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	lidt	null_idt(%rip)
	ud2
	movb	$3, %al
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b

	.section .rodata
	.balign	16
null_idt:
	.word	0
	.quad	0
