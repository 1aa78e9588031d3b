// SPDX-License-Identifier: MIT
/* A layer's memory and pages files, written and read back (pages.h). */
#include "checkpoint/pages.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/chain_load.h"
#include "checkpoint/manifest.h"
#include "checkpoint/page_table.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"

/* The longest write: the bytes go out while the guest runs, not all in
 * one write at the end. */
#define MAX_RUN_PAGES 256

static uint64_t bitmap_words(const struct mem_region *r)
{
	return (mem_region_pages(r) + 63) / 64;
}

/* Region r's first byte in the memory file: the regions one after the
 * other, so a page's offset is fixed by its place in guest RAM. */
static uint64_t file_offset(const struct guest_mem *mem, unsigned int r)
{
	uint64_t off = 0;

	for (unsigned int i = 0; i < r; i++)
		off += mem->regions[i].size_bytes;
	return off;
}

int layer_pages_init(struct layer_pages *lp, const struct guest_mem *mem,
		     int fd)
{
	memset(lp, 0, sizeof(*lp));
	lp->mem = mem;
	lp->fd = fd;
	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		lp->bitmap[r] = calloc(bitmap_words(&mem->regions[r]), 8);
		lp->hash_of[r] = calloc(mem_region_pages(&mem->regions[r]), 8);
		if (!lp->bitmap[r] || !lp->hash_of[r])
			return -ENOMEM;
	}
	return ftruncate(fd, (off_t)mem->ram_bytes) ? -errno : 0;
}

void layer_pages_free(struct layer_pages *lp)
{
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
		free(lp->bitmap[r]);
		free(lp->hash_of[r]);
	}
	memset(lp, 0, sizeof(*lp));
}

static void flush_run(struct layer_pages *lp)
{
	const struct mem_region *reg = &lp->mem->regions[lp->run_region];
	uint64_t first = lp->run_first * GUEST_PAGE_BYTES;

	if (lp->run_end > lp->run_first && !lp->err)
		lp->err = ckpt_file_io(
		    lp->fd, reg->hva + first,
		    (lp->run_end - lp->run_first) * GUEST_PAGE_BYTES,
		    file_offset(lp->mem, lp->run_region) + first, true);
	lp->run_first = lp->run_end = 0;
}

/* Holds one page (again): its bit, its hash, and its bytes in the next
 * write. */
static void hold(struct layer_pages *lp, unsigned int r, uint64_t page,
		 uint64_t hash)
{
	uint64_t bit = 1ull << (page % 64);

	lp->held[r] += !(lp->bitmap[r][page / 64] & bit);
	lp->copied_pages++;
	lp->bitmap[r][page / 64] |= bit;
	lp->hash_of[r][page] = hash;
	if (r != lp->run_region || page != lp->run_end ||
	    lp->run_end == lp->run_first ||
	    lp->run_end - lp->run_first >= MAX_RUN_PAGES) {
		flush_run(lp);
		lp->run_region = r;
		lp->run_first = page;
	}
	lp->run_end = page + 1;
}

int layer_pages_flush(struct layer_pages *lp)
{
	flush_run(lp);
	return lp->err;
}

static bool page_is_zero(const uint64_t *words)
{
	for (unsigned int i = 0; i < GUEST_PAGE_BYTES / 8; i++)
		if (words[i])
			return false;
	return true;
}

int layer_pages_add_written(struct layer_pages *lp)
{
	for (unsigned int r = 0; r < lp->mem->nr_regions && !lp->err; r++) {
		const struct mem_region *reg = &lp->mem->regions[r];
		uint64_t first, end, from = 0;

		while (!lp->err &&
		       guest_mem_next_data(reg, from, &first, &end)) {
			for (uint64_t p = first; p < end && !lp->err; p++) {
				const void *hva =
				    reg->hva + p * GUEST_PAGE_BYTES;
				uint64_t h = page_hash(hva);

				/* A zero page is a hole: the base of a
				 * restore is zero memory. */
				if (h || !page_is_zero(hva))
					hold(lp, r, p, h);
			}
			from = end;
		}
	}
	return lp->err;
}

int layer_pages_add_bits(struct layer_pages *lp, unsigned int region,
			 uint64_t first_page, const uint64_t *bits,
			 uint64_t nr_words)
{
	const struct mem_region *reg = &lp->mem->regions[region];
	uint64_t pages = mem_region_pages(reg);

	for (uint64_t w = 0; w < nr_words && !lp->err; w++)
		for (uint64_t b = bits[w]; b && !lp->err; b &= b - 1) {
			uint64_t p =
			    first_page + w * 64 + (uint64_t)__builtin_ctzll(b);

			if (p < pages)
				hold(
				    lp, region, p,
				    page_hash(reg->hva + p * GUEST_PAGE_BYTES));
		}
	return lp->err;
}

