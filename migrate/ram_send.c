// SPDX-License-Identifier: MIT
/* Sending guest RAM page runs (see ram_send.h). */
#include "migrate/ram_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "migrate/checksum.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "migrate/wire.h"
#include "vmm/dirty.h"
#include "vmm/memory.h"

#define PAGE GUEST_PAGE_BYTES
/* Pages per CLEAR block: 16 MiB, one ioctl each. */
#define BLOCK_PAGES 4096

/* A run of pages being gathered into one frame. */
struct run {
	unsigned int region;
	uint64_t first_page;
	uint32_t npages;
	bool zero;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ram_sender_init(struct ram_sender *rs)
{
	/* One page more than a frame: the page that ends a run is read
	 * before the run is flushed. */
	rs->buf = aligned_alloc(PAGE, (MIG_RAM_FRAME_PAGES + 1) * PAGE);
	return rs->buf ? 0 : -ENOMEM;
}

int ram_sender_keep_digest(struct ram_sender *rs)
{
	for (unsigned int r = 0; r < rs->mem->nr_regions; r++) {
		rs->terms[r] = calloc(mem_region_pages(&rs->mem->regions[r]),
				      sizeof(uint64_t));
		if (!rs->terms[r])
			return -ENOMEM;
	}
	return 0;
}

void ram_sender_free(struct ram_sender *rs)
{
	free(rs->buf);
	rs->buf = NULL;
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
		free(rs->terms[r]);
		rs->terms[r] = NULL;
	}
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < PAGE / 8; i++)
		acc |= w[i];
	return acc == 0;
}

/* Sleeps as needed to stay under max_bytes_per_s (a 100 ms window). */
static void rate_limit(struct ram_sender *rs, uint64_t bytes)
{
	uint64_t now = now_ns(), allowed_ns;

	if (!rs->max_bytes_per_s)
		return;
	if (now - rs->limit_start_ns > 100000000ull) {
		rs->limit_start_ns = now;
		rs->limit_bytes = 0;
	}
	rs->limit_bytes += bytes;
	allowed_ns = rs->limit_bytes * 1000000000ull / rs->max_bytes_per_s;
	if (allowed_ns > now - rs->limit_start_ns)
		usleep((useconds_t)((allowed_ns - (now - rs->limit_start_ns)) /
				    1000));
}

static int flush_run(struct ram_sender *rs, struct run *run)
{
	uint8_t hdr[16];
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = rs->buf, .iov_len = run->npages * PAGE },
	};
	int ret;

	if (run->npages == 0)
		return 0;
	if (rs->cancel && __atomic_load_n(rs->cancel, __ATOMIC_RELAXED))
		return mig_stream_fail(rs->s, -ECANCELED, "cancelled");
	put_le32(hdr, run->region);
	put_le32(hdr + 4, run->npages);
	put_le64(hdr + 8, run->first_page);
	ret = mig_send(rs->s, run->zero ? MIG_ZERO : MIG_RAM, iov,
		       run->zero ? 1 : 2);
	if (ret)
		return ret;
	if (run->zero)
		rs->total.zero_pages += run->npages;
	else
		rs->total.normal_pages += run->npages;
	rs->total.bytes += MIG_HEADER_BYTES + sizeof(hdr) +
			   (run->zero ? 0 : run->npages * PAGE);
	rate_limit(rs, run->zero ? sizeof(hdr) : run->npages * PAGE);
	if (rs->progress)
		rs->progress(rs->progress_arg, &rs->total);
	run->npages = 0;
	return 0;
}

static void account_sent(struct ram_sender *rs, unsigned int region,
			 uint64_t page, uint64_t term)
{
	uint64_t *slot = &rs->terms[region][page];

	rs->sent_digest += term - *slot;
	rs->sent_nonzero_pages += (term != 0) - (*slot != 0);
	*slot = term;
}

/* Adds one page to the current run, flushing when it cannot extend it. */
static int add_page(struct ram_sender *rs, struct run *run,
		    unsigned int region, uint64_t page)
{
	const struct mem_region *r = &rs->mem->regions[region];
	uint8_t *slot = rs->buf + (size_t)run->npages * PAGE;
	bool zero;
	int ret;

	/* Snapshot first: the guest may change the page under us. */
	memcpy(slot, r->hva + page * PAGE, PAGE);
	zero = page_is_zero(slot);
	if (rs->terms[0])
		account_sent(rs, region, page, zero ? 0
			     : page_digest_term(r->gpa + page * PAGE,
						page_hash(slot)));
	if (run->npages &&
	    (run->region != region || run->first_page + run->npages != page ||
	     run->zero != zero || run->npages == MIG_RAM_FRAME_PAGES)) {
		ret = flush_run(rs, run);
		if (ret)
			return ret;
		/* The page that ended the run starts the next one. */
		if (!zero)
			memcpy(rs->buf, slot, PAGE);
	}
	if (run->npages == 0) {
		run->region = region;
		run->first_page = page;
		run->zero = zero;
	}
	run->npages++;
	return 0;
}

/* Sends the pages set in bits[0..words) of a block starting at page base. */
static int send_block(struct ram_sender *rs, struct run *run,
		      unsigned int region, uint64_t base, const uint64_t *bits,
		      uint64_t words)
{
	for (uint64_t w = 0; w < words; w++) {
		for (uint64_t b = bits[w]; b; b &= b - 1) {
			uint64_t page = base + w * 64 +
					(uint64_t)__builtin_ctzll(b);
			int ret = add_page(rs, run, region, page);

			if (ret)
				return ret;
		}
	}
	return 0;
}

int ram_send_dirty(struct ram_sender *rs, struct dirty_set *set,
		   bool clear_log)
{
	uint64_t block[BLOCK_PAGES / 64];
	struct run run = { 0 };
	int ret = 0;

	for (unsigned int r = 0; r < set->nr_regions && !ret; r++) {
		uint64_t words = (set->nr_pages[r] + 63) / 64;

		for (uint64_t w = 0; w < words && !ret; w += BLOCK_PAGES / 64) {
			uint64_t n = words - w < BLOCK_PAGES / 64
					     ? words - w
					     : BLOCK_PAGES / 64;

			/* They are being sent now: out of the set. */
			if (!dirty_set_take(rs->dirty, set, r, w, n, block))
				continue;
			/* Clear before reading, so a racing write is logged
			 * again (QEMU's ram.c explains the same ordering). */
			if (clear_log)
				ret = dirty_clear_bits(rs->dirty, r, w * 64,
						       n * 64, block);
			ret = ret ?: send_block(rs, &run, r, w * 64, block, n);
		}
	}
	return ret ?: flush_run(rs, &run);
}

int ram_send_resident(struct ram_sender *rs)
{
	struct run run = { 0 };
	int ret = 0;

	for (unsigned int r = 0; r < rs->mem->nr_regions && !ret; r++) {
		const struct mem_region *region = &rs->mem->regions[r];
		uint64_t first, end, from = 0, sent = 0;

		while (!ret && guest_mem_next_data(region, from, &first, &end)) {
			for (uint64_t page = first; page < end && !ret; page++)
				ret = add_page(rs, &run, r, page);
			sent += end - first;
			from = end;
		}
		rs->total.skipped_pages += mem_region_pages(region) - sent;
	}
	return ret ?: flush_run(rs, &run);
}
