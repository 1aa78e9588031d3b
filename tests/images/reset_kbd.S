/* SPDX-License-Identifier: MIT */
/*
 * reset_kbd: what Linux's reboot=k does. Probes the i8042 (self-test must
 * answer 0x55 and the status port must show the system flag), then pulses
 * the reset line with command 0xfe on port 0x64. kvmtrack must stop with
 * status 0. If the probe fails the image exits with 7; if the reset is
 * ignored, with 9. Entered in 64-bit mode.
 */
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	inb	$0x64, %al
	testb	$0x04, %al		/* system flag */
	jz	fail
	movb	$0xaa, %al		/* controller self-test */
	outb	%al, $0x64
	inb	$0x64, %al
	testb	$0x01, %al		/* output buffer full */
	jz	fail
	inb	$0x60, %al
	cmpb	$0x55, %al
	jne	fail
	movb	$0xfe, %al		/* pulse the reset line */
	outb	%al, $0x64
	movb	$9, %al
	jmp	out
fail:
	movb	$7, %al
out:
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b
