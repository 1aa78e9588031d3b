// SPDX-License-Identifier: MIT
/*
 * Reports of unexpected exits and --trace-exits lines: the exit reason, the
 * registers and the guest instructions at RIP disassembled with capstone.
 * A report only prints and describes: vcpu.c stops the VM with its line.
 */
#include "vmm/exit_report.h"

#include <capstone.h>
#include <stdio.h>
#include <string.h>

#include "vmm/mem/memory.h"

#define CODE_BYTES 48
#define REPORT_INSNS 4

static cs_mode cpu_mode(const struct kvm_sregs *sregs)
{
	if ((sregs->efer & (1u << 10)) && sregs->cs.l)
		return CS_MODE_64;
	if (sregs->cr0 & 1)
		return sregs->cs.db ? CS_MODE_32 : CS_MODE_16;
	return CS_MODE_16;
}

static const char *mode_name(cs_mode mode)
{
	return mode == CS_MODE_64 ? "64-bit" :
	       mode == CS_MODE_32 ? "32-bit" : "16-bit";
}

/* Reads code at the guest's RIP; returns bytes read (0 if unmapped). */
static size_t read_code(struct exit_reporter *r, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs, uint8_t *code,
			uint64_t *gpa)
{
	uint64_t linear = regs->rip;
	size_t n = CODE_BYTES;

	if (cpu_mode(sregs) != CS_MODE_64)
		linear = (sregs->cs.base + regs->rip) & 0xffffffffull;
	if (kvm_translate(r->kvm, linear, gpa) < 0)
		return 0;
	/* Stop at the end of the page's RAM region rather than fail. */
	while (n > 0 && guest_mem_read(r->mem, *gpa, code, n) < 0)
		n--;
	return n;
}

static csh disasm_handle(struct exit_reporter *r, cs_mode mode)
{
	csh handle = (csh)r->disasm;

	if (!handle && cs_open(CS_ARCH_X86, mode, &handle) != CS_ERR_OK)
		return 0;
	cs_option(handle, CS_OPT_MODE, mode);
	r->disasm = handle;
	return handle;
}

void exit_report_init(struct exit_reporter *r, struct kvm_vcpu *kvm,
		      const struct guest_mem *mem, unsigned int index)
{
	memset(r, 0, sizeof(*r));
	r->kvm = kvm;
	r->mem = mem;
	r->index = index;
}

void exit_report_close(struct exit_reporter *r)
{
	csh handle = (csh)r->disasm;

	if (handle)
		cs_close(&handle);
	r->disasm = 0;
}

/* Does insn store `len` bytes to memory (a written memory operand)? */
static bool stores_bytes(const cs_insn *insn, uint32_t len)
{
	const cs_x86 *x = insn->detail ? &insn->detail->x86 : NULL;

	for (uint8_t i = 0; x && i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM &&
		    x->operands[i].size == len &&
		    (x->operands[i].access & CS_AC_WRITE))
			return true;
	return false;
}

static bool is_io(const cs_insn *insn, uint32_t len)
{
	return !strncmp(insn->mnemonic, "in", 2) ||
	       !strncmp(insn->mnemonic, "out", 3);
}

/*
 * KVM completes an OUT/IN, and an MMIO write in its emulator, before it
 * exits to userspace, so RIP is already past the instruction the exit is
 * about. x86 cannot be decoded backwards for sure: take the shortest
 * decode, starting 1 to max_back bytes back, that ends exactly at RIP and
 * is that kind of instruction (match). RIP itself when none is.
 */
static uint64_t insn_ending_at(struct exit_reporter *r, csh handle,
			       const struct kvm_regs *regs,
			       const struct kvm_sregs *sregs, uint64_t max_back,
			       bool (*match)(const cs_insn *, uint32_t),
			       uint32_t len)
{
	struct kvm_regs at = *regs;
	uint8_t code[CODE_BYTES];
	uint64_t gpa, found = regs->rip;

	at.rip -= max_back;
	if (read_code(r, &at, sregs, code, &gpa) < max_back)
		return found;
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	for (uint64_t back = 1; back <= max_back && found == regs->rip;
	     back++) {
		cs_insn *insn = NULL;
		size_t n = cs_disasm(handle, code + max_back - back, back,
				     regs->rip - back, 1, &insn);

		if (n == 1 && insn[0].size == back && match(insn, len))
			found = regs->rip - back;
		if (insn)
			cs_free(insn, n);
	}
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_OFF);
	return found;
}

