// SPDX-License-Identifier: MIT
/*
 * Reports of unexpected exits and --trace-exits lines: the exit reason, the
 * registers and the guest instructions at RIP disassembled with capstone.
 */
#include <capstone.h>
#include <stdio.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm_impl.h"

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
static size_t read_code(struct vcpu *vcpu, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs, uint8_t *code,
			uint64_t *gpa)
{
	uint64_t linear = regs->rip;
	size_t n = CODE_BYTES;

	if (cpu_mode(sregs) != CS_MODE_64)
		linear = (sregs->cs.base + regs->rip) & 0xffffffffull;
	if (kvm_translate(&vcpu->kvm, linear, gpa) < 0)
		return 0;
	/* Stop at the end of the page's RAM region rather than fail. */
	while (n > 0 && guest_mem_read(&vcpu->vm->mem, *gpa, code, n) < 0)
		n--;
	return n;
}

static csh disasm_handle(struct vcpu *vcpu, cs_mode mode)
{
	csh handle = (csh)vcpu->disasm;

	if (!handle && cs_open(CS_ARCH_X86, mode, &handle) != CS_ERR_OK)
		return 0;
	cs_option(handle, CS_OPT_MODE, mode);
	vcpu->disasm = handle;
	return handle;
}

void exit_report_close(struct vcpu *vcpu)
{
	csh handle = (csh)vcpu->disasm;

	if (handle)
		cs_close(&handle);
	vcpu->disasm = 0;
}

/*
 * KVM completes an OUT/IN before it exits to userspace, so on an I/O exit
 * RIP already points past the instruction. Find the I/O instruction that
 * ends exactly at RIP (1 to 3 bytes: opcode, imm8 port, 0x66 prefix).
 */
static uint64_t io_insn_start(csh handle, const uint8_t *before, uint64_t rip)
{
	for (uint64_t len = 1; len <= 3; len++) {
		cs_insn *insn = NULL;
		size_t n = cs_disasm(handle, before + 3 - len, len, rip - len,
				     1, &insn);
		bool io = n == 1 && insn[0].size == len &&
			  (!strncmp(insn[0].mnemonic, "in", 2) ||
			   !strncmp(insn[0].mnemonic, "out", 3));

		if (insn)
			cs_free(insn, n);
		if (io)
			return rip - len;
	}
	return rip;
}

/* Appends up to max_insns disassembled instructions to out. */
static void disassemble(struct vcpu *vcpu, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs, int max_insns,
			char *out, size_t len)
{
	struct kvm_regs at = *regs;
	uint8_t code[CODE_BYTES];
	uint64_t gpa = 0;
	csh handle = disasm_handle(vcpu, cpu_mode(sregs));
	cs_insn *insn = NULL;
	size_t n, count = 0, used = strlen(out);

	if (vcpu->kvm.run->exit_reason == KVM_EXIT_IO && handle) {
		at.rip -= 3;
		if (read_code(vcpu, &at, sregs, code, &gpa) >= 3)
			at.rip = io_insn_start(handle, code, regs->rip);
		else
			at.rip = regs->rip;
	}
	regs = &at;
	n = read_code(vcpu, regs, sregs, code, &gpa);

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

void exit_report_unexpected(struct vcpu *vcpu, const char *what)
{
	struct kvm_run *run = vcpu->kvm.run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char report[4096], why[256];

	snprintf(why, sizeof(why), "vcpu %u: unexpected exit %s: %s",
		 vcpu->index, kvm_exit_name(run->exit_reason), what);
	if (kvm_get_regs(&vcpu->kvm, &regs) < 0 ||
	    kvm_get_sregs(&vcpu->kvm, &sregs) < 0) {
		vm_request_stop(vcpu->vm, VM_STOP_UNEXPECTED, 3, why);
		return;
	}
	format_registers(&regs, &sregs, report, sizeof(report));
	disassemble(vcpu, &regs, &sregs, REPORT_INSNS, report, sizeof(report));
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		size_t used = strlen(report);

		snprintf(report + used, sizeof(report) - used,
			 "    internal error suberror %u\n",
			 run->internal.suberror);
	}
	fprintf(stderr, "kvmtrack: %s\n%s", why, report);
	vm_request_stop(vcpu->vm, VM_STOP_UNEXPECTED, 3, why);
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

/*
 * KVM completes an MMIO write in its emulator before it exits (as it does
 * an OUT), so RIP is already past the store. x86 cannot be decoded
 * backwards for sure: take the shortest decode, starting 1 to 15 bytes
 * back, that ends exactly at RIP and writes as many bytes to memory as
 * the exit reports. RIP itself when none does.
 */
static uint64_t store_insn_start(csh handle, const uint8_t *before,
				 uint64_t rip, uint32_t len)
{
	uint64_t found = rip;

	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	for (uint64_t back = 1; back <= 15 && found == rip; back++) {
		cs_insn *insn = NULL;
		size_t n = cs_disasm(handle, before + 15 - back, back,
				     rip - back, 1, &insn);

		if (n == 1 && insn[0].size == back && stores_bytes(insn, len))
			found = rip - back;
		if (insn)
			cs_free(insn, n);
	}
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_OFF);
	return found;
}

void exit_report_insn(struct vcpu *vcpu, char *out, size_t len)
{
	struct kvm_run *run = vcpu->kvm.run;
	struct kvm_regs regs, at;
	struct kvm_sregs sregs;
	char line[256] = "";
	uint8_t code[CODE_BYTES];
	uint64_t gpa;
	csh handle;
	size_t n;

	out[0] = '\0';
	if (kvm_get_regs(&vcpu->kvm, &regs) < 0 ||
	    kvm_get_sregs(&vcpu->kvm, &sregs) < 0)
		return;
	handle = disasm_handle(vcpu, cpu_mode(&sregs));
	if (handle && run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write) {
		at = regs;
		at.rip -= 15;
		if (read_code(vcpu, &at, &sregs, code, &gpa) >= 15)
			regs.rip = store_insn_start(handle, code, regs.rip,
						    run->mmio.len);
	}
	disassemble(vcpu, &regs, &sregs, 1, line, sizeof(line));
	/* One line, without its indent and newline. */
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	snprintf(out, len, "%s", line + strspn(line, " "));
}

void exit_report_trace(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char line[512] = "";

	if (kvm_get_regs(&vcpu->kvm, &regs) < 0 ||
	    kvm_get_sregs(&vcpu->kvm, &sregs) < 0)
		return;
	disassemble(vcpu, &regs, &sregs, 1, line, sizeof(line));
	if (run->exit_reason == KVM_EXIT_IO)
		fprintf(stderr, "trace: vcpu %u IO %s port 0x%x size %u:%s",
			vcpu->index,
			run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			run->io.port, run->io.size, line + 3);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		fprintf(stderr, "trace: vcpu %u MMIO %s 0x%llx len %u:%s",
			vcpu->index, run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len,
			line + 3);
	else
		fprintf(stderr, "trace: vcpu %u %s:%s", vcpu->index,
			kvm_exit_name(run->exit_reason), line + 3);
}
