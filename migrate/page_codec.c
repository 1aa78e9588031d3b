// SPDX-License-Identifier: MIT
/* The sparse page encoding (see page_codec.h). */
#include "migrate/page_codec.h"

#include <stdbool.h>
#include <string.h>

#include "migrate/checksum.h"
#include "migrate/wire.h"

#define RUN_HEADER 4

/* Each word of guest memory is read once: the guest may be writing it. */
static inline uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Copies and hashes words [from, PAGE_WORDS), for a page sent whole. */
static uint64_t copy_rest(const uint64_t *keys, const uint64_t *src,
			  uint64_t *copy, unsigned int from)
{
	uint64_t a = 0, b = 0;
	unsigned int i = from;

	if (i & 1) {
		copy[i] = load(src + i);
		a = page_hash_word(keys, i, copy[i]);
		i++;
	}
	/* Two sums, so that the multiplies of neighbouring words overlap. */
	for (; i < PAGE_WORDS; i += 2) {
		uint64_t w0 = load(src + i), w1 = load(src + i + 1);

		copy[i] = w0;
		copy[i + 1] = w1;
		a += page_hash_word(keys, i, w0);
		b += page_hash_word(keys, i + 1, w1);
	}
	return a + b;
}

/* Pages with data in at least half of 8 spread words go whole at once. */
static bool looks_dense(const uint64_t *src)
{
	unsigned int nonzero = 0;

	for (unsigned int i = 7; i < PAGE_WORDS; i += PAGE_WORDS / 8)
		nonzero += load(src + i) != 0;
	return nonzero >= 4;
}

size_t page_encode(const uint64_t *src, uint64_t *copy, uint8_t *out,
		   size_t room, uint64_t *hash)
{
	const uint64_t *keys = page_hash_keys();
	size_t pos = 2, run_at = 0;
	unsigned int nruns = 0, run_first = 0;
	bool in_run = false;
	uint64_t h = 0;

	if (room < 2 || looks_dense(src)) {
		*hash = copy_rest(keys, src, copy, 0);
		return 0;
	}
	for (unsigned int i = 0; i < PAGE_WORDS; i++) {
		uint64_t w = load(src + i);

		copy[i] = w;
		if (!w) {
			if (in_run)
				put_le16(out + run_at + 2,
					 (uint16_t)(i - run_first));
			in_run = false;
			continue;
		}
		h += page_hash_word(keys, i, w);
		if (pos + (in_run ? 8 : RUN_HEADER + 8) > room) {
			*hash = h + copy_rest(keys, src, copy, i + 1);
			return 0;
		}
		if (!in_run) {
			run_at = pos;
			run_first = i;
			put_le16(out + pos, (uint16_t)i);
			pos += RUN_HEADER;
			nruns++;
			in_run = true;
		}
		put_le64(out + pos, w);
		pos += 8;
	}
	if (in_run)
		put_le16(out + run_at + 2, (uint16_t)(PAGE_WORDS - run_first));
	put_le16(out, (uint16_t)nruns);
	*hash = h;
	return pos;
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
