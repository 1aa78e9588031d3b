// SPDX-License-Identifier: MIT
/* A page edited so that its hash stays the same (page_forge.h). */
#include "tests/page_forge.h"

#include <fcntl.h>
#include <unistd.h>

#include "migrate/page_hash.h"

#define WORDS 512

/* x with odd * x = 1 (mod 2^64): right in 3 bits, each step doubles. */
static uint64_t inverse(uint64_t odd)
{
	uint64_t x = odd;

	for (int i = 0; i < 5; i++)
		x *= 2 - odd * x;
	return x;
}

/* Word 0 flipped, word 1 solved for: page_hash_word(keys, 1, w) is
 * rotl(w * MUL, 31) * keys[1], each step invertible. */
static void forge(uint64_t *w)
{
	const uint64_t *keys = page_hash_keys();
	uint64_t want, m;

	want = page_hash_word(keys, 0, w[0]) + page_hash_word(keys, 1, w[1]);
	w[0] ^= 0x0123456789abcdefull;
	want -= page_hash_word(keys, 0, w[0]);
	m = want * inverse(keys[1]);
	w[1] = ((m >> 31) | (m << 33)) * inverse(PAGE_HASH_MUL);
}

bool page_forge_in_file(const char *path, uint64_t page_index)
{
	uint64_t w[WORDS], before;
	off_t at = (off_t)(page_index * sizeof(w));
	int fd = open(path, O_RDWR);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, w, sizeof(w), at) == (ssize_t)sizeof(w);
	before = page_hash(w);
	if (ok)
		forge(w);
	ok = ok && page_hash(w) == before &&
	     pwrite(fd, w, sizeof(w), at) == (ssize_t)sizeof(w);
	close(fd);
	return ok;
}
