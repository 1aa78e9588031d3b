/* SPDX-License-Identifier: MIT */
/*
 * A migration destination over plain memory, with no /dev/kvm: the
 * receiver of migrate/receive.c fed a recorded or fuzzed stream through a
 * real socketpair, building its machine as mmap'd guest memory and
 * checking the STATE frame as vm_state_load() does before KVM sees it.
 * The migrate_recv fuzz target and the replay unit test
 * (tests/unit/test_receive_replay.c) both receive through it.
 */
#ifndef KVMTRACK_FUZZ_PLAIN_DEST_H
#define KVMTRACK_FUZZ_PLAIN_DEST_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate/receive.h"
#include "migrate/vm_state_parse.h"
#include "tests/fuzz/fuzz.h"

struct plain_feeder {
	int fd;
	const uint8_t *data;
	size_t size;
};

/*
 * The source's side: sends the input while reading the replies, so that
 * neither side waits on a full socket buffer for the other, then reads
 * until the receiver closes its end.
 */
static inline void *plain_feed(void *arg)
{
	struct plain_feeder *f = arg;
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

struct plain_dest {
	struct mig_receive rx;
	struct guest_mem mem;
	bool built;
};

static inline int plain_build(void *arg, const struct vm_config *cfg,
			      struct guest_mem **mem)
{
	struct plain_dest *d = arg;
	int ret = fuzz_mem_create(&d->mem, cfg->mem_bytes);

	if (ret)
		return ret;
	d->built = true;
	*mem = &d->mem;
	return 0;
}

/* What vm_state_load() checks before KVM sees anything. */
static inline int plain_load_state(void *arg, struct rbuf *r, char *why,
				   size_t len)
{
	struct vm_state_parsed p = { 0 };
	int ret = vm_state_parse(r, &p, why, len);

	vm_state_parsed_free(&p);
	return ret;
}

/*
 * Receives data[0..size) as a destination started without -m and -c:
 * mig_receive()'s result, with d->rx and d->mem left to look at until
 * plain_dest_free(). d is zeroed first.
 */
static inline int plain_receive(struct plain_dest *d, const uint8_t *data,
				size_t size)
{
	static const struct mig_receive_ops ops = {
		.build = plain_build,
		.load_state = plain_load_state,
	};
	struct plain_feeder f = { .data = data, .size = size };
	struct vm_config cfg = { .cmdline = "" };
	pthread_t thread;
	int fds[2], ret;

	memset(d, 0, sizeof(*d));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		abort();
	f.fd = fds[0];
	if (pthread_create(&thread, NULL, plain_feed, &f))
		abort();
	mig_stream_init(&d->rx.s, fds[1]);
	ret = mig_receive(&d->rx, &cfg, &ops, d);
	close(fds[1]);
	pthread_join(thread, NULL);
	close(fds[0]);
	return ret;
}

static inline void plain_dest_free(struct plain_dest *d)
{
	ram_receiver_free(&d->rx.ram);
	if (d->built)
		guest_mem_destroy(&d->mem);
	mig_stream_free(&d->rx.s);
}

#endif
