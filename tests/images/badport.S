/* SPDX-License-Identifier: MIT */
/*
 * badport: an OUT to port 0x99, where kvmtrack has no device. Entered in
 * 64-bit mode (no PVH note), on kvmtrack's identity map of the first 4 GiB.
 * With --strict-io the VMM must stop there and report the access with the
 * instruction at RIP, which capstone prints as "out 0x99, al" (bytes
 * e6 99, at 0x100002, the image's entry + 2). Without it the VMM must act
 * as an empty PC bus: the image then reads port 0x99 and MMIO at
 * 0xe0000000 (in the hole, where no device is), expects all ones, writes
 * there too, and exits with status 7; 3 if a read gave anything else.
 */
#define DEBUG_EXIT	0x501
#define UNCLAIMED_GPA	0xe0000000

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movb	$0x5a, %al
	outb	%al, $0x99
	inb	$0x99, %al
	cmpb	$0xff, %al
	jne	1f
	movl	$UNCLAIMED_GPA, %ebx
	movl	(%rbx), %eax
	cmpl	$0xffffffff, %eax
	jne	1f
	movl	$0x12345678, 4(%rbx)
	movl	4(%rbx), %eax
	cmpl	$0xffffffff, %eax
	jne	1f
	movb	$7, %al
	jmp	2f
1:	movb	$3, %al
2:	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
3:	hlt
	jmp	3b