/* Where the instruction this exit is about starts. */
static uint64_t exit_insn_rip(struct exit_reporter *r, csh handle,
			      const struct kvm_regs *regs,
			      const struct kvm_sregs *sregs)
{
	const struct kvm_run *run = r->kvm->run;

	if (!handle)
		return regs->rip;
	if (run->exit_reason == KVM_EXIT_IO) /* opcode, imm8, 0x66 prefix */
		return insn_ending_at(r, handle, regs, sregs, 3, is_io, 0);
	if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write)
		return insn_ending_at(r, handle, regs, sregs, 15, stores_bytes,
				      run->mmio.len);
	return regs->rip;
}

/* Appends up to max_insns disassembled instructions to out. */
static void disassemble(struct exit_reporter *r, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs, int max_insns,
			char *out, size_t len)
{
	struct kvm_regs at = *regs;
	uint8_t code[CODE_BYTES];
	uint64_t gpa = 0;
	csh handle = disasm_handle(r, cpu_mode(sregs));
	cs_insn *insn = NULL;
	size_t n, count = 0, used = strlen(out);

	at.rip = exit_insn_rip(r, handle, regs, sregs);
	regs = &at;
	n = read_code(r, regs, sregs, code, &gpa);

	if (n == 0 || !handle) {
		snprintf(out + used, len - used,
			 "    <code at rip 0x%llx is not readable guest RAM>\n",
			 (unsigned long long)regs->rip);
		return;
	}
	count = cs_disasm(handle, code, n, regs->rip, (size_t)max_insns, &insn);
	if (count == 0)
		snprintf(out + used, len - used,
			 "    %s0x%llx: <undecodable: %02x %02x %02x %02x>\n",
			 max_insns > 1 ? "=> " : "",
			 (unsigned long long)regs->rip, code[0], code[1],
			 code[2], code[3]);
	for (size_t i = 0; i < count && used < len; i++) {
		used = strlen(out);
		snprintf(out + used, len - used, "    %s0x%llx: %s %s\n",
			 max_insns == 1 ? "" : (i == 0 ? "=> " : "   "),
			 (unsigned long long)insn[i].address,
			 insn[i].mnemonic, insn[i].op_str);
	}
	if (insn)
		cs_free(insn, count);
}

static void format_registers(const struct kvm_regs *r,
			     const struct kvm_sregs *s, char *out, size_t len)
{
	snprintf(out, len,
		 "    rip %016llx rflags %08llx cs %04x (%s, cpl %u)\n"
		 "    rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		 "    rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n"
		 "    r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		 "    r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		 "    cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx\n",
		 r->rip, r->rflags, s->cs.selector, mode_name(cpu_mode(s)),
		 s->cs.dpl, r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi,
		 r->rbp, r->rsp, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13,
		 r->r14, r->r15, s->cr0, s->cr2, s->cr3, s->cr4, s->efer);
}

static void remember(struct exit_reporter *r, const struct kvm_regs *regs,
		     const struct kvm_sregs *sregs, uint64_t exit_nr)
{
	r->seen.regs = *regs;
	r->seen.sregs = *sregs;
	r->seen.exit_nr = exit_nr;
	r->seen.valid = true;
}

void exit_report_remember(struct exit_reporter *r)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (kvm_get_regs(r->kvm, &regs) == 0 &&
	    kvm_get_sregs(r->kvm, &sregs) == 0)
		remember(r, &regs, &sregs, 0);
}

/* The state a vCPU comes out of reset with (SDM 9.1.1, APM 14.1.3). */
static bool is_reset_state(const struct kvm_regs *regs,
			   const struct kvm_sregs *sregs)
{
	return regs->rip == 0xfff0 && sregs->cs.selector == 0xf000 &&
	       !(sregs->cr0 & 1);
}

