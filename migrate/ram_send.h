/* SPDX-License-Identifier: MIT */
/*
 * Sending guest RAM: per backing region, in batches of pages. Mostly zero
 * pages (and zero pages) are encoded from one read and go in SPARSE
 * frames; the rest are hashed and go whole, straight from guest memory,
 * in RAM frames (RAM_LIVE while the guest runs, since it may write a page
 * between its hash and the socket's copy: proto.h), as QEMU sends them:
 * a private copy first would store every word once more. Pages never
 * touched (not resident) are skipped unread.
 */
#ifndef KVMTRACK_RAM_SEND_H
#define KVMTRACK_RAM_SEND_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate/proto.h"
#include "vmm/mem/memory.h"

struct mig_stream;
struct guest_mem;
struct dirty_tracker;
struct dirty_set;

struct ram_counters {
	uint64_t normal_pages; /* pages with data: whole or sparse */
	uint64_t sparse_pages; /* of those, sent sparse */
	uint64_t zero_pages;
	uint64_t skipped_pages; /* never written: not read, not sent */
	uint64_t bytes; /* RAM and SPARSE frames, headers included */
	/* Guest memory covered, 4 KiB a page however it went: what the
	 * switch-over policy weighs, as sparse pages cost far less wire
	 * than their reading and handling. */
	uint64_t page_bytes;
};

struct ram_sender {
	struct mig_stream *s;
	struct guest_mem *mem;
	struct dirty_tracker *dirty; /* clear KVM's bits before reading */
	uint64_t max_bytes_per_s; /* 0: unlimited */
	const bool *cancel; /* checked between frames */
	unsigned int lose_percent; /* tests only: mig_params x_lose_... */
	struct ram_counters total;
	/*
	 * --verify sent: the digest of every page as last sent, kept up to
	 * date from the hash each page is sent with (terms per region page).
	 * NULL terms: not kept.
	 */
	uint64_t *terms[MEM_MAX_REGIONS];
	/* A bit per 64 pages: set once any of their terms was nonzero, so
	 * the written pages are found without reading every term. */
	uint64_t *term_blocks[MEM_MAX_REGIONS];
	uint64_t sent_digest;
	uint64_t sent_nonzero_pages;
	/* Called after every frame so the caller can publish progress. */
	void (*progress)(void *arg, const struct ram_counters *c);
	void *progress_arg;
	/* private: the batch being gathered, of one region */
	unsigned int batch_region;
	bool live; /* the guest runs: RAM_LIVE frames */
	const uint8_t *dense_hva[MIG_RAM_FRAME_PAGES]; /* the whole pages */
	uint64_t dense_pages[MIG_RAM_FRAME_PAGES];
	uint64_t dense_hashes[MIG_RAM_FRAME_PAGES];
	uint32_t ndense;
	uint8_t *sparse; /* a SPARSE frame's payload */
	size_t sparse_len;
	uint32_t nsparse;
	uint64_t limit_start_ns;
	uint64_t limit_bytes;
};

int ram_sender_init(struct ram_sender *rs);
void ram_sender_free(struct ram_sender *rs);
/* Keeps sent_digest from here on (after init, with mem set). */
int ram_sender_keep_digest(struct ram_sender *rs);

/*
 * The first pass: every resident page of every region. Pages never touched
 * are zero on both sides and are skipped without being read (the page
 * tables say which: guest_mem_next_data()).
 */
int ram_send_resident(struct ram_sender *rs);

/*
 * A later pass: every page set in `set`, which is cleared as pages go.
 * With clear_log (after a dirty_sync() with defer_clear), KVM's bits for
 * each block are cleared just before the block is read, so a write racing
 * with the read is logged again.
 */
int ram_send_dirty(struct ram_sender *rs, struct dirty_set *set,
		   bool clear_log);

#endif
