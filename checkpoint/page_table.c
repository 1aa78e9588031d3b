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
			       const uint8_t (*mac_of)[CKPT_MAC_BYTES],
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
	for (uint64_t w = 0; mac_of && w < words; w++)
		for (uint64_t b = bitmap[w]; b; b &= b - 1)
			wbuf_put_bytes(out,
				       mac_of[w * 64 + (uint64_t)__builtin_ctzll(b)],
				       CKPT_MAC_BYTES);
	return digest;
}

int page_table_check(const struct page_table *pt, unsigned int r, uint64_t p,
		     const void *page, char *err, size_t err_len)
{
	uint64_t gpa = pt->gpa[r] + p * GUEST_PAGE_BYTES;
	uint8_t mac[CKPT_MAC_BYTES];
	const char *what = NULL;

	if (page_hash(page) != pt->hash_of[r][p])
		what = "does not match its hash (altered)";
	else if (pt->mac_of[r]) {
		ckpt_mac_page(pt->key, gpa, page, mac);
		if (!ckpt_mac_equal(mac, pt->mac_of[r][p], CKPT_MAC_BYTES))
			what = "fails its MAC (altered)";
	}
	if (!what)
		return 0;
	snprintf(err, err_len, "the memory page at GPA %#llx %s",
		 (unsigned long long)gpa, what);
	return -EBADMSG;
}

void page_table_free(struct page_table *pt)
{
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
		free(pt->bitmap[r]);
		free(pt->hash_of[r]);
		free(pt->mac_of[r]);
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
	for (uint64_t w = 0; pt->mac_of[r] && w < words; w++)
		for (uint64_t b = pt->bitmap[r][w]; b;
		     b &= b - 1, hashes += CKPT_MAC_BYTES)
			memcpy(pt->mac_of[r][w * 64 +
					     (uint64_t)__builtin_ctzll(b)],
			       hashes, CKPT_MAC_BYTES);
	pt->held[r] = held;
	*at = hashes;
	return true;
}

/* An authenticated layer's pages file against its tag, before anything
 * in it is believed. */
static int check_tag(const struct ckpt_manifest *m, const struct ckpt_key *key,
		     const uint8_t *data, char *err, size_t err_len)
{
	uint8_t tag[CKPT_TAG_BYTES];

	if (m->auth.kind == CKPT_AUTH_NONE)
		return 0;
	if (!key) {
		snprintf(err, err_len, "the pages file is authenticated and no key was given");
		return -EACCES;
	}
	ckpt_mac_file(key, "pages", data, m->files[CKPT_FILE_PAGES].size_bytes,
		      tag);
	if (!ckpt_mac_equal(tag, m->auth.pages_tag, CKPT_TAG_BYTES)) {
		snprintf(err, err_len,
			 "the pages file fails its MAC (altered, or another key)");
		return -EBADMSG;
	}
	return 0;
}

int page_table_read(const struct ckpt_manifest *m, const struct ckpt_key *key,
		    const char *layer_path, struct page_table *pt, char *err,
		    size_t err_len)
{
	const struct ckpt_file_ref *pf = &m->files[CKPT_FILE_PAGES];
	const uint8_t *at;
	uint8_t *data;
	int ret;

	memset(pt, 0, sizeof(*pt));
	ret = ckpt_read_file(layer_path, "pages", pf->size_bytes, &data, err,
			     err_len);
	ret = ret ?: check_tag(m, key, data, err, err_len);
	if (ret) {
		free(data);
		return ret;
	}
	if (ckpt_bytes_digest(data, pf->size_bytes) != pf->digest) {
		snprintf(err, err_len,
			 "the pages file does not match its digest (altered)");
		free(data);
		return -EBADMSG;
	}
	pt->nr_regions = m->nr_regions;
	pt->key = key;
	at = data;
	for (unsigned int r = 0; r < m->nr_regions && !ret; r++) {
		pt->gpa[r] = m->regions[r].gpa;
		pt->pages[r] = m->regions[r].size_bytes / GUEST_PAGE_BYTES;
		pt->bitmap[r] = calloc((pt->pages[r] + 63) / 64, 8);
		pt->hash_of[r] = calloc(pt->pages[r] ? pt->pages[r] : 1, 8);
		if (m->auth.kind != CKPT_AUTH_NONE)
			pt->mac_of[r] = calloc(pt->pages[r] ? pt->pages[r] : 1,
					       CKPT_MAC_BYTES);
		if (!pt->bitmap[r] || !pt->hash_of[r] ||
		    (m->auth.kind != CKPT_AUTH_NONE && !pt->mac_of[r])) {
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
