/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share (tests/fuzz/, docs/security.md): the
 * libFuzzer entry points, and an in-memory machine that the migration and
 * checkpoint targets load guest memory into, with no /dev/kvm.
 */
#ifndef KVMTRACK_FUZZ_H
#define KVMTRACK_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/mem/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);

/*
 * The most guest RAM a target maps for an input: a stream may announce
 * more (up to the host's memory, receive.c's limit), which the target
 * then refuses as a destination short of memory would, so that one input
 * never costs more than a few milliseconds.
 */
#define FUZZ_MAX_MEM_BYTES (64ull << 20)

/* guest_mem_create() for at most FUZZ_MAX_MEM_BYTES; -ENOMEM above. */
static inline int fuzz_mem_create(struct guest_mem *mem, uint64_t ram_bytes)
{
	if (ram_bytes > FUZZ_MAX_MEM_BYTES)
		return -ENOMEM;
	return guest_mem_create(mem, ram_bytes);
}

#endif
