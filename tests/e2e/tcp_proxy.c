// SPDX-License-Identifier: MIT
/* A fault-injecting TCP proxy for migration tests (see tcp_proxy.h). */
#include "tests/e2e/tcp_proxy.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_HEADER_BYTES 20 /* migrate/proto.h */
#define FRAME_RAM 4
#define FRAME_RAM_LIVE 9
#define FRAME_DONE 65
/* A RAM frame's payload: region, npages, a (page, hash) pair per page,
 * then the pages. */
#define RAM_HEAD_BYTES 8
#define RAM_ENTRY_BYTES 16
#define PAGE_BYTES 4096
#define BUF_BYTES 65536

/* Where the client-to-target stream is, frame by frame. */
struct frame_scan {
	uint8_t hdr[FRAME_HEADER_BYTES];
	unsigned int hdr_have;
	uint64_t payload_left; /* of the current frame; 0: in a header */
	uint64_t payload_at; /* offset in the current payload */
	uint64_t flip_at; /* payload offset to flip, or UINT64_MAX */
	uint64_t stream_at; /* bytes of the stream scanned so far */
	uint64_t frame_start;
};

struct proxy {
	int cfd, tfd;
	enum tcp_proxy_fault fault;
	uint64_t after_bytes;
	uint64_t forwarded; /* client to target */
	bool injected;
	struct frame_scan scan;
	struct frame_scan down; /* target to client, for EAT_DONE */
};

static void new_frame(struct proxy *px)
{
	struct frame_scan *sc = &px->scan;
	unsigned int type = sc->hdr[6] | sc->hdr[7] << 8;
	uint32_t len = (uint32_t)sc->hdr[8] | (uint32_t)sc->hdr[9] << 8 |
		       (uint32_t)sc->hdr[10] << 16 | (uint32_t)sc->hdr[11] << 24;

	sc->hdr_have = 0;
	sc->payload_left = len;
	sc->payload_at = 0;
	sc->flip_at = UINT64_MAX;
	/* FLIP wants a page the source read with the guest stopped: a live
	 * one might have been torn by the guest, and is sent again. */
	if (px->injected || sc->frame_start < px->after_bytes ||
	    len < RAM_HEAD_BYTES + RAM_ENTRY_BYTES + PAGE_BYTES ||
	    (type != FRAME_RAM &&
	     (type != FRAME_RAM_LIVE || px->fault != TCP_PROXY_FLIP_LIST)))
		return;
	if (px->fault == TCP_PROXY_FLIP_LIST) {
		/* The first page's number, under the CRC. */
		sc->flip_at = RAM_HEAD_BYTES + 2;
	} else {
		/* A byte of the first page's data: only its hash covers it. */
		uint32_t npages = (len - RAM_HEAD_BYTES) /
				  (RAM_ENTRY_BYTES + PAGE_BYTES);

		sc->flip_at = RAM_HEAD_BYTES + RAM_ENTRY_BYTES * npages + 61;
	}
}

/* Follows the frames in buf, flipping the chosen bit when it goes by. */
static void scan_and_flip(struct proxy *px, uint8_t *buf, size_t n)
{
	struct frame_scan *sc = &px->scan;
	size_t i = 0;

	while (i < n) {
		size_t take;

		if (sc->payload_left == 0) {
			if (sc->hdr_have == 0)
				sc->frame_start = sc->stream_at + i;
			take = FRAME_HEADER_BYTES - sc->hdr_have;
			take = take < n - i ? take : n - i;
			memcpy(sc->hdr + sc->hdr_have, buf + i, take);
			sc->hdr_have += (unsigned int)take;
			i += take;
			if (sc->hdr_have == FRAME_HEADER_BYTES)
				new_frame(px);
			continue;
		}
		take = sc->payload_left < n - i ? sc->payload_left : n - i;
		if (sc->flip_at >= sc->payload_at &&
		    sc->flip_at < sc->payload_at + take) {
			buf[i + (sc->flip_at - sc->payload_at)] ^= 0x10;
			px->injected = true;
			sc->flip_at = UINT64_MAX;
		}
		sc->payload_at += take;
		sc->payload_left -= take;
		i += take;
	}
	sc->stream_at += n;
}

