/* SPDX-License-Identifier: MIT */
/*
 * alphabet: writes "abcdefghijklmnopqrstuvwxyz\n" to COM1 forever, one OUT
 * per byte, so that nearly every moment its vCPU is in or just after a
 * port exit. A migration that saved the vCPU with an OUT handled but not
 * completed would have the destination execute it again: a repeated byte
 * in the joined consoles (tests/e2e/test_migrate_pingpong.c). Entered in
 * 64-bit mode (no PVH note), like hello64.
 */
#define COM1_THR	0x3f8

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movw	$COM1_THR, %dx
1:	movb	$'a', %al
2:	outb	%al, %dx
	incb	%al
	cmpb	$'z' + 1, %al
	jne	2b
	movb	$'\n', %al
	outb	%al, %dx
	jmp	1b
