/* SPDX-License-Identifier: MIT */
/*
 * pvh32: an image with a PVH entry note (name "Xen", type 18), entered in
 * 32-bit protected mode with paging off and EBX = GPA of hvm_start_info.
 * Prints "pvh ok\n", then "M\n" when the start info's magic is 0x336ec578
 * (or "bad magic\n" when it is not), then writes 0 to the debug-exit port:
 * kvmtrack exits with status 0 (QEMU's isa-debug-exit with status 1).
 * Boots under QEMU too: qemu-system-x86_64 -kernel pvh32.elf.
 */
#define COM1_THR	0x3f8
#define DEBUG_EXIT	0x501
#define HVM_START_MAGIC	0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.balign	4
	.long	4			/* n_namesz: "Xen\0" */
	.long	4			/* n_descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign	4
	.long	_start
	.balign	4

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	/* The PVH ABI leaves ESP undefined: use our own stack. */
	movl	$stack_top, %esp
	movl	$msg_ok, %esi
	call	puts
	movl	$msg_magic, %esi
	cmpl	$HVM_START_MAGIC, (%ebx)
	je	1f
	movl	$msg_bad, %esi
1:	call	puts
	xorl	%eax, %eax
	movw	$DEBUG_EXIT, %dx
	outb	%al, %dx
2:	hlt
	jmp	2b

/* Writes the NUL-terminated string at ESI to COM1. */
puts:
	movw	$COM1_THR, %dx
1:	movb	(%esi), %al
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	incl	%esi
	jmp	1b
2:	ret

	.section .rodata
msg_ok:		.asciz	"pvh ok\n"
msg_magic:	.asciz	"M\n"
msg_bad:	.asciz	"bad magic\n"

	.section .bss
	.balign	16
	.skip	4096
stack_top:
