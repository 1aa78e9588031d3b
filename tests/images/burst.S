/* SPDX-License-Identifier: MIT */
/*
 * burst: console output the way Linux's 8250 driver sends it, bytes to
 * THR back to back with no status read between them: LINES lines, then a
 * prompt with no newline, then one read of IIR (the driver's interrupt
 * handler reads it after each burst), then it spins without an exit.
 * tests/kvm/test_images.c holds kvmtrack to writing the lines a line at a
 * time, and to showing the prompt while the guest still runs.
 */
#define COM1_THR	0x3f8
#define COM1_IIR	0x3fa
#define LINES		200

/* The NUL-terminated string at %rsi to port %dx (no stack for a call). */
.macro puts
98:	movb	(%rsi), %al
	testb	%al, %al
	jz	99f
	outb	%al, %dx
	incq	%rsi
	jmp	98b
99:
.endm

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	movw	$COM1_THR, %dx
	movl	$LINES, %ecx
1:	leaq	line(%rip), %rsi
	puts
	loop	1b
	leaq	prompt(%rip), %rsi
	puts
	movw	$COM1_IIR, %dx
	inb	%dx, %al
2:	pause
	jmp	2b

	.section .rodata
line:	.asciz	"burst: forty bytes of console output..\n"
prompt:	.asciz	"ready> "
