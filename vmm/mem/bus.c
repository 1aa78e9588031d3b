// SPDX-License-Identifier: MIT
/* The I/O bus: address -> device handler lookup (see bus.h). */
#include "vmm/mem/bus.h"

#include <errno.h>
#include <stddef.h>

static struct bus_region *space_regions(const struct bus *bus,
					enum bus_space space,
					unsigned int **nr)
{
	struct bus *b = (struct bus *)bus;

	if (space == BUS_PIO) {
		*nr = &b->nr_pio;
		return b->pio;
	}
	*nr = &b->nr_mmio;
	return b->mmio;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, const char *name, bus_access_fn access,
		 void *opaque)
{
	unsigned int *nr;
	struct bus_region *regions = space_regions(bus, space, &nr);

	if (len == 0 || base + len < base)
		return -EINVAL;
	for (unsigned int i = 0; i < *nr; i++)
		if (ranges_overlap(base, len, regions[i].base, regions[i].len))
			return -EEXIST;
	if (*nr == BUS_MAX_REGIONS)
		return -ENOSPC;
	regions[(*nr)++] = (struct bus_region){
		.base = base, .len = len, .name = name,
		.access = access, .opaque = opaque,
	};
	return 0;
}

const struct bus_region *bus_find(const struct bus *bus, enum bus_space space,
				  uint64_t addr, uint32_t len)
{
	unsigned int *nr;
	const struct bus_region *regions = space_regions(bus, space, &nr);

	for (unsigned int i = 0; i < *nr; i++) {
		const struct bus_region *r = &regions[i];

		if (addr >= r->base && addr - r->base < r->len &&
		    len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

int bus_dispatch(const struct bus *bus, enum bus_space space, uint64_t addr,
		 uint8_t *data, uint32_t len, bool is_write)
{
	const struct bus_region *r = bus_find(bus, space, addr, len);

	if (!r)
		return -ENOENT;
	return r->access(r->opaque, addr - r->base, data, len, is_write);
}
