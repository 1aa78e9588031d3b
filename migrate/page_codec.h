/* SPDX-License-Identifier: MIT */
/*
 * The sparse page encoding of SPARSE frames (proto.h). Many written pages
 * are mostly zero: fresh heap, page tables, buffers written at the front.
 * Such a page goes as its runs of nonzero 64-bit words only:
 *
 *   u16 nruns, then nruns times: u16 first_word, u16 nwords, nwords * u64
 *
 * Runs are in ascending order, do not touch (a zero word separates them),
 * and lie inside the page; nruns = 0 is the zero page. The encoder gives
 * up on a page whose encoding would exceed a limit, and the page then
 * goes whole in a RAM frame.
 */
#ifndef KVMTRACK_PAGE_CODEC_H
#define KVMTRACK_PAGE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_WORDS 512
/* The most a sparse page may take: beyond half a page, sending it whole
 * costs the link little more and the receiver less. */
#define PAGE_SPARSE_MAX_BYTES 2048

/*
 * Encodes the page at src into out, of room bytes, and returns the length;
 * or returns 0 when the encoding would exceed room or the page looks
 * dense, having hashed the page once more, to go whole from src. The
 * guest may be writing the page meanwhile: *hash is the hash of what was
 * encoded, or of what was read for a whole page (RAM_LIVE, proto.h).
 */
size_t page_encode(const uint64_t *src, uint8_t *out, size_t room,
		   uint64_t *hash);

/*
 * Checks one encoded page at in[0..len): returns its length, or 0 when it
 * is malformed (truncated, runs out of order or outside the page), with
 * *why saying how.
 */
size_t page_encoded_len(const uint8_t *in, size_t len, const char **why);

/*
 * Writes the page from an encoding page_encoded_len() accepted, and
 * returns its page_hash(). Only the runs are written when the caller knows
 * the page was zero (saving a touch of every cache line); otherwise the
 * words between them are zeroed.
 */
uint64_t page_decode(const uint8_t *in, uint64_t *page, bool was_zero);

/* True for the zero page's encoding (no runs). */
static inline int page_encoded_zero(const uint8_t *in)
{
	return in[0] == 0 && in[1] == 0;
}

#endif
