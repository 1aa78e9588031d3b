/* SPDX-License-Identifier: MIT */
/*
 * The guest's CPU model. Boot (guest/lib/entry.S) is the only 32-bit code;
 * CPL0 64-bit C (guest/lib/cpu.c) only loads descriptor tables and drops
 * to CPL3, because on the project's build machines KVM emulates every CPL0
 * instruction (~0.7 us each) while CPL3 long-mode code runs natively.
 * Everything else runs at CPL3: ports are reached through the TSS I/O
 * permission bitmap, MMIO through the identity map (user-accessible), time
 * through rdtsc.
 */
#ifndef KVMTRACK_GUEST_LIB_CPU_H
#define KVMTRACK_GUEST_LIB_CPU_H

#include <stdint.h>

/* The stack as entry.S's exception stubs leave it: the registers, the
 * vector and error code, then the CPU's own frame. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Called from entry.S on every CPU in 64-bit CPL0, with the addresses of
 * entry.S's 32 exception stubs (16 bytes apart) and of its VEC_HALT stub,
 * which CPU 0 puts in the IDT; returns the user stack top entry.S irets
 * to. entry.S hands them over so that C names nothing of entry.S's. */
uint64_t cpu_setup0(uint32_t cpu, const char *exc_stubs, const void *halt_stub);
/* Called from entry.S's stubs at CPL0: prints the exception and ends the
 * run with STATUS_EXCEPTION. It returns only for sys_halt's #UD, and the
 * stub then parks the CPU. */
void exception_handler(struct exc_frame *f);

#endif
