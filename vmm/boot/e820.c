// SPDX-License-Identifier: MIT
/* The guest's E820 map from kvmtrack's memory layout (see e820.h). */
#include "vmm/boot/e820.h"

#include "vmm/mem/memory.h"

static void add(struct e820_entry *out, unsigned int *n, unsigned int max,
		uint64_t gpa, uint64_t size_bytes, uint32_t type)
{
	if (*n >= max || size_bytes == 0)
		return;
	out[(*n)++] = (struct e820_entry){
		.gpa = gpa, .size_bytes = size_bytes, .type = type,
	};
}

unsigned int e820_from_layout(const struct guest_mem *mem,
			      struct e820_entry *out, unsigned int max)
{
	unsigned int n = 0;

	if (max > E820_MAX_ENTRIES)
		max = E820_MAX_ENTRIES;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		uint64_t start = r->gpa, end = r->gpa + r->size_bytes;

		if (start < E820_LEGACY_START_GPA && end > E820_LEGACY_END_GPA) {
			add(out, &n, max, start, E820_LEGACY_START_GPA - start,
			    E820_RAM);
			add(out, &n, max, E820_LEGACY_START_GPA,
			    E820_LEGACY_END_GPA - E820_LEGACY_START_GPA,
			    E820_RESERVED);
			start = E820_LEGACY_END_GPA;
		}
		add(out, &n, max, start, end - start, E820_RAM);
	}
	return n;
}
