/* SPDX-License-Identifier: MIT */
/*
 * One incoming migration on a connected stream, from the first byte to the
 * verified digest: the protocol of proto.h as the destination speaks it,
 * without the VM. The machine is built and loaded through two hooks, so
 * that incoming.c drives it over a KVM VM and the fuzz target
 * (tests/fuzz/) over plain memory, and every byte the peer sends goes
 * through the same checks either way.
 */
#ifndef KVMTRACK_RECEIVE_H
#define KVMTRACK_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/ram_recv.h"
#include "migrate/stream.h"
#include "vmm/vm_config.h"

struct guest_mem;
struct rbuf;

struct mig_receive_ops {
	/*
	 * Builds the machine cfg describes (the source's, checked against
	 * the limits below) and returns its memory, all zero. -errno.
	 */
	int (*build)(void *arg, const struct vm_config *cfg,
		     struct guest_mem **mem);
	/* Loads the STATE frame's machine state (vm_state.h); -errno with
	 * why filled. */
	int (*load_state)(void *arg, struct rbuf *r, char *why, size_t len);
};

struct mig_receive {
	struct mig_stream s;
	struct vm_config cfg; /* the machine the source described */
	char cmdline[VM_CMDLINE_MAX];
	/* NULL until built; set beforehand (with ram initialised) when the
	 * machine was built before the source spoke. */
	struct guest_mem *mem;
	struct ram_receiver ram; /* what arrived, and its digest */
	unsigned int passes;
	bool verified;
};

/*
 * The most RAM a destination takes from a source: this host's physical
 * memory, since every page the source sends must land somewhere, and the
 * receiver's own tables grow with the announced size (8 bytes a page for
 * the digest).
 */
uint64_t mig_receive_max_ram_bytes(void);

struct wbuf;

/*
 * The CONFIG frame's machine description, as sender.c writes it and the
 * destination checks it: RAM size, vCPUs, command line and the device
 * tree (fdt, a packed tree). The read-only windows follow it
 * (alias_state.h).
 */
void mig_config_put(struct wbuf *w, uint64_t mem_bytes, uint32_t nr_cpus,
		    const char *cmdline, const void *fdt);

/*
 * Receives one migration on rx->s (initialised on a connected fd): HELLO,
 * CONFIG (checked against cfg, what this destination was started with, and
 * the limits before anything is built), RAM, SPARSE and PASS frames, STATE
 * and DIGEST. 0 once the memory is verified and the state loaded; else
 * -errno with the stream's error set (mig_stream_error()). The caller
 * frees what was built (ram_receiver_free(), its machine).
 */
int mig_receive(struct mig_receive *rx, const struct vm_config *cfg,
		const struct mig_receive_ops *ops, void *arg);

#endif
