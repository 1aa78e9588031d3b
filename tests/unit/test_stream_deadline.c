// SPDX-License-Identifier: MIT
/*
 * The receive deadlines of migrate/stream.c over a socketpair, no
 * /dev/kvm: what SO_RCVTIMEO a read gets (a pure function), and a peer
 * that trickles a frame one byte at a time, each sooner than a read times
 * out, dropped when the opening's or the frame's deadline passes, with
 * what had come, also where GnuTLS carries the records and the trickle is
 * inside one; a peer that is only idle between frames is not.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/le.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "migrate/tls.h"
#include "migrate/tls_types.h"

#define MS 1000000ull
#define DEADLINE_MS 1000
#define TRICKLE_MS 300

Test(stream_deadline, arm_ms_is_the_nearer_of_deadline_and_read_timeout)
{
	const uint64_t now = 5000 * MS;

	/* No deadline: the socket's own timeout, none included. */
	cr_expect_eq(mig_deadline_arm_ms(now, 0, 10000), 10000);
	cr_expect_eq(mig_deadline_arm_ms(now, 0, 0), 0);
	/* A far deadline leaves each read its timeout. */
	cr_expect_eq(mig_deadline_arm_ms(now, now + 30000 * MS, 10000), 10000);
	cr_expect_eq(mig_deadline_arm_ms(now, now + 10000 * MS, 10000), 10000);
	/* A near one shortens it, rounded down to whole ms. */
	cr_expect_eq(mig_deadline_arm_ms(now, now + 2500 * MS, 10000), 2500);
	cr_expect_eq(mig_deadline_arm_ms(now, now + 2500 * MS + 999999, 10000),
		     2500);
	cr_expect_eq(mig_deadline_arm_ms(now, now + 3 * MS, 0), 3);
	cr_expect_eq(mig_deadline_arm_ms(now, now + 1 * MS, 10000), 1);
	/* Under 1 ms left, 0 would wait for ever: expired. */
	cr_expect_eq(mig_deadline_arm_ms(now, now + 999999, 10000), -ETIMEDOUT);
	cr_expect_eq(mig_deadline_arm_ms(now, now, 10000), -ETIMEDOUT);
	cr_expect_eq(mig_deadline_arm_ms(now, now - 1, 10000), -ETIMEDOUT);
	cr_expect_eq(mig_deadline_arm_ms(now, 1, 10000), -ETIMEDOUT);
}

static int fds[2];

static void setup(void)
{
	/* As the transport sets the destination's socket up. */
	struct timeval tv = { .tv_sec = 10 };

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	cr_assert_eq(setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)),
		     0);
}

static void teardown(void)
{
	close(fds[0]);
	close(fds[1]);
}

/* Writes buf one byte every TRICKLE_MS until the reader closes. */
struct trickler {
	pthread_t thread;
	const uint8_t *buf;
	size_t len;
};

static void *trickle_main(void *arg)
{
	struct trickler *t = arg;
	struct timespec gap = { .tv_nsec = TRICKLE_MS * 1000000l };

	for (size_t i = 0; i < t->len; i++) {
		if (send(fds[0], t->buf + i, 1, MSG_NOSIGNAL) != 1)
			break;
		nanosleep(&gap, NULL);
	}
	return NULL;
}

static void trickle(struct trickler *t, const uint8_t *buf, size_t len)
{
	t->buf = buf;
	t->len = len;
	cr_assert_eq(pthread_create(&t->thread, NULL, trickle_main, t), 0);
}

/* Ends the trickle: the reader's end closes, the writer's send fails. */
static void stop(struct trickler *t)
{
	shutdown(fds[1], SHUT_RDWR);
	pthread_join(t->thread, NULL);
}

/*
 * The next frame fails DEADLINE_MS after start_ns, give or take a read's
 * wake-up, saying `why`; then the trickle ends.
 */
static void expect_dropped(struct mig_stream *rx, struct trickler *t,
			   uint64_t start_ns, const char *why)
{
	uint64_t ms;

	cr_expect_eq(mig_recv(rx), -ETIMEDOUT);
	ms = (clock_now_ns() - start_ns) / MS;
	stop(t);
	cr_expect_geq(ms, DEADLINE_MS - 20, "dropped after %llu ms",
		      (unsigned long long)ms);
	cr_expect_leq(ms, DEADLINE_MS + 200, "dropped after %llu ms",
		      (unsigned long long)ms);
	cr_expect_str_eq(mig_stream_error(rx), why);
	mig_stream_free(rx);
}

TestSuite(stream_deadline_io, .init = setup, .fini = teardown);

Test(stream_deadline_io, trickled_opening_dropped_with_what_came)
{
	uint8_t hdr[MIG_HEADER_BYTES];
	struct trickler t;
	struct mig_stream rx;
	uint64_t start;

	put_le32(hdr + 16, mig_header_put(hdr, MIG_HELLO, 8, 0));
	mig_stream_init(&rx, fds[1]);
	start = clock_now_ns();
	mig_stream_deadlines(&rx, DEADLINE_MS);
	trickle(&t, hdr, sizeof(hdr));
	/* Bytes at 0, 300, 600 and 900 ms. */
	expect_dropped(&rx, &t, start,
		       "the peer took more than 1 s to open the migration (4 bytes in: 4 of frame 0's 20-byte header)");
}

