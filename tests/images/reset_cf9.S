/* SPDX-License-Identifier: MIT */
/*
 * reset_cf9: what Linux's PCI probe and reboot=pci do. Reads the vendor and
 * device IDs of bus 0 through configuration mechanism #1: the host bridge
 * at 00:00.0 (1b36:0008), pvpanic at 00:01.0 (1b36:0011) and, at 00:02.0,
 * an empty slot (all ones); then writes 0x02 and 0x06 to port 0xcf9.
 * kvmtrack must stop with status 0 at the second write. If an ID is not
 * what docs/machine.md says, the image exits with 7; if the reset is
 * ignored, with 9.
 */
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movl	$0x80000000, %ebx	/* bus 0, device 0, register 0 */
	movl	$0x00081b36, %ecx
	call	expect_id
	movl	$0x80000800, %ebx	/* device 1 */
	movl	$0x00111b36, %ecx
	call	expect_id
	movl	$0x80001000, %ebx	/* device 2: nothing there */
	movl	$0xffffffff, %ecx
	call	expect_id
	movw	$0xcf9, %dx
	movb	$0x02, %al		/* SYS_RST alone: nothing yet */
	outb	%al, %dx
	movb	$0x06, %al		/* SYS_RST | RST_CPU */
	outb	%al, %dx
	movb	$9, %al
	jmp	out

/* The dword at configuration address %ebx must be %ecx. */
expect_id:
	movl	%ebx, %eax
	movw	$0xcf8, %dx
	outl	%eax, %dx
	movw	$0xcfc, %dx
	inl	%dx, %eax
	cmpl	%ecx, %eax
	jne	fail
	ret
fail:
	movb	$7, %al
out:
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b
