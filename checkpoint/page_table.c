// SPDX-License-Identifier: MIT
/* A layer's pages file, read into a table and written from one
 * (page_table.h). */
#include "checkpoint/page_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/chain.h"
#include "checkpoint/manifest.h"
#include "lib/le.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"

uint64_t page_table_put_region(uint64_t gpa, uint64_t nr_pages,
			       const uint64_t *bitmap, const uint64_t *hash_of,
			       struct wbuf *out)
{
	uint64_t words = (nr_pages + 63) / 64, digest = 0;

	for (uint64_t w = 0; w < words; w++)
		wbuf_put_u64(out, bitmap[w]);
	for (uint64_t w = 0; w < words; w++)
		for (uint64_t b = bitmap[w]; b; b &= b - 1) {
			uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(b);

			wbuf_put_u64(out, hash_of[p]);
			digest += page_digest_term(gpa + p * GUEST_PAGE_BYTES,
						   hash_of[p]);
		}
	return digest;
}

void page_table_free(struct page_table *pt)
{
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
		free(pt->bitmap[r]);
		free(pt->hash_of[r]);
	}
	memset(pt, 0, sizeof(*pt));
}

/* Region r from the file's bytes at *at; false if its bitmap does not
 * hold the manifest's count. */
static bool get_region(struct page_table *pt, unsigned int r,
		       const uint8_t **at, uint64_t held)
{
	uint64_t words = (pt->pages[r] + 63) / 64, n = 0;
	const uint8_t *hashes = *at + 8 * words;

	for (uint64_t w = 0; w < words; w++) {
		pt->bitmap[r][w] = get_le64(*at + 8 * w);
		n += (uint64_t)__builtin_popcountll(pt->bitmap[r][w]);
	}
	/* The tail beyond the last page is no page. */
	if (n != held || (pt->pages[r] % 64 &&
			  pt->bitmap[r][words - 1] >> (pt->pages[r] % 64)))
		return false;
	for (uint64_t w = 0; w < words; w++)
		for (uint64_t b = pt->bitmap[r][w]; b; b &= b - 1, hashes += 8)
			pt->hash_of[r][w * 64 + (uint64_t)__builtin_ctzll(b)] =
			    get_le64(hashes);
	pt->held[r] = held;
	*at = hashes;
	return true;
}

int page_table_read(const struct ckpt_manifest *m, const char *layer_path,
		    struct page_table *pt, char *err, size_t err_len)
{
	const struct ckpt_file_ref *pf = &m->files[CKPT_FILE_PAGES];
	const uint8_t *at;
	uint8_t *data;
	int ret;

	memset(pt, 0, sizeof(*pt));
	ret = ckpt_read_file(layer_path, "pages", pf->size_bytes, &data, err,
			     err_len);
	if (ret)
		return ret;
	if (ckpt_bytes_digest(data, pf->size_bytes) != pf->digest) {
		snprintf(err, err_len,
			 "the pages file does not match its digest (altered)");
		free(data);
		return -EBADMSG;
	}
	pt->nr_regions = m->nr_regions;
	at = data;
	for (unsigned int r = 0; r < m->nr_regions && !ret; r++) {
		pt->gpa[r] = m->regions[r].gpa;
		pt->pages[r] = m->regions[r].size_bytes / GUEST_PAGE_BYTES;
		pt->bitmap[r] = calloc((pt->pages[r] + 63) / 64, 8);
		pt->hash_of[r] = calloc(pt->pages[r] ? pt->pages[r] : 1, 8);
		if (!pt->bitmap[r] || !pt->hash_of[r]) {
			snprintf(err, err_len, "out of memory");
			ret = -ENOMEM;
		} else if (!get_region(pt, r, &at, m->regions[r].held_pages)) {
			snprintf(err, err_len,
				 "the pages file's bitmap of region %u does "
				 "not match the manifest",
				 r);
			ret = -EBADMSG;
		}
	}
	free(data);
	return ret;
}
