// SPDX-License-Identifier: MIT
/*
 * Receiving RAM and SPARSE frames into the destination's guest memory.
 * Every page number is checked against the memory layout, and a frame's
 * structure is checked whole, before any byte lands in guest memory.
 */
#include "migrate/ram_recv.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lib/wire.h"
#include "migrate/page_codec.h"
#include "migrate/page_hash.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "vmm/mem/memory.h"

#define PAGE GUEST_PAGE_BYTES

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int ram_receiver_init(struct ram_receiver *rr, struct guest_mem *mem)
{
	rr->mem = mem;
	if (torn_init(&rr->torn, mem))
		return -ENOMEM;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		rr->terms[i] = calloc(mem_region_pages(&mem->regions[i]),
				      sizeof(uint64_t));
		if (!rr->terms[i]) {
			ram_receiver_free(rr);
			return -ENOMEM;
		}
	}
	return 0;
}

void ram_receiver_free(struct ram_receiver *rr)
{
	for (unsigned int i = 0; i < MEM_MAX_REGIONS; i++) {
		free(rr->terms[i]);
		rr->terms[i] = NULL;
	}
	torn_free(&rr->torn);
	rr->torn.total = 0;
	rr->mem = NULL;
	rr->digest = 0;
	rr->nonzero_pages = 0;
	rr->normal_pages = rr->sparse_pages = rr->zero_pages = 0;
}

/* A page's new digest term in place of its old one. */
static void account_term(struct ram_receiver *rr, unsigned int region,
			 uint64_t page, uint64_t hash)
{
	const struct mem_region *r = &rr->mem->regions[region];
	uint64_t *slot = &rr->terms[region][page];
	uint64_t term = page_digest_term(r->gpa + page * PAGE, hash);

	rr->digest += term - *slot;
	rr->nonzero_pages += (term != 0) - (*slot != 0);
	*slot = term;
}

/*
 * Allocates the frame's runs of consecutive pages (a first pass sends
 * long ones) in one call each: one fault per page inside recv() or the
 * decoder costs ~10x more here (KVM-HERE.md). Shorter runs are left to
 * fault; scattered pages of later passes were mostly allocated by then.
 */
#define POPULATE_MIN_PAGES 8
static void populate(const struct mem_region *r, const uint64_t *pages,
		     uint32_t n)
{
	uint32_t start = 0;

	for (uint32_t i = 1; i <= n; i++) {
		if (i < n && pages[i] == pages[i - 1] + 1)
			continue;
		if (i - start >= POPULATE_MIN_PAGES)
			madvise(r->hva + pages[start] * PAGE,
				(size_t)(i - start) * PAGE, MADV_POPULATE_WRITE);
		start = i;
	}
}

/* The frame's region and page count, checked; NULL after a failure. */
static const struct mem_region *frame_region(struct ram_receiver *rr,
					     struct mig_stream *s,
					     const uint8_t *head,
					     uint32_t *region, uint32_t *npages)
{
	struct guest_mem *mem = rr->mem;

	*region = get_le32(head);
	*npages = get_le32(head + 4);
	if (*region >= mem->nr_regions || *npages == 0 ||
	    *npages > MIG_RAM_MAX_PAGES) {
		mig_stream_fail(s, -EBADMSG,
				"%s frame of %u pages for region %u does not fit the memory layout",
				mig_frame_name(s->type), *npages, *region);
		return NULL;
	}
	return &mem->regions[*region];
}

static int bad_page(struct mig_stream *s, uint64_t page, uint32_t region)
{
	return mig_stream_fail(s, -EBADMSG,
			       "%s frame: page %llu is outside region %u",
			       mig_frame_name(s->type),
			       (unsigned long long)page, region);
}

/* The frame's page i landed with hash; wanted is what the source said. */
static int check_page(struct ram_receiver *rr, struct mig_stream *s,
		      uint32_t region, uint64_t page, uint64_t hash,
		      uint64_t wanted)
{
	if (hash == wanted)
		torn_landed(&rr->torn, region, page);
	else if (s->type == MIG_RAM_LIVE)
		torn_mark(&rr->torn, region, page);
	else
		return mig_stream_fail(s, -EBADMSG,
				       "frame %u (RAM): page %llu does not match its hash: corrupted in transit",
				       s->recv_seq - 1,
				       (unsigned long long)page);
	/* What landed, either way: a torn page's next copy replaces it. */
	account_term(rr, region, page, hash);
	return 0;
}

/* RAM and RAM_LIVE: the page list, then the pages read straight into
 * guest memory. */
