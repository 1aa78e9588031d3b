/* SPDX-License-Identifier: MIT */
/* The inside of an incoming migration (incoming.c, incoming_cmd.c). */
#ifndef KVMTRACK_INCOMING_IMPL_H
#define KVMTRACK_INCOMING_IMPL_H

#include "migrate/incoming.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "vmm/vm_config.h"
#include "vmm/mem/memory.h"

struct incoming {
	struct mig_stream s;
	struct vm_config cfg; /* the machine the source described */
	char cmdline[VM_CMDLINE_MAX];
	char peer[128];
	struct vm *vm;
	uint64_t start_ns;
	/* what arrived */
	uint64_t normal_pages; /* pages with data, whole or sparse */
	uint64_t sparse_pages;
	uint64_t zero_pages;
	unsigned int passes;
	uint64_t total_ms;
	bool verified;
	/*
	 * The digest of this side's memory, kept up to date as pages land:
	 * each page is hashed from guest memory right after it is written,
	 * and nothing else writes guest memory before the guest resumes. So
	 * at the end it equals a full re-read, without competing for memory
	 * bandwidth with the source's full read during the downtime.
	 */
	uint64_t *terms[MEM_MAX_REGIONS]; /* per page */
	uint64_t digest;
	uint64_t nonzero_pages;
	/* ram_recv.c's scratch: a frame's page numbers and encodings */
	uint64_t pages[MIG_RAM_MAX_PAGES];
	uint8_t list[16 * MIG_RAM_MAX_PAGES]; /* a RAM frame's (page, hash) */
	uint32_t offsets[MIG_RAM_MAX_PAGES];
};

#endif
