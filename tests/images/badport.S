/* SPDX-License-Identifier: MIT */
/*
 * badport: an OUT to port 0x99, where kvmtrack has no device. Entered in
 * 64-bit mode (no PVH note). The VMM must stop and report the access with
 * the instruction at RIP, which capstone prints as "out 0x99, al"
 * (bytes e6 99, at 0x100002, the image's entry + 2).
 * If the VMM ignored the access instead, the image exits with status 3.
 */
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movb	$0x5a, %al
	outb	%al, $0x99
	movb	$3, %al
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b