static int receive_ram(struct ram_receiver *rr, struct mig_stream *s)
{
	struct iovec iov[MIG_RAM_MAX_PAGES];
	uint32_t crc = mig_recv_crc_begin(s);
	const struct mem_region *r;
	uint32_t region, npages;
	uint8_t head[8];
	int ret;

	if (s->len < sizeof(head))
		return mig_stream_fail(s, -EBADMSG, "short RAM frame");
	ret = mig_recv_payload_into(s, head, sizeof(head), &crc);
	if (ret)
		return ret;
	r = frame_region(rr, s, head, &region, &npages);
	if (!r)
		return mig_recv_blame(s, sizeof(head), crc);
	if (s->len != sizeof(head) + (uint64_t)npages * (16 + PAGE)) {
		mig_stream_fail(s, -EBADMSG,
				"RAM frame of %u pages has %u bytes", npages,
				s->len);
		return mig_recv_blame(s, sizeof(head), crc);
	}
	ret = mig_recv_payload_into(s, rr->list, npages * 16ull, &crc);
	ret = ret ?: mig_recv_finish(s, crc);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < npages; i++) {
		uint64_t page = get_le64(rr->list + 16 * i);

		if (page >= mem_region_pages(r))
			return bad_page(s, page, region);
		rr->pages[i] = page;
		iov[i] = (struct iovec){ .iov_base = r->hva + page * PAGE,
					 .iov_len = PAGE };
	}
	populate(r, rr->pages, npages);
	ret = mig_recv_payload_iov(s, iov, (int)npages, NULL);
	if (ret)
		return ret;
	/* Hashed from guest memory, right after it was written. */
	for (uint32_t i = 0; i < npages && !ret; i++) {
		uint64_t page = rr->pages[i];

		ret = check_page(rr, s, region, page,
				 page_hash(r->hva + page * PAGE),
				 get_le64(rr->list + 16 * i + 8));
	}
	if (ret)
		return ret;
	rr->normal_pages += npages;
	return 0;
}

/* SPARSE: read and CRC-checked whole by mig_recv(); parsed, then applied. */
static int receive_sparse(struct ram_receiver *rr, struct mig_stream *s)
{
	const uint8_t *p = s->payload;
	size_t len = s->len, pos = 8;
	const struct mem_region *r;
	uint32_t region, npages, nonzero = 0;

	if (len < 8)
		return mig_stream_fail(s, -EBADMSG, "short SPARSE frame");
	r = frame_region(rr, s, p, &region, &npages);
	if (!r)
		return s->err;
	for (uint32_t i = 0; i < npages; i++) {
		const char *why = "truncated page number";
		uint64_t page;
		size_t n = 0;

		if (len - pos >= 8) {
			page = get_le64(p + pos);
			if (page >= mem_region_pages(r))
				return bad_page(s, page, region);
			rr->pages[i] = page;
			rr->offsets[i] = (uint32_t)(pos + 8);
			n = page_encoded_len(p + pos + 8, len - pos - 8, &why);
			nonzero += n && !page_encoded_zero(p + pos + 8);
		}
		if (!n)
			return mig_stream_fail(s, -EBADMSG,
					       "SPARSE frame, page %u of %u: %s",
					       i + 1, npages, why);
		pos += 8 + n;
	}
	if (pos != len)
		return mig_stream_fail(s, -EBADMSG,
				       "SPARSE frame: %zu bytes after its %u pages",
				       len - pos, npages);
	if (nonzero >= npages / 2)
		populate(r, rr->pages, npages);
	for (uint32_t i = 0; i < npages; i++) {
		const uint8_t *enc = p + rr->offsets[i];
		uint64_t page = rr->pages[i];
		/* A zero term is a zero page: memory starts zero and only
		 * these frames write it before the guest resumes. */
		bool was_zero = !rr->terms[region][page];

		torn_landed(&rr->torn, region, page);
		if (page_encoded_zero(enc)) {
			rr->zero_pages++;
			/* Nothing to clear (nor to allocate). */
			if (was_zero)
				continue;
		} else {
			rr->normal_pages++;
			rr->sparse_pages++;
		}
		account_term(rr, region, page,
			     page_decode(enc, (uint64_t *)(r->hva + page * PAGE),
					 was_zero));
	}
	return 0;
}

int ram_recv_frame(struct ram_receiver *rr, struct mig_stream *s)
{
	return s->type == MIG_SPARSE ? receive_sparse(rr, s)
				     : receive_ram(rr, s);
}

static int torn_left(struct mig_stream *s, unsigned int region,
		     uint64_t page, const char *when)
{
	return mig_stream_fail(s, -EBADMSG,
			       "page %llu of region %u did not match its hash and was not sent again %s: a dirty page the source missed, or corrupted in transit",
			       (unsigned long long)page, region, when);
}

int ram_recv_pass_end(struct ram_receiver *rr, struct mig_stream *s)
{
	unsigned int region;
	uint64_t page;

	if (torn_pass_end(&rr->torn, &region, &page))
		return 0;
	return torn_left(s, region, page, "in the next pass");
}

int ram_recv_check_torn(struct ram_receiver *rr, struct mig_stream *s)
{
	unsigned int region;
	uint64_t page;

	if (torn_none_left(&rr->torn, &region, &page))
		return 0;
	return torn_left(s, region, page, "before the digest");
}
