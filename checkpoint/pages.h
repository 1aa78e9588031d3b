/* SPDX-License-Identifier: MIT */
/*
 * A layer's memory (docs/checkpoint.md): the pages it holds, each at its
 * fixed offset in the sparse memory file (region by region, page by
 * page; pages not held are holes), and the pages file, which says which
 * pages are held (a bitmap per region) and each one's hash (page_hash.h).
 * Works on guest memory alone, without KVM: unit-testable.
 */
#ifndef KVMTRACK_CKPT_PAGES_H
#define KVMTRACK_CKPT_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint/mac.h"
#include "vmm/mem/memory.h"

struct ckpt_manifest;
struct wbuf;

/*
 * A layer being written. A page may be held again (copied while the guest
 * ran, then written again before the pause): its bytes and hash are
 * replaced, so each page's hash is kept at its index until the end.
 */
struct layer_pages {
	const struct guest_mem *mem;
	int fd; /* the memory file */
	uint64_t *bitmap[MEM_MAX_REGIONS];
	uint64_t *hash_of[MEM_MAX_REGIONS]; /* per page, valid where held */
	uint64_t held[MEM_MAX_REGIONS];
	uint64_t copied_pages; /* writes of a page, held again or not */
	/* Held pages not written yet: [run_first, run_end) of run_region. */
	unsigned int run_region;
	uint64_t run_first, run_end;
	int err;
};

/* Sizes the memory file fd to the whole RAM, all holes. 0 or -errno. */
int layer_pages_init(struct layer_pages *lp, const struct guest_mem *mem,
		     int fd);
void layer_pages_free(struct layer_pages *lp);

/* Holds every page of mem that is not zero (a full checkpoint). Pages
 * already held are copied again: the guest may have written them since. */
int layer_pages_add_written(struct layer_pages *lp);
/* Holds the pages set in bits, one per page from first_page (a multiple
 * of 64) of a region, zero or not (an incremental checkpoint). */
int layer_pages_add_bits(struct layer_pages *lp, unsigned int region,
			 uint64_t first_page, const uint64_t *bits,
			 uint64_t nr_words);
/* Writes the pages held but not written yet. 0 or -errno. */
int layer_pages_flush(struct layer_pages *lp);
/*
 * Writes what is still pending, fills m's regions and its memory and
 * pages file entries, and puts the pages file's bytes into out. With a
 * key (m->auth.kind set), each held page's MAC is taken from the memory
 * file as written, so it covers exactly what a restore will read, and
 * the pages file's tag goes into m->auth.
 */
int layer_pages_finish(struct layer_pages *lp, struct ckpt_manifest *m,
		       const struct ckpt_key *key, struct wbuf *out);

/*
 * Reads the one layer at layer_path into mem (ckpt_chain_load_pages() of
 * a chain of one): every held page checked against its hash, and with
 * key (an authenticated layer's; its manifest's own tag is not checked
 * here) the pages file's tag and each page's MAC. 0, or -errno with what
 * is wrong in err.
 */
int layer_pages_load(const struct ckpt_manifest *m, const struct ckpt_key *key,
		     const char *layer_path, struct guest_mem *mem, char *err,
		     size_t err_len);

#endif
