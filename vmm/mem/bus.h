/* SPDX-License-Identifier: MIT */
/*
 * The I/O bus: maps port-I/O and MMIO addresses to device handlers. The vCPU
 * exit loop hands every KVM_EXIT_IO / KVM_EXIT_MMIO to bus_dispatch().
 * Regions are registered before the vCPUs start and never removed while they
 * run, so lookups take no lock; devices lock their own state.
 */
#ifndef KVMTRACK_BUS_H
#define KVMTRACK_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum bus_space { BUS_PIO, BUS_MMIO };

/*
 * A device access. offset is relative to the region's base; data holds len
 * bytes (1, 2, 4 or 8), little-endian: the handler fills it on a read and
 * consumes it on a write. Returns 0, or -errno to stop the VM with a report
 * naming the device.
 */
typedef int (*bus_access_fn)(void *opaque, uint64_t offset, uint8_t *data,
			     uint32_t len, bool is_write);

struct bus_region {
	uint64_t base;
	uint64_t len;
	const char *name;
	bus_access_fn access;
	void *opaque;
};

#define BUS_MAX_REGIONS 32

struct bus {
	struct bus_region pio[BUS_MAX_REGIONS];
	struct bus_region mmio[BUS_MAX_REGIONS];
	unsigned int nr_pio;
	unsigned int nr_mmio;
};

/* Adds a region; -EEXIST if it overlaps another, -ENOSPC when full. */
int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, const char *name, bus_access_fn access,
		 void *opaque);

/* The region holding [addr, addr+len), or NULL. */
const struct bus_region *bus_find(const struct bus *bus, enum bus_space space,
				  uint64_t addr, uint32_t len);

/* Dispatches one access; -ENOENT when no device claims the address. */
int bus_dispatch(const struct bus *bus, enum bus_space space, uint64_t addr,
		 uint8_t *data, uint32_t len, bool is_write);

/* Little-endian helpers for handlers. */
static inline uint64_t bus_data_get(const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void bus_data_put(uint8_t *data, uint32_t len, uint64_t v)
{
	for (uint32_t i = 0; i < len && i < 8; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

#endif
