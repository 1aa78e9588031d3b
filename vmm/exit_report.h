/* SPDX-License-Identifier: MIT */
/*
 * Reports of a vCPU's exits: the report of an unexpected one, the lines
 * of --trace-exits, and the instruction an exit is about, disassembled.
 * They only print and describe; the vCPU's exit loop (vcpu.c) decides
 * what happens to the VM.
 */
#ifndef KVMTRACK_EXIT_REPORT_H
#define KVMTRACK_EXIT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/kvm.h"

struct guest_mem;

/* What the reports keep of one vCPU, whose registers and memory they read. */
struct exit_reporter {
	struct kvm_vcpu *kvm;
	const struct guest_mem *mem;
	unsigned int index;
	size_t disasm; /* capstone handle, opened on first use (0: none) */
	/*
	 * The registers as kvmtrack last read them: before the vCPU's first
	 * run, and at each exit --trace-exits reports. KVM on AMD SVM resets
	 * a vCPU before it reports a triple fault, so this is all a report of
	 * one can show (exit_report.c).
	 */
	struct {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		uint64_t exit_nr; /* its exit count then; 0: before it ran */
		bool valid;
	} seen;
};

void exit_report_init(struct exit_reporter *r, struct kvm_vcpu *kvm,
		      const struct guest_mem *mem, unsigned int index);
void exit_report_close(struct exit_reporter *r);

/*
 * Prints the report of an unexpected exit (what: its cause) to stderr:
 * the registers and the code at RIP. why gets the line the VM stops with,
 * "vcpu N: unexpected exit REASON: what", also when the registers could
 * not be read and nothing was printed.
 */
void exit_report_unexpected(struct exit_reporter *r, const char *what,
			    char *why, size_t why_len);
/* The instruction at RIP, disassembled: "0x...: mnemonic operands". */
void exit_report_insn(struct exit_reporter *r, char *out, size_t len);
/* One trace line for --trace-exits; the vCPU has made exit_nr exits. */
void exit_report_trace(struct exit_reporter *r, uint64_t exit_nr);
/* Reads the vCPU's registers into r->seen (before its first run). */
void exit_report_remember(struct exit_reporter *r);

#endif
