/* SPDX-License-Identifier: MIT */
/*
 * Accesses to nothing: port I/O and MMIO that no device claims. A PC with
 * nothing behind an address answers a read with all ones and drops a write,
 * and a real kernel probes such addresses as a matter of course (Super I/O
 * at 0x2e/0x4e, PCI configuration at 0xcf8, ...); so does kvmtrack, as
 * QEMU, Firecracker and kvmtool do. Each address is counted for `stats`
 * (MMIO by 4 KiB page) and named once under --trace-exits. With
 * --strict-io such an access stops the VM instead, with the instruction:
 * the tests' own guests must never make one.
 */
#ifndef KVMTRACK_UNCLAIMED_H
#define KVMTRACK_UNCLAIMED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/mem/bus.h"

struct jw;

/* Addresses counted one by one; the rest together, as "others". */
#define UNCLAIMED_MAX_ADDRS 32

struct unclaimed_addr {
	uint64_t addr; /* port, or MMIO page's first address */
	uint64_t reads;
	uint64_t writes;
};

struct unclaimed_space {
	struct unclaimed_addr addrs[UNCLAIMED_MAX_ADDRS];
	unsigned int nr_addrs;
	uint64_t others; /* accesses to addresses beyond the table */
};

struct unclaimed {
	pthread_mutex_t lock; /* vCPU threads count; the control thread reads */
	struct unclaimed_space space[2]; /* by enum bus_space */
};

void unclaimed_init(struct unclaimed *u);
void unclaimed_destroy(struct unclaimed *u);

/*
 * Counts an access of len bytes to addr in space, and answers it as an
 * empty bus does: a read fills data with all ones, a write is dropped.
 * Returns true on the first access to that address (port, MMIO page), so
 * the caller can name it once.
 */
bool unclaimed_access(struct unclaimed *u, enum bus_space space, uint64_t addr,
		      uint8_t *data, uint32_t len, bool is_write);

/* Writes "unclaimed": {"ports": [...], "mmio": [...]} into the open object:
 * each address with its reads and writes, and the others' count. */
void unclaimed_stats_json(struct unclaimed *u, struct jw *w);

#endif
