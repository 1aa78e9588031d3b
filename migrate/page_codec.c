// SPDX-License-Identifier: MIT
/* The sparse page encoding (see page_codec.h). */
#include "migrate/page_codec.h"

#include <stdbool.h>
#include <string.h>

#include "lib/wire.h"
#include "migrate/page_hash.h"

#define RUN_HEADER 4

/* Each word of guest memory is read once: the guest may be writing it. */
static inline uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Pages with data in at least half of 8 spread words go whole at once. */
static bool looks_dense(const uint64_t *src)
{
	unsigned int nonzero = 0;

	for (unsigned int i = 7; i < PAGE_WORDS; i += PAGE_WORDS / 8)
		nonzero += load(src + i) != 0;
	return nonzero >= 4;
}

/*
 * Bit b set when 64-byte block b holds a nonzero word. This first read is
 * the one that waits for memory; it keeps 8 independent loads in flight
 * and stores nothing, so a mostly zero page costs little more than its
 * fetch (~0.8 us for 4 KiB here). A word the guest makes nonzero after
 * this read is not sent, and need not be: it was written after the dirty
 * bit was cleared, so the next pass sends the page again.
 */
static uint64_t nonzero_blocks(const uint64_t *src)
{
	uint64_t mask = 0;

	for (unsigned int b = 0; b < PAGE_WORDS / 8; b++) {
		const uint64_t *p = src + b * 8;
		uint64_t any = load(p) | load(p + 1) | load(p + 2) |
			       load(p + 3) | load(p + 4) | load(p + 5) |
			       load(p + 6) | load(p + 7);

		mask |= (uint64_t)(any != 0) << b;
	}
	return mask;
}

/* A sparse encoding being written. */
struct runs {
	uint8_t *out;
	size_t pos, room, run_at;
	unsigned int nruns, run_first, next; /* next: word after last run */
	uint64_t hash;
};

/* Writes the length of the last run, once it has its last word. */
static void close_run(struct runs *e)
{
	if (e->nruns)
		put_le16(e->out + e->run_at + 2,
			 (uint16_t)(e->next - e->run_first));
}

/* Appends the nonzero words of block b as runs; false when out of room. */
static bool encode_block(struct runs *e, const uint64_t *keys,
			 const uint64_t *src, unsigned int b)
{
	for (unsigned int i = b * 8; i < b * 8 + 8; i++) {
		uint64_t w = load(src + i);
		bool extends = e->nruns && e->next == i;

		if (!w)
			continue;
		if (e->pos + (extends ? 8 : RUN_HEADER + 8) > e->room)
			return false;
		if (!extends) {
			close_run(e);
			e->run_at = e->pos;
			e->run_first = i;
			put_le16(e->out + e->pos, (uint16_t)i);
			e->pos += RUN_HEADER;
			e->nruns++;
		}
		put_le64(e->out + e->pos, w);
		e->pos += 8;
		e->next = i + 1;
		e->hash += page_hash_word(keys, i, w);
	}
	return true;
}

size_t page_encode(const uint64_t *src, uint8_t *out, size_t room,
		   uint64_t *hash)
{
	const uint64_t *keys = page_hash_keys();
	struct runs e = { .out = out, .pos = 2, .room = room };
	uint64_t mask;

	if (room < 2 || looks_dense(src))
		goto whole;
	mask = nonzero_blocks(src);
	/* Each nonzero block costs at least a run of one word. */
	if ((size_t)__builtin_popcountll(mask) * (RUN_HEADER + 8) > room - 2)
		goto whole;
	for (; mask; mask &= mask - 1)
		if (!encode_block(&e, keys, src,
				  (unsigned int)__builtin_ctzll(mask)))
			goto whole;
	close_run(&e);
	put_le16(out, (uint16_t)e.nruns);
	*hash = e.hash;
	return e.pos;
whole:
	*hash = page_hash(src);
	return 0;
}

size_t page_encoded_len(const uint8_t *in, size_t len, const char **why)
{
	size_t pos = 2;
	unsigned int nruns, next = 0;

	if (len < 2) {
		*why = "truncated page";
		return 0;
	}
	nruns = get_le16(in);
	for (unsigned int r = 0; r < nruns; r++) {
		unsigned int first, n;

		if (len - pos < RUN_HEADER) {
			*why = "truncated run";
			return 0;
		}
		first = get_le16(in + pos);
		n = get_le16(in + pos + 2);
		pos += RUN_HEADER;
		/* Ascending and not touching, as the encoder makes them: one
		 * encoding per page. */
		if (n == 0 || first < next + (r > 0) || first > PAGE_WORDS ||
		    n > PAGE_WORDS - first) {
			*why = "run outside the page or out of order";
			return 0;
		}
		if ((len - pos) / 8 < n) {
			*why = "truncated run";
			return 0;
		}
		pos += (size_t)n * 8;
		next = first + n;
	}
	return pos;
}

uint64_t page_decode(const uint8_t *in, uint64_t *page, bool was_zero)
{
	const uint64_t *keys = page_hash_keys();
	unsigned int nruns = get_le16(in), next = 0;
	size_t pos = 2;
	uint64_t h = 0;

	for (unsigned int r = 0; r < nruns; r++) {
		unsigned int first = get_le16(in + pos);
		unsigned int n = get_le16(in + pos + 2);

		pos += RUN_HEADER;
		if (!was_zero)
			memset(page + next, 0, (first - next) * 8);
		for (unsigned int i = 0; i < n; i++) {
			uint64_t w = get_le64(in + pos + i * 8);

			page[first + i] = w;
			h += page_hash_word(keys, first + i, w);
		}
		pos += (size_t)n * 8;
		next = first + n;
	}
	if (!was_zero)
		memset(page + next, 0, (PAGE_WORDS - next) * 8);
	return h;
}
