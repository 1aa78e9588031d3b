/* SPDX-License-Identifier: MIT */
/*
 * A layer's pages file in memory (docs/checkpoint.md): per region, which
 * pages the layer holds and each one's hash at its page index. What a
 * merge folds, and the encoding both the writer and the merge use.
 */
#ifndef KVMTRACK_CKPT_PAGE_TABLE_H
#define KVMTRACK_CKPT_PAGE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint/mac.h"
#include "vmm/mem/memory.h"

struct ckpt_manifest;
struct wbuf;

struct page_table {
	unsigned int nr_regions;
	uint64_t gpa[MEM_MAX_REGIONS];
	uint64_t pages[MEM_MAX_REGIONS];
	uint64_t *bitmap[MEM_MAX_REGIONS];
	uint64_t *hash_of[MEM_MAX_REGIONS]; /* valid where held */
	/* An authenticated layer's page MACs, valid where held; else NULL. */
	uint8_t (*mac_of[MEM_MAX_REGIONS])[CKPT_MAC_BYTES];
	uint64_t held[MEM_MAX_REGIONS];
	const struct ckpt_key *key; /* the MACs' */
};

/*
 * Reads the pages file of the layer at layer_path, checked against m's
 * size and digest (and, for an authenticated layer, its tag under key)
 * and its bitmaps against m's held counts. 0, or -errno with what is
 * wrong in err. page_table_free() it either way.
 */
int page_table_read(const struct ckpt_manifest *m, const struct ckpt_key *key,
		    const char *layer_path, struct page_table *pt, char *err,
		    size_t err_len);
void page_table_free(struct page_table *pt);

static inline bool page_table_holds(const struct page_table *pt,
				    unsigned int r, uint64_t page)
{
	return pt->bitmap[r][page / 64] & (1ull << (page % 64));
}

/*
 * Page p of region r, read into page, against its hash and (an
 * authenticated layer) its MAC: 0, or -EBADMSG with the page's address
 * and what is wrong in err.
 */
int page_table_check(const struct page_table *pt, unsigned int r, uint64_t p,
		     const void *page, char *err, size_t err_len);

/*
 * One region of a pages file: the bitmap (a u64 per 64 pages), then each
 * held page's hash in page order, then (mac_of not NULL) each one's MAC.
 * Returns the held pages' memory digest (the sum of page_digest_term()).
 */
uint64_t page_table_put_region(uint64_t gpa, uint64_t nr_pages,
			       const uint64_t *bitmap, const uint64_t *hash_of,
			       const uint8_t (*mac_of)[CKPT_MAC_BYTES],
			       struct wbuf *out);

#endif