bool tcp_proxy_send_all(int fd, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		ssize_t sent = send(fd, buf, n, MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0)
			return false;
		buf += sent;
		n -= (size_t)sent;
	}
	return true;
}

/*
 * TCP_PROXY_TRICKLE past its point: buf's bytes one at a time, passing
 * on what the target says meanwhile; false once the target closed.
 */
static bool forward_down(struct proxy *px);
static bool trickle_up(struct proxy *px, const uint8_t *buf, size_t n)
{
	px->injected = true;
	for (size_t i = 0; i < n; i++) {
		struct timespec t0, t;
		int waited_ms = 0;

		if (!tcp_proxy_send_all(px->tfd, buf + i, 1))
			return false;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (waited_ms < TCP_PROXY_TRICKLE_MS) {
			struct pollfd p = { .fd = px->tfd, .events = POLLIN };

			if (poll(&p, 1, TCP_PROXY_TRICKLE_MS - waited_ms) > 0 &&
			    !forward_down(px))
				return false;
			clock_gettime(CLOCK_MONOTONIC, &t);
			waited_ms = (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		}
	}
	return true;
}

/*
 * Client to target. Returns false when this direction is over: the client
 * closed, the target stopped taking bytes, or the fault closed everything
 * (then *close_all is set).
 */
static bool forward_up(struct proxy *px, bool *close_all)
{
	static uint8_t buf[BUF_BYTES];
	ssize_t n = read(px->cfd, buf, sizeof(buf));

	if (n <= 0) {
		shutdown(px->tfd, SHUT_WR);
		return false;
	}
	if (px->fault == TCP_PROXY_CLOSE &&
	    px->forwarded + (uint64_t)n >= px->after_bytes) {
		tcp_proxy_send_all(px->tfd, buf, px->after_bytes - px->forwarded);
		px->injected = true;
		*close_all = true;
		return false;
	}
	if (px->fault == TCP_PROXY_TRICKLE &&
	    px->forwarded + (uint64_t)n > px->after_bytes) {
		size_t at = px->injected ? 0 : px->after_bytes - px->forwarded;

		px->forwarded += (uint64_t)n;
		return tcp_proxy_send_all(px->tfd, buf, at) &&
		       trickle_up(px, buf + at, (size_t)n - at);
	}
	if (px->fault == TCP_PROXY_FLIP || px->fault == TCP_PROXY_FLIP_LIST)
		scan_and_flip(px, buf, (size_t)n);
	if (px->fault == TCP_PROXY_FLIP_AT && !px->injected &&
	    px->forwarded + (uint64_t)n > px->after_bytes) {
		buf[px->after_bytes - px->forwarded] ^= 0x01;
		px->injected = true;
	}
	px->forwarded += (uint64_t)n;
	return tcp_proxy_send_all(px->tfd, buf, (size_t)n);
}

/* How many of buf's n bytes come before a DONE frame's header. */
static size_t before_done(struct frame_scan *d, const uint8_t *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t take;

		if (d->payload_left) {
			take = d->payload_left < n - i ? d->payload_left : n - i;
			d->payload_left -= take;
			i += take;
			continue;
		}
		if (d->hdr_have == 0)
			d->frame_start = d->stream_at + i;
		d->hdr[d->hdr_have++] = buf[i++];
		if (d->hdr_have < FRAME_HEADER_BYTES)
			continue;
		d->hdr_have = 0;
		/* A header begun in an earlier read has gone out in part. */
		if ((d->hdr[6] | d->hdr[7] << 8) == FRAME_DONE)
			return d->frame_start > d->stream_at
				       ? d->frame_start - d->stream_at
				       : 0;
		d->payload_left = (uint32_t)d->hdr[8] |
				  (uint32_t)d->hdr[9] << 8 |
				  (uint32_t)d->hdr[10] << 16 |
				  (uint32_t)d->hdr[11] << 24;
	}
	d->stream_at += n;
	return n;
}

