/* SPDX-License-Identifier: MIT */
/* Receiving guest RAM on the destination (ram_recv.c). */
#ifndef KVMTRACK_RAM_RECV_H
#define KVMTRACK_RAM_RECV_H

#include <stdint.h>

#include "migrate/proto.h"
#include "migrate/torn.h"
#include "vmm/mem/memory.h"

struct mig_stream;

struct ram_receiver {
	struct guest_mem *mem;
	/* what arrived */
	uint64_t normal_pages; /* pages with data, whole or sparse */
	uint64_t sparse_pages;
	uint64_t zero_pages;
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
	struct torn_pages torn; /* live pages the guest wrote as they went */
	/* scratch: a frame's page numbers and encodings */
	uint64_t pages[MIG_RAM_MAX_PAGES];
	uint8_t list[16 * MIG_RAM_MAX_PAGES]; /* a RAM frame's (page, hash) */
	uint32_t offsets[MIG_RAM_MAX_PAGES];
};

/* Receives into mem, which is all zero: the digest terms of its pages. */
int ram_receiver_init(struct ram_receiver *rr, struct guest_mem *mem);
/* Frees the terms and forgets what arrived; init may follow. */
void ram_receiver_free(struct ram_receiver *rr);

/*
 * Applies the RAM, RAM_LIVE or SPARSE frame whose header mig_recv() just
 * read from s, and keeps the digest current. Fails on a frame that does
 * not fit the memory layout or is malformed, and on a RAM page that does
 * not match its hash; a RAM_LIVE page that does not is torn (torn.h).
 */
int ram_recv_frame(struct ram_receiver *rr, struct mig_stream *s);
/* At a PASS frame: fails if a page torn in the pass before did not come
 * again in this one. */
int ram_recv_pass_end(struct ram_receiver *rr, struct mig_stream *s);
/* Before the digest: fails if any torn page did not come again. */
int ram_recv_check_torn(struct ram_receiver *rr, struct mig_stream *s);

#endif
