/* SPDX-License-Identifier: MIT */
/*
 * big: an image whose data PT_LOAD has 2 GiB of .bss (p_memsz 2 GiB + 4 KiB,
 * p_filesz 4 KiB), so the image ends at 0x80102000 while the file stays
 * small. With -m 64M kvmtrack must refuse it ("image larger than RAM")
 * before running anything. Entered in 64-bit mode (no PVH note). Given
 * enough RAM (-m 3G), it touches the last byte of its .bss, prints
 * "big ok\n" and exits with status 0.
 */
#define COM1_THR	0x3f8
#define DEBUG_EXIT	0x501

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movabsq	$huge_end - 1, %rdi
	movb	$1, (%rdi)
	leaq	msg(%rip), %rsi
	movw	$COM1_THR, %dx
1:	movb	(%rsi), %al
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	incq	%rsi
	jmp	1b
2:	xorl	%eax, %eax
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
3:	hlt
	jmp	3b

	.section .rodata
msg:	.asciz	"big ok\n"

	/* Some file-backed data, so the segment has p_filesz < p_memsz. */
	.section .data
	.balign	4096
	.fill	4096, 1, 0xa5

	.section .bss
	.balign	4096
	.skip	0x80000000
huge_end:
