// SPDX-License-Identifier: MIT
/*
 * Guest writes to read-only windows (alias.h): KVM turns each into an MMIO
 * exit; the write is dropped, counted on its window and recorded, and the
 * policy (--alias-write) says whether the VM goes on.
 */
#include <errno.h>
#include <stdio.h>

#include "lib/log.h"
#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"

static void report_write(const struct alias_write_record *rec,
			 const struct alias_info *e, int policy)
{
	const char *action = policy == ALIAS_WRITE_STOP
				     ? "; VM paused (--alias-write=stop)"
				     : "";

	if (policy == ALIAS_WRITE_IGNORE)
		return;
	log_err("alias write dropped: vcpu %u wrote %u byte%s 0x%llx at 0x%llx (read-only %s of 0x%llx at 0x%llx): %s%s",
		rec->vcpu, rec->len, rec->len == 1 ? "" : "s",
		(unsigned long long)rec->value, (unsigned long long)rec->gpa,
		e->file ? "shared file" : "alias",
		(unsigned long long)e->src_gpa, (unsigned long long)e->gpa,
		rec->insn[0] ? rec->insn : "<instruction not readable>",
		action);
}

/* The table counts and records the write under its lock; the message is
 * printed after, from the copy of the window it hands back. */
int alias_trap_write(struct guest_mem *m, unsigned int vcpu, uint64_t gpa,
		     const uint8_t *data, uint32_t len, const char *insn)
{
	struct alias_write_record rec = { .vcpu = vcpu, .gpa = gpa, .len = len };
	struct alias_info window;
	int policy, ret;

	if (!m->aliases)
		return -ENOENT;
	for (uint32_t i = 0; i < len && i < 8; i++)
		rec.value |= (uint64_t)data[i] << (8 * i);
	snprintf(rec.insn, sizeof(rec.insn), "%s", insn);
	ret = alias_note_write(m, &rec, &window, &policy);
	if (ret == 0)
		report_write(&rec, &window, policy);
	return ret;
}
