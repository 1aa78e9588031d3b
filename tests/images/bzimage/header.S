/* SPDX-License-Identifier: MIT */
/*
 * The real-mode part of the synthetic bzImage: a boot sector and one setup
 * sector whose only content is the setup header at its documented offsets
 * (Linux boot protocol 2.15). kvmtrack never runs this code.
 */
#include "tests/images/bzimage/bzcheck.h"

	.section .setup, "a"
	.code16
	.globl _setup_start
_setup_start:
	.org 0x1f1
	.byte 1				/* setup_sects */
	.word 0				/* root_flags */
	.long syssize			/* 16-byte paragraphs of kernel */
	.word 0				/* ram_size */
	.word 0xffff			/* vid_mode */
	.word 0				/* root_dev */
	.word 0xaa55			/* boot_flag */
	.byte 0xeb, header_end - 0x202	/* jump over the header */
	.ascii "HdrS"
	.word BZCHECK_VERSION
	.long 0				/* realmode_swtch */
	.word 0x1000			/* start_sys_seg */
	.word 0				/* kernel_version */
	.byte 0				/* type_of_loader */
	.byte 0x01			/* loadflags: LOADED_HIGH */
	.word 0x8000			/* setup_move_size */
	.long 0x100000			/* code32_start */
	.long 0				/* ramdisk_image */
	.long 0				/* ramdisk_size */
	.long 0				/* bootsect_kludge */
	.word 0				/* heap_end_ptr */
	.byte 0				/* ext_loader_ver */
	.byte 0				/* ext_loader_type */
	.long 0				/* cmd_line_ptr */
	.long BZCHECK_INITRD_ADDR_MAX	/* initrd_addr_max */
	.long 0x200000			/* kernel_alignment */
	.byte 1				/* relocatable_kernel */
	.byte 21			/* min_alignment */
	.word 0x0001			/* xloadflags: XLF_KERNEL_64 */
	.long BZCHECK_CMDLINE_SIZE	/* cmdline_size */
	.long 0				/* hardware_subarch */
	.quad 0				/* hardware_subarch_data */
	.long 0				/* payload_offset */
	.long 0				/* payload_length */
	.quad 0				/* setup_data */
	.quad BZCHECK_LOAD_GPA		/* pref_address */
	.long init_size			/* init_size */
	.long 0				/* handover_offset */
	.long 0				/* kernel_info_offset */
header_end = . - _setup_start
	.org BZCHECK_SETUP_BYTES - 1
	.byte 0

/* The protected-mode kernel: startup_32 (never used), startup_64 at +0x200. */
	.section .head, "ax"
	.code32
	.globl startup_32
startup_32:
	ud2
	.org 0x200
	.code64
	.globl startup_64
startup_64:
	lea startup_64(%rip), %rdx	/* where kvmtrack really entered us */
	mov %rsp, %rcx
	lea _stack_top(%rip), %rsp
	mov %rsi, %rdi			/* boot_params */
	mov %rdx, %rsi
	mov %rcx, %rdx
	call bzcheck_main
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
