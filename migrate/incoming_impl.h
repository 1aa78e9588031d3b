/* SPDX-License-Identifier: MIT */
/* The inside of an incoming migration (incoming.c, incoming_cmd.c). */
#ifndef KVMTRACK_INCOMING_IMPL_H
#define KVMTRACK_INCOMING_IMPL_H

#include "migrate/incoming.h"
#include "migrate/stream.h"
#include "vmm/config.h"

struct incoming {
	struct mig_stream s;
	struct vm_config cfg; /* the machine the source described */
	char cmdline[VM_CMDLINE_MAX];
	char peer[128];
	struct vm *vm;
	uint64_t start_ns;
	/* what arrived */
	uint64_t normal_pages;
	uint64_t zero_pages;
	unsigned int passes;
	uint64_t total_ms;
	uint64_t digest;
	bool verified;
};

#endif
