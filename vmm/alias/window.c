// SPDX-License-Identifier: MIT
/*
 * The rules for a new read-only window (window.h): where it may go, and
 * what its source resolves to, so that an alias of an alias maps the
 * memory behind both.
 */
#include <errno.h>
#include <stdio.h>

#include "vmm/alias/alias.h"
#include "vmm/alias/share.h"
#include "vmm/alias/window.h"
#include "vmm/mem/bus.h"
#include "vmm/mem/memory.h"

#define PAGE_MASK (GUEST_PAGE_BYTES - 1)

struct alias_entry *alias_entry_covering(struct alias_entry *entries,
					 unsigned int nr, uint64_t gpa,
					 uint64_t len)
{
	for (unsigned int i = 0; i < nr; i++) {
		struct alias_entry *e = &entries[i];

		if (gpa >= e->gpa && gpa - e->gpa < e->size_bytes &&
		    len <= e->size_bytes - (gpa - e->gpa))
			return e;
	}
	return NULL;
}

static void describe_slot(const struct alias_entry *entries, unsigned int nr,
			  const struct mem_slot *s, char *out, size_t len)
{
	const struct alias_entry *e = NULL;

	for (unsigned int i = 0; i < nr; i++)
		if (entries[i].slot_id == s->id)
			e = &entries[i];
	if (!e)
		snprintf(out, len, "RAM region %s [0x%llx, 0x%llx)",
			 s->region ? s->region->name : "?",
			 (unsigned long long)s->gpa,
			 (unsigned long long)(s->gpa + s->size_bytes));
	else
		snprintf(out, len, "%s%s at [0x%llx, 0x%llx)",
			 e->share ? "shared file " : "alias",
			 e->share ? e->share->name : "",
			 (unsigned long long)e->gpa,
			 (unsigned long long)(e->gpa + e->size_bytes));
}

int alias_check_target(const struct guest_mem *m, const struct bus *bus,
		       const struct alias_entry *entries, unsigned int nr,
		       uint64_t gpa, uint64_t size, char *err, size_t err_len)
{
	const struct mem_slot *s;
	const struct bus_region *dev = NULL;
	char what[96];

	if (!size || (gpa | size) & PAGE_MASK) {
		snprintf(err, err_len,
			 "gpa 0x%llx size 0x%llx: must be non-empty and 4 KiB page-aligned",
			 (unsigned long long)gpa, (unsigned long long)size);
		return -EINVAL;
	}
	if (gpa >= ALIAS_MAX_GPA || size > ALIAS_MAX_GPA - gpa) {
		snprintf(err, err_len,
			 "[0x%llx, +0x%llx) is out of range: the guest-physical space ends at 0x%llx",
			 (unsigned long long)gpa, (unsigned long long)size,
			 ALIAS_MAX_GPA);
		return -EINVAL;
	}
	s = guest_mem_slot_overlap(m, gpa, size);
	if (s) {
		describe_slot(entries, nr, s, what, sizeof(what));
		snprintf(err, err_len, "[0x%llx, 0x%llx) overlaps %s",
			 (unsigned long long)gpa,
			 (unsigned long long)(gpa + size), what);
		return -EINVAL;
	}
	if (gpa < ALIAS_PLATFORM_END_GPA &&
	    gpa + size > ALIAS_PLATFORM_START_GPA) {
		snprintf(err, err_len,
			 "[0x%llx, 0x%llx) overlaps the platform's IOAPIC, LAPIC and KVM TSS range [0x%llx, 0x%llx)",
			 (unsigned long long)gpa,
			 (unsigned long long)(gpa + size),
			 ALIAS_PLATFORM_START_GPA, ALIAS_PLATFORM_END_GPA);
		return -EINVAL;
	}
	for (unsigned int i = 0; bus && i < bus->nr_mmio && !dev; i++)
		if (gpa < bus->mmio[i].base + bus->mmio[i].len &&
		    bus->mmio[i].base < gpa + size)
			dev = &bus->mmio[i];
	if (dev) {
		snprintf(err, err_len,
			 "[0x%llx, 0x%llx) overlaps device %s at 0x%llx",
			 (unsigned long long)gpa,
			 (unsigned long long)(gpa + size), dev->name,
			 (unsigned long long)dev->base);
		return -EINVAL;
	}
	return 0;
}

int alias_resolve_source(const struct guest_mem *m,
			 struct alias_entry *entries, unsigned int nr,
			 uint64_t src, uint64_t size, struct alias_entry *e,
			 char *err, size_t err_len)
{
	int r = guest_mem_region_index(m, src);
	struct alias_entry *via;

	if (src & PAGE_MASK) {
		snprintf(err, err_len, "src_gpa 0x%llx is not 4 KiB page-aligned",
			 (unsigned long long)src);
		return -EINVAL;
	}
	if (r >= 0 && guest_mem_is_ram(m, src, size)) {
		e->region = r;
		e->owner_slot = -1;
		e->hva = m->regions[r].hva + (src - m->regions[r].gpa);
		return 0;
	}
	via = size ? alias_entry_covering(entries, nr, src, size) : NULL;
	if (via) {
		e->region = via->region;
		e->owner_slot = via->share ? (int)via->slot_id : via->owner_slot;
		e->hva = via->hva + (src - via->gpa);
		return 0;
	}
	snprintf(err, err_len,
		 "source [0x%llx, 0x%llx) is out of range: not inside one RAM region, alias or shared file",
		 (unsigned long long)src, (unsigned long long)(src + size));
	return -EINVAL;
}