/*
 * Each held page's MAC over its bytes in the memory file, read back in
 * runs of MAX_RUN_PAGES (from the page cache: the guest runs again and
 * may have changed its memory since).
 */
static int mac_region(struct layer_pages *lp, const struct ckpt_key *key,
		      unsigned int r, uint8_t (*mac_of)[CKPT_MAC_BYTES],
		      uint8_t *buf)
{
	const struct mem_region *reg = &lp->mem->regions[r];
	uint64_t pages = mem_region_pages(reg), base = file_offset(lp->mem, r);
	int ret = 0;

	for (uint64_t p = 0, end; p < pages && !ret; p = end) {
		if (!(lp->bitmap[r][p / 64] & (1ull << (p % 64)))) {
			end = p + 1;
			continue;
		}
		for (end = p + 1; end < pages && end - p < MAX_RUN_PAGES &&
				  lp->bitmap[r][end / 64] & (1ull << (end % 64));)
			end++;
		ret = ckpt_file_io(lp->fd, buf, (end - p) * GUEST_PAGE_BYTES,
				   base + p * GUEST_PAGE_BYTES, false);
		for (uint64_t q = p; q < end && !ret; q++)
			ckpt_mac_page(key, reg->gpa + q * GUEST_PAGE_BYTES,
				      buf + (q - p) * GUEST_PAGE_BYTES,
				      mac_of[q]);
	}
	return ret;
}

/* The pages file's region r, with its MACs under key when there is one. */
static uint64_t put_region(struct layer_pages *lp, const struct ckpt_key *key,
			   unsigned int r, uint8_t *buf, struct wbuf *out)
{
	const struct mem_region *reg = &lp->mem->regions[r];
	uint8_t (*mac_of)[CKPT_MAC_BYTES] = NULL;
	uint64_t digest;

	if (key && !lp->err) {
		mac_of = calloc(mem_region_pages(reg) ?: 1, CKPT_MAC_BYTES);
		lp->err = mac_of ? mac_region(lp, key, r, mac_of, buf)
				 : -ENOMEM;
	}
	digest = page_table_put_region(reg->gpa, mem_region_pages(reg),
				       lp->bitmap[r], lp->hash_of[r],
				       (const uint8_t(*)[CKPT_MAC_BYTES])mac_of,
				       out);
	free(mac_of);
	return digest;
}

int layer_pages_finish(struct layer_pages *lp, struct ckpt_manifest *m,
		       const struct ckpt_key *key, struct wbuf *out)
{
	uint8_t *buf = key ? malloc(MAX_RUN_PAGES * GUEST_PAGE_BYTES) : NULL;
	uint64_t digest = 0;

	if (key && !buf)
		return -ENOMEM;
	flush_run(lp);
	m->nr_regions = lp->mem->nr_regions;
	for (unsigned int r = 0; r < lp->mem->nr_regions; r++) {
		const struct mem_region *reg = &lp->mem->regions[r];

		m->regions[r] = (struct ckpt_region){
		    .gpa = reg->gpa,
		    .size_bytes = reg->size_bytes,
		    .file_offset = file_offset(lp->mem, r),
		    .held_pages = lp->held[r],
		};
		digest += put_region(lp, key, r, buf, out);
	}
	free(buf);
	m->files[CKPT_FILE_MEMORY].size_bytes = lp->mem->ram_bytes;
	m->files[CKPT_FILE_MEMORY].digest = digest;
	m->files[CKPT_FILE_PAGES].size_bytes = out->len;
	m->files[CKPT_FILE_PAGES].digest =
	    ckpt_bytes_digest(out->data, out->len);
	if (key && !out->err)
		ckpt_mac_file(key, "pages", out->data, out->len,
			      m->auth.pages_tag);
	return lp->err ?: out->err;
}

int layer_pages_load(const struct ckpt_manifest *m, const struct ckpt_key *key,
		     const char *layer_path, struct guest_mem *mem, char *err,
		     size_t err_len)
{
	struct ckpt_layer *l = malloc(sizeof(*l));
	uint64_t read;
	int ret;

	if (!l)
		return -ENOMEM;
	l->m = *m;
	l->key = key;
	snprintf(l->path, sizeof(l->path), "%s", layer_path);
	ret = ckpt_chain_load_pages(l, 1, mem, &read, err, err_len);
	free(l);
	return ret;
}
