// SPDX-License-Identifier: MIT
/* Sending guest RAM page runs (see ram_send.h). */
#include "migrate/ram_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/wire.h"
#include "migrate/page_codec.h"
#include "migrate/page_hash.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/memory.h"

#define PAGE GUEST_PAGE_BYTES
/* Pages per CLEAR block: 16 MiB, one ioctl each. */
#define BLOCK_PAGES 4096

int ram_sender_init(struct ram_sender *rs)
{
	rs->sparse = malloc(MIG_SPARSE_FRAME_BYTES);
	return rs->sparse ? 0 : -ENOMEM;
}

int ram_sender_keep_digest(struct ram_sender *rs)
{
	for (unsigned int r = 0; r < rs->mem->nr_regions; r++) {
		uint64_t pages = mem_region_pages(&rs->mem->regions[r]);

		rs->terms[r] = calloc(pages, sizeof(uint64_t));
		rs->term_blocks[r] = calloc((pages + 4095) / 4096,
					    sizeof(uint64_t));
		if (!rs->terms[r] || !rs->term_blocks[r])
			return -ENOMEM;
	}
	return 0;
}

void ram_sender_free(struct ram_sender *rs)
{
	free(rs->sparse);
	rs->sparse = NULL;
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
		free(rs->terms[r]);
		rs->terms[r] = NULL;
		free(rs->term_blocks[r]);
		rs->term_blocks[r] = NULL;
	}
}

/* Sleeps as needed to stay under max_bytes_per_s (a 100 ms window). */
static void rate_limit(struct ram_sender *rs, uint64_t bytes)
{
	uint64_t now = clock_now_ns(), allowed_ns;

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

/* Sends one frame of the batch: the caller's payload, then accounting. */
static int send_frame(struct ram_sender *rs, unsigned int type,
		      struct iovec *iov, int iovcnt, int crc_pieces)
{
	uint64_t len = 0;
	int ret;

	if (rs->cancel && __atomic_load_n(rs->cancel, __ATOMIC_RELAXED))
		return mig_stream_fail(rs->s, -ECANCELED, "cancelled");
	ret = mig_send_crc_over(rs->s, type, iov, iovcnt, crc_pieces);
	if (ret)
		return ret;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	rs->total.bytes += MIG_HEADER_BYTES + len;
	rate_limit(rs, len);
	if (rs->progress)
		rs->progress(rs->progress_arg, &rs->total);
	return 0;
}

/* RAM: the page list with hashes (under the CRC), then the pages. */
static int flush_dense(struct ram_sender *rs)
{
	uint8_t head[8 + 16 * MIG_RAM_FRAME_PAGES];
	struct iovec iov[1 + MIG_RAM_FRAME_PAGES];
	uint32_t n = rs->ndense;

	if (n == 0)
		return 0;
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = 8 + 16 * n };
	put_le32(head, rs->batch_region);
	put_le32(head + 4, n);
	for (uint32_t i = 0; i < n; i++) {
		put_le64(head + 8 + 16 * i, rs->dense_pages[i]);
		put_le64(head + 16 + 16 * i, rs->dense_hashes[i]);
		iov[1 + i] = (struct iovec){ .iov_base = (void *)rs->dense_hva[i],
					     .iov_len = PAGE };
	}
	rs->ndense = 0;
	return send_frame(rs, rs->live ? MIG_RAM_LIVE : MIG_RAM, iov,
			  1 + (int)n, 1);
}

/* SPARSE: its 8-byte head was left free in front of the entries. */
static int flush_sparse(struct ram_sender *rs)
{
	struct iovec iov = { .iov_base = rs->sparse, .iov_len = rs->sparse_len };

	if (rs->nsparse == 0)
		return 0;
	put_le32(rs->sparse, rs->batch_region);
	put_le32(rs->sparse + 4, rs->nsparse);
	rs->nsparse = 0;
	return send_frame(rs, MIG_SPARSE, &iov, 1, 1);
}

/* Both frames of the batch. Within a pass each page is sent once, so the
 * two may go in either order; a pass ends with this. */
static int flush_batch(struct ram_sender *rs)
{
	int ret = flush_sparse(rs);

	return ret ?: flush_dense(rs);
}

static void account_sent(struct ram_sender *rs, unsigned int region,
			 uint64_t page, uint64_t term)
{
	uint64_t *slot = &rs->terms[region][page];

	rs->sent_digest += term - *slot;
	rs->sent_nonzero_pages += (term != 0) - (*slot != 0);
	*slot = term;
	if (term)
		rs->term_blocks[region][page / 4096] |= 1ull << (page / 64 % 64);
}

