/* SPDX-License-Identifier: MIT */
/*
 * reset_cf9: what Linux's reboot=pci does. Reads PCI configuration space
 * (there is no PCI: all ones), then writes 0x02 and 0x06 to port 0xcf9.
 * kvmtrack must stop with status 0 at the second write. If the PCI read is
 * not all ones the image exits with 7; if the reset is ignored, with 9.
 */
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movl	$0x80000000, %eax	/* bus 0, device 0, vendor ID */
	movw	$0xcf8, %dx
	outl	%eax, %dx
	movw	$0xcfc, %dx
	inl	%dx, %eax
	cmpl	$0xffffffff, %eax
	jne	fail
	movw	$0xcf9, %dx
	movb	$0x02, %al		/* SYS_RST alone: nothing yet */
	outb	%al, %dx
	movb	$0x06, %al		/* SYS_RST | RST_CPU */
	outb	%al, %dx
	movb	$9, %al
	jmp	out
fail:
	movb	$7, %al
out:
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b
