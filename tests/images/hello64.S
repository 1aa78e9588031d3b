/* SPDX-License-Identifier: MIT */
/*
 * hello64: the smallest image entered in 64-bit mode (no PVH note), as
 * docs/machine.md describes: long mode, CPL0, identity map, CS 0x08.
 * Prints "hello from a 64-bit image\n" on COM1, then writes 42 to the
 * debug-exit port: kvmtrack exits with status 42.
 * No LSR polling: kvmtrack's UART takes every byte written to THR.
 */
#define COM1_THR	0x3f8
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	leaq	msg(%rip), %rsi
	movw	$COM1_THR, %dx
1:	movb	(%rsi), %al
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	incq	%rsi
	jmp	1b
2:	movb	$42, %al
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
	/* Not reached when the debug exit works. */
3:	hlt
	jmp	3b

	.section .rodata
msg:	.asciz	"hello from a 64-bit image\n"