/* One page into the batch: sparse when its encoding is small, else whole. */
static int add_page(struct ram_sender *rs, unsigned int region, uint64_t page)
{
	const struct mem_region *r = &rs->mem->regions[region];
	const uint8_t *hva = r->hva + page * PAGE;
	uint64_t hash;
	size_t n;
	int ret = 0;

	if ((rs->ndense || rs->nsparse) && rs->batch_region != region)
		ret = flush_batch(rs);
	if (!ret && MIG_SPARSE_FRAME_BYTES - rs->sparse_len <
			    8 + PAGE_SPARSE_MAX_BYTES)
		ret = flush_sparse(rs);
	if (ret)
		return ret;
	rs->batch_region = region;
	if (rs->nsparse == 0)
		rs->sparse_len = 8;
	/* One read for a sparse page: what is hashed is what is encoded.
	 * A whole page is hashed, then sent from guest memory. */
	n = page_encode((const uint64_t *)hva, rs->sparse + rs->sparse_len + 8,
			PAGE_SPARSE_MAX_BYTES, &hash);
	if (n) {
		put_le64(rs->sparse + rs->sparse_len, page);
		rs->sparse_len += 8 + n;
		rs->nsparse++;
		if (hash)
			rs->total.sparse_pages++;
	} else {
		rs->dense_hashes[rs->ndense] = hash;
		rs->dense_hva[rs->ndense] = hva;
		rs->dense_pages[rs->ndense++] = page;
	}
	rs->total.page_bytes += PAGE;
	if (hash)
		rs->total.normal_pages++;
	else
		rs->total.zero_pages++;
	if (rs->terms[0])
		account_sent(rs, region, page,
			     page_digest_term(r->gpa + page * PAGE, hash));
	if (rs->ndense == MIG_RAM_FRAME_PAGES)
		ret = flush_dense(rs);
	if (!ret && rs->nsparse == MIG_RAM_MAX_PAGES)
		ret = flush_sparse(rs);
	return ret;
}

/*
 * Asks for the page the loop reads next while it encodes this one: the
 * reads wait on memory (~5 GB/s here), and a page known in advance cuts
 * the encoder's 0.84 us a page to 0.61 (both sparse pages, cold).
 */
static void prefetch_page(const struct ram_sender *rs, unsigned int region,
			  uint64_t page)
{
	const uint8_t *p = rs->mem->regions[region].hva + page * PAGE;

	for (unsigned int line = 0; line < PAGE; line += 64)
		__builtin_prefetch(p + line);
}

/* Sends the pages set in bits[0..words) of a block starting at page base. */
static int send_block(struct ram_sender *rs, unsigned int region,
		      uint64_t base, const uint64_t *bits, uint64_t words)
{
	uint64_t pending = UINT64_MAX;
	int ret = 0;

	for (uint64_t w = 0; w < words && !ret; w++) {
		for (uint64_t b = bits[w]; b && !ret; b &= b - 1) {
			uint64_t page = base + w * 64 +
					(uint64_t)__builtin_ctzll(b);

			if (rs->lose_percent && page % 100 < rs->lose_percent)
				continue;
			prefetch_page(rs, region, page);
			if (pending != UINT64_MAX)
				ret = add_page(rs, region, pending);
			pending = page;
		}
	}
	if (!ret && pending != UINT64_MAX)
		ret = add_page(rs, region, pending);
	return ret;
}

int ram_send_dirty(struct ram_sender *rs, struct dirty_set *set,
		   bool clear_log)
{
	uint64_t block[BLOCK_PAGES / 64];
	int ret = 0;

	/* The log is cleared only while the guest runs. */
	rs->live = clear_log;
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
			ret = ret ?: send_block(rs, r, w * 64, block, n);
		}
	}
	return ret ?: flush_batch(rs);
}

int ram_send_resident(struct ram_sender *rs)
{
	int ret = 0;

	rs->live = true;

	for (unsigned int r = 0; r < rs->mem->nr_regions && !ret; r++) {
		const struct mem_region *region = &rs->mem->regions[r];
		uint64_t first, end, from = 0, sent = 0;

		while (!ret && guest_mem_next_data(region, from, &first, &end)) {
			for (uint64_t page = first; page < end && !ret; page++) {
				if (page + 1 < end)
					prefetch_page(rs, r, page + 1);
				ret = add_page(rs, r, page);
			}
			sent += end - first;
			from = end;
		}
		rs->total.skipped_pages += mem_region_pages(region) - sent;
	}
	return ret ?: flush_batch(rs);
}
