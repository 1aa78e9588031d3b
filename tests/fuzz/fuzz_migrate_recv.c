// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the migration receiver from the first byte (migrate/
 * receive.c over migrate/stream.c, ram_recv.c, page_codec.c, torn.c,
 * alias_state.c and vm_state_parse.c). The input is what a source sends:
 * frames from HELLO to DIGEST. It reaches the receiver through a real
 * socket, written by a thread that also swallows READY and SYNCED, and
 * lands in plain guest memory, as a destination's VM would hold it
 * (plain_dest.h).
 *
 * Every frame carries a CRC32C and every RAM page its hash, so a byte
 * changed at random would only ever test the CRC check. The mutator
 * below gives most mutated inputs their frames' right sequence numbers,
 * CRCs and page hashes again, which takes the fuzzer past them into the
 * parsers; the rest keep what the mutation left, for the checks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/crc32c.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"
#include "migrate/proto.h"
#include "tests/fuzz/plain_dest.h"

#define PAGE GUEST_PAGE_BYTES

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plain_dest *d = malloc(sizeof(*d));
	int ret;

	if (!d)
		abort();
	ret = plain_receive(d, data, size);
	/* FUZZ_VERBOSE=1: say how each input ended, to check the seeds. */
	if (getenv("FUZZ_VERBOSE") && ret)
		fprintf(stderr, "refused: %s\n", mig_stream_error(&d->rx.s));
	else if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "received, %u passes, memory verified\n",
			d->rx.passes);
	plain_dest_free(d);
	free(d);
	return 0;
}

/* A RAM frame's CRC covers its head and page list; its pages carry their
 * hashes. Fixes the hashes of the pages present unless told not to. */
static size_t ram_crc_bytes(uint8_t *p, size_t len, bool fix_hashes)
{
	uint32_t n;
	size_t list;

	if (len < 8)
		return len;
	n = get_le32(p + 4);
	list = 8 + (size_t)n * 16;
	if (n > MIG_RAM_MAX_PAGES || list > len)
		return len;
	for (uint32_t i = 0; fix_hashes && i < n; i++) {
		size_t at = list + (size_t)i * PAGE;

		if (at + PAGE <= len)
			put_le64(p + 8 + 16 * i + 8, page_hash(p + at));
	}
	return list;
}

/* Gives each frame of data[0..size) its sequence number and CRC. */
static void fix_frames(uint8_t *data, size_t size, unsigned int seed)
{
	size_t at = 0;
	uint32_t seq = 0;

	while (size - at >= MIG_HEADER_BYTES) {
		uint8_t *h = data + at, *p = h + MIG_HEADER_BYTES;
		size_t avail = size - at - MIG_HEADER_BYTES;
		size_t len = get_le32(h + 8) < avail ? get_le32(h + 8) : avail;
		size_t crc_len = len;
		uint16_t type = get_le16(h + 6);

		put_le32(h + 12, seq++);
		if (type == MIG_RAM || type == MIG_RAM_LIVE)
			crc_len = ram_crc_bytes(p, len, seed % 8 != 0);
		put_le32(h + 16, crc32c(crc32c(0, h, 16), p, crc_len));
		at += MIG_HEADER_BYTES + len;
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if (seed % 16)
		fix_frames(data, size, seed / 16);
	return size;
}
