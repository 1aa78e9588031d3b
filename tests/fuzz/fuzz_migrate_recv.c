// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the migration receiver from the first byte (migrate/
 * receive.c over migrate/stream.c, ram_recv.c, page_codec.c, torn.c,
 * alias_state.c and vm_state_parse.c). The input is what a source sends:
 * frames from HELLO to DIGEST. It reaches the receiver through a real
 * socket, written by a thread that also swallows READY and SYNCED, and
 * lands in plain guest memory, as a destination's VM would hold it.
 *
 * Every frame carries a CRC32C and every RAM page its hash, so a byte
 * changed at random would only ever test the CRC check. The mutator
 * below gives most mutated inputs their frames' right sequence numbers,
 * CRCs and page hashes again, which takes the fuzzer past them into the
 * parsers; the rest keep what the mutation left, for the checks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"
#include "migrate/proto.h"
#include "migrate/receive.h"
#include "migrate/vm_state_parse.h"
#include "tests/fuzz/fuzz.h"

#define PAGE GUEST_PAGE_BYTES

struct feeder {
	int fd;
	const uint8_t *data;
	size_t size;
};

/*
 * The source's side: sends the input while reading the replies, so that
 * neither side waits on a full socket buffer for the other, then reads
 * until the receiver closes its end.
 */
static void *feed(void *arg)
{
	struct feeder *f = arg;
	uint8_t sink[4096];
	size_t at = 0;

	while (at < f->size) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN | POLLOUT };
		ssize_t n = 0;

		if (poll(&p, 1, -1) < 0)
			break;
		if (p.revents & POLLIN)
			n = read(f->fd, sink, sizeof(sink));
		if (n >= 0 && (p.revents & POLLOUT))
			n = send(f->fd, f->data + at, f->size - at,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0 && (p.revents & POLLOUT))
			at += (size_t)n;
		if (p.revents & (POLLERR | POLLHUP))
			break;
	}
	shutdown(f->fd, SHUT_WR);
	while (read(f->fd, sink, sizeof(sink)) > 0)
		;
	return NULL;
}

struct dest {
	struct guest_mem mem;
	bool built;
};

static int build(void *arg, const struct vm_config *cfg,
		 struct guest_mem **mem)
{
	struct dest *d = arg;
	int ret = fuzz_mem_create(&d->mem, cfg->mem_bytes);

	if (ret)
		return ret;
	d->built = true;
	*mem = &d->mem;
	return 0;
}

/* What vm_state_load() checks before KVM sees anything. */
static int load_state(void *arg, struct rbuf *r, char *why, size_t len)
{
	struct vm_state_parsed p = { 0 };
	int ret = vm_state_parse(r, &p, why, len);

	vm_state_parsed_free(&p);
	return ret;
}

static const struct mig_receive_ops ops = {
	.build = build,
	.load_state = load_state,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feeder f = { .data = data, .size = size };
	struct vm_config cfg = { .cmdline = "" };
	struct dest d = { 0 };
	struct mig_receive *rx = calloc(1, sizeof(*rx));
	pthread_t thread;
	int fds[2];

	if (!rx || socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		abort();
	f.fd = fds[0];
	if (pthread_create(&thread, NULL, feed, &f))
		abort();
	mig_stream_init(&rx->s, fds[1]);
	/* FUZZ_VERBOSE=1: say how each input ended, to check the seeds. */
	if (mig_receive(rx, &cfg, &ops, &d) && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "refused: %s\n", mig_stream_error(&rx->s));
	else if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "received, %u passes, memory verified\n",
			rx->passes);
	close(fds[1]);
	pthread_join(thread, NULL);
	close(fds[0]);
	ram_receiver_free(&rx->ram);
	if (d.built)
		guest_mem_destroy(&d.mem);
	mig_stream_free(&rx->s);
	free(rx);
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