/*
 * A shutdown on AMD SVM: KVM resets the vCPU on the shutdown intercept,
 * before KVM_EXIT_SHUTDOWN reaches us, because the VMCB is undefined after
 * one. The registers then read as the reset state; report the last ones
 * kvmtrack saw instead, and say so: *regs and *sregs then point at them.
 * Their code is read through the vCPU's present (reset, unpaged)
 * translation, which is right for identity-mapped code only.
 */
static void shutdown_reset_note(struct exit_reporter *r, struct kvm_regs **regs,
				struct kvm_sregs **sregs, char *out, size_t len)
{
	char when[64] = "before the vCPU first ran";

	if (r->kvm->run->exit_reason != KVM_EXIT_SHUTDOWN ||
	    !is_reset_state(*regs, *sregs) || !r->seen.valid)
		return;
	if (r->seen.exit_nr)
		snprintf(when, sizeof(when), "at its exit %llu (--trace-exits)",
			 (unsigned long long)r->seen.exit_nr);
	snprintf(out, len,
		 "    KVM reset this vCPU before reporting the shutdown (AMD SVM does), so its state at the fault is lost; the last state kvmtrack saw, %s:\n",
		 when);
	*regs = &r->seen.regs;
	*sregs = &r->seen.sregs;
}

void exit_report_unexpected(struct exit_reporter *r, const char *what,
			    char *why, size_t why_len)
{
	struct kvm_run *run = r->kvm->run;
	struct kvm_regs now_regs, *regs = &now_regs;
	struct kvm_sregs now_sregs, *sregs = &now_sregs;
	char report[4096], note[256] = "";

	snprintf(why, why_len, "vcpu %u: unexpected exit %s: %s", r->index,
		 kvm_exit_name(run->exit_reason), what);
	if (kvm_get_regs(r->kvm, regs) < 0 || kvm_get_sregs(r->kvm, sregs) < 0)
		return;
	shutdown_reset_note(r, &regs, &sregs, note, sizeof(note));
	format_registers(regs, sregs, report, sizeof(report));
	disassemble(r, regs, sregs, REPORT_INSNS, report, sizeof(report));
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		size_t used = strlen(report);

		snprintf(report + used, sizeof(report) - used,
			 "    internal error suberror %u\n",
			 run->internal.suberror);
	}
	fprintf(stderr, "kvmtrack: %s\n%s%s", why, note, report);
}

void exit_report_insn(struct exit_reporter *r, char *out, size_t len)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char line[256] = "";
	size_t n;

	out[0] = '\0';
	if (kvm_get_regs(r->kvm, &regs) < 0 ||
	    kvm_get_sregs(r->kvm, &sregs) < 0)
		return;
	disassemble(r, &regs, &sregs, 1, line, sizeof(line));
	/* One line, without its indent and newline. */
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	snprintf(out, len, "%s", line + strspn(line, " "));
}

void exit_report_trace(struct exit_reporter *r, uint64_t exit_nr)
{
	struct kvm_run *run = r->kvm->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char line[512] = "";

	if (kvm_get_regs(r->kvm, &regs) < 0 ||
	    kvm_get_sregs(r->kvm, &sregs) < 0)
		return;
	if (run->exit_reason != KVM_EXIT_SHUTDOWN)
		remember(r, &regs, &sregs, exit_nr);
	disassemble(r, &regs, &sregs, 1, line, sizeof(line));
	if (run->exit_reason == KVM_EXIT_IO)
		fprintf(stderr, "trace: vcpu %u IO %s port 0x%x size %u:%s",
			r->index,
			run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			run->io.port, run->io.size, line + 3);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		fprintf(stderr, "trace: vcpu %u MMIO %s 0x%llx len %u:%s",
			r->index, run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len,
			line + 3);
	else
		fprintf(stderr, "trace: vcpu %u %s:%s", r->index,
			kvm_exit_name(run->exit_reason), line + 3);
}