Test(stream_deadline_io, trickled_frame_dropped_with_its_name_idle_is_not)
{
	static uint8_t frame[MIG_HEADER_BYTES + 1000];
	struct timespec idle = { .tv_sec = 1, .tv_nsec = 300000000l };
	struct mig_stream tx, rx;
	struct trickler t;
	uint64_t start;

	mig_stream_init(&tx, fds[0]);
	mig_stream_init(&rx, fds[1]);
	mig_stream_deadlines(&rx, DEADLINE_MS);
	cr_assert_eq(mig_send_buf(&tx, MIG_HELLO, "hello", 5), 0);
	cr_assert_eq(mig_recv(&rx), 0, "%s", mig_stream_error(&rx));
	mig_stream_opened(&rx);
	/* Longer than the deadline between two frames: no frame is late. */
	nanosleep(&idle, NULL);
	cr_assert_eq(mig_send_buf(&tx, MIG_PASS, "\1\0\0\0\0\0\0\0\0\0\0\0",
				  12),
		     0);
	cr_assert_eq(mig_recv(&rx), 0, "%s", mig_stream_error(&rx));
	cr_expect_eq(rx.type, MIG_PASS);
	/* A STATE frame: its header and 10 bytes at once, then a trickle. */
	put_le32(frame + 16, mig_header_put(frame, MIG_STATE, 1000, 2));
	cr_assert_eq(send(fds[0], frame, MIG_HEADER_BYTES + 10, 0),
		     MIG_HEADER_BYTES + 10);
	start = clock_now_ns();
	trickle(&t, frame + MIG_HEADER_BYTES + 10, 990);
	/* 30 at once, then bytes at 0, 300, 600 and 900 ms. */
	expect_dropped(&rx, &t, start,
		       "a frame came too slowly: 34 of frame 2 (STATE)'s 1020 bytes in the 1 s since its first byte");
}

/* One end of a PSK session over the socketpair, records by GnuTLS. */
struct tls_end {
	int fd;
	bool server;
	struct mig_tls *t;
	struct mig_tls_io *io;
	int ret;
	char msg[256];
};

static void *handshake_main(void *arg)
{
	struct tls_end *e = arg;
	struct mig_tls_opts o;

	e->ret = mig_tls_opts_set(&o, NULL, "tests/tls/creds/good.psk", NULL,
				  0, e->msg, sizeof(e->msg));
	e->ret = e->ret ?: mig_tls_load(&o, e->server, &e->t, e->msg,
					sizeof(e->msg));
	e->ret = e->ret ?: mig_tls_handshake(e->t, e->fd,
					     e->server ? NULL : "127.0.0.1",
					     &e->io, e->msg, sizeof(e->msg));
	return NULL;
}

/*
 * A STATE frame of two records: the first (header and 16 KiB) comes
 * whole, the second a byte at a time. GnuTLS reads a record in as many
 * recv() calls as its bytes take: each is bounded, and so is their sum.
 */
Test(stream_deadline_io, trickled_tls_record_dropped, .timeout = 20)
{
	static uint8_t payload[20000], wire[21000];
	struct tls_end srv = { .fd = fds[1], .server = true },
		       cli = { .fd = fds[0] };
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
	struct mig_stream tx, rx;
	struct trickler t;
	int cap[2];
	pthread_t th;
	ssize_t n;
	uint64_t start;

	setenv("KVMTRACK_X_TLS_USERSPACE", "1", 1);
	cr_assert_eq(pthread_create(&th, NULL, handshake_main, &srv), 0);
	handshake_main(&cli);
	pthread_join(th, NULL);
	cr_assert_eq(srv.ret, 0, "%s", srv.msg);
	cr_assert_eq(cli.ret, 0, "%s", cli.msg);
	cr_assert(srv.io && cli.io, "the records are not GnuTLS's");
	/* The source's records, caught on their way to be sent as we like. */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, cap), 0);
	cli.io->fd = cap[0];
	mig_stream_init(&tx, cap[0]);
	tx.tls_io = cli.io;
	tx.tls = true;
	cr_assert_eq(mig_send(&tx, MIG_STATE, &iov, 1), 0);
	n = recv(cap[1], wire, sizeof(wire), MSG_DONTWAIT);
	cr_assert_gt(n, 16384 + 22 + 100);
	mig_stream_init(&rx, fds[1]);
	rx.tls_io = srv.io;
	rx.tls = true;
	mig_stream_deadlines(&rx, DEADLINE_MS);
	mig_stream_opened(&rx);
	/* The first record (16 KiB of plaintext, 22 bytes of TLS), 100
	 * bytes of the second. */
	cr_assert_eq(send(fds[0], wire, 16384 + 22 + 100, 0), 16384 + 22 + 100);
	start = clock_now_ns();
	trickle(&t, wire + 16384 + 22 + 100, (size_t)n - (16384 + 22 + 100));
	expect_dropped(&rx, &t, start,
		       "a frame came too slowly: 16384 of frame 0 (STATE)'s 20020 bytes in the 1 s since its first byte");
	mig_stream_free(&tx);
	close(cap[0]);
	close(cap[1]);
	mig_tls_free(srv.t);
	mig_tls_free(cli.t);
	unsetenv("KVMTRACK_X_TLS_USERSPACE");
}
