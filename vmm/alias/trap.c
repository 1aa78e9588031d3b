// SPDX-License-Identifier: MIT
/*
 * Guest writes to read-only windows (alias.h): KVM turns each into an MMIO
 * exit; the write is dropped, counted on its window and recorded, and the
 * policy (--alias-write) says whether the VM goes on.
 */
#include <errno.h>
#include <stdio.h>

#include "vmm/alias/alias_impl.h"
#include "lib/log.h"

bool alias_covers(const struct guest_mem *m, uint64_t gpa, uint32_t len,
		  int *policy)
{
	struct alias_table *t = m->aliases;
	bool hit;

	if (!t)
		return false;
	pthread_mutex_lock(&t->lock);
	hit = alias_entry_covering(t, gpa, len) != NULL;
	*policy = t->policy;
	pthread_mutex_unlock(&t->lock);
	return hit;
}

static void record_write(struct alias_table *t, const struct alias_entry *e,
			 const struct alias_write_record *rec)
{
	const char *action = t->policy == ALIAS_WRITE_STOP
				     ? "; VM paused (--alias-write=stop)"
				     : "";

	t->last[t->nr_records++ % ALIAS_LOG_RECORDS] = *rec;
	if (t->policy == ALIAS_WRITE_IGNORE)
		return;
	log_err("alias write dropped: vcpu %u wrote %u byte%s 0x%llx at 0x%llx (read-only %s of 0x%llx at 0x%llx): %s%s",
		rec->vcpu, rec->len, rec->len == 1 ? "" : "s",
		(unsigned long long)rec->value, (unsigned long long)rec->gpa,
		e->share ? "shared file" : "alias",
		(unsigned long long)e->src_gpa, (unsigned long long)e->gpa,
		rec->insn[0] ? rec->insn : "<instruction not readable>",
		action);
}

int alias_trap_write(struct guest_mem *m, unsigned int vcpu, uint64_t gpa,
		     const uint8_t *data, uint32_t len, const char *insn)
{
	struct alias_table *t = m->aliases;
	struct alias_write_record rec = { .vcpu = vcpu, .gpa = gpa, .len = len };
	struct alias_entry *e;

	if (!t)
		return -ENOENT;
	for (uint32_t i = 0; i < len && i < 8; i++)
		rec.value |= (uint64_t)data[i] << (8 * i);
	snprintf(rec.insn, sizeof(rec.insn), "%s", insn);
	pthread_mutex_lock(&t->lock);
	e = alias_entry_covering(t, gpa, len);
	if (e) {
		e->writes_trapped++;
		t->writes_trapped++;
		rec.alias_gpa = e->gpa;
		record_write(t, e, &rec);
	}
	pthread_mutex_unlock(&t->lock);
	return e ? 0 : -ENOENT;
}

uint64_t alias_writes_trapped(const struct guest_mem *m)
{
	uint64_t n;

	if (!m->aliases)
		return 0;
	pthread_mutex_lock(&m->aliases->lock);
	n = m->aliases->writes_trapped;
	pthread_mutex_unlock(&m->aliases->lock);
	return n;
}