/* Target to client; false when the target has nothing more to say (or
 * its DONE was eaten: then everything closes). */
static bool forward_down(struct proxy *px)
{
	uint8_t buf[4096];
	ssize_t n = read(px->tfd, buf, sizeof(buf));
	size_t pass;

	if (n <= 0) {
		shutdown(px->cfd, SHUT_WR);
		return false;
	}
	if (px->fault != TCP_PROXY_EAT_DONE)
		return tcp_proxy_send_all(px->cfd, buf, (size_t)n);
	pass = before_done(&px->down, buf, (size_t)n);
	if (!tcp_proxy_send_all(px->cfd, buf, pass))
		return false;
	if (pass < (size_t)n) {
		px->injected = true;
		return false;
	}
	return true;
}

static void relay(struct proxy *px)
{
	bool up = true, down = true, close_all = false;

	while (down && !close_all) {
		struct pollfd pfd[2] = {
			{ .fd = up ? px->cfd : -1, .events = POLLIN },
			{ .fd = px->tfd, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* The target's answer first: when it gave up on a corrupt
		 * frame, its ERROR must reach the client before we close. */
		if (pfd[1].revents)
			down = forward_down(px);
		if (up && pfd[0].revents)
			up = forward_up(px, &close_all);
		/* The target is gone one way: relay what it still says. */
		if (!up && !close_all && px->fault != TCP_PROXY_PASS)
			while (down)
				down = forward_down(px);
	}
	close(px->cfd);
	close(px->tfd);
}

int tcp_proxy_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int tcp_proxy_listen(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 1) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int tcp_proxy_start(struct tcp_proxy *p, int listen_port, int target_port,
		    enum tcp_proxy_fault fault, uint64_t after_bytes)
{
	struct proxy px = { .fault = fault, .after_bytes = after_bytes };
	int lfd = tcp_proxy_listen(listen_port);

	if (lfd < 0)
		return lfd;
	p->port = listen_port;
	p->pid = fork();
	if (p->pid < 0) {
		close(lfd);
		return -errno;
	}
	if (p->pid > 0) {
		close(lfd);
		return 0;
	}
	/* The child: one connection, then exit without the test's atexit. */
	px.cfd = accept(lfd, NULL, NULL);
	close(lfd);
	px.tfd = px.cfd < 0 ? -1 : tcp_proxy_connect(target_port);
	if (px.cfd < 0 || px.tfd < 0)
		_exit(2);
	relay(&px);
	_exit(px.injected || fault == TCP_PROXY_PASS ? 0 : 1);
}

bool tcp_proxy_finish(struct tcp_proxy *p, int timeout_ms)
{
	int status = 0;

	for (int waited = 0; waitpid(p->pid, &status, WNOHANG) == 0;
	     waited += 10) {
		if (waited >= timeout_ms) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			return false;
		}
		usleep(10000);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct proc_result mig_migrate_via_proxy(struct mig_host *src,
					 const struct mig_host *dst,
					 int proxy_port,
					 enum tcp_proxy_fault fault,
					 uint64_t after_bytes,
					 const char *const *opts,
					 const char *missed)
{
	struct tcp_proxy px;
	struct proc_result r;

	cr_assert_eq(tcp_proxy_start(&px, proxy_port, dst->port, fault,
				     after_bytes), 0);
	mig_track(px.pid);
	r = mig_migrate(src, px.port, opts);
	cr_expect(tcp_proxy_finish(&px, 5000), "%s", missed);
	return r;
}
