// SPDX-License-Identifier: MIT
/*
 * A real `kvmtrack run --incoming` against peers that trickle: one byte
 * every TCP_PROXY_TRICKLE_MS, each sooner than a read times out, would
 * hold a destination for ever under per-read timeouts alone. The opening
 * (TLS handshake, HELLO and CONFIG) and then each frame must come whole
 * within 10 s (migrate/stream.h): the destination drops a trickling peer
 * by then, says why on stderr, naming what had come, and takes the next
 * attempt, a real migration whose guest verifies every page it wrote.
 * The trickle is timed by design; the verdicts are waited for as events.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/le.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "tests/e2e/config_frame.h"
#include "tests/e2e/migrate_helpers.h"
#include "tests/e2e/tcp_proxy.h"

#define DEADLINE_MS 10000 /* migrate/incoming.c's IO_TIMEOUT_MS */
/* From the deadline to the line on stderr: the drop, and our polling. */
#define SLACK_MS 2500
#define WRITER "workload=random wss=16M rate=10000 heartbeat=20 verify=1"
#define DISCARDED "discarded, waiting for the next"

static const char *const psk[] = { "--tls-psk", "tests/tls/creds/good.psk",
				    NULL };

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ll + t.tv_nsec / 1000000;
}

/*
 * Sends buf[0..n) one byte every TCP_PROXY_TRICKLE_MS, watching h's
 * stderr for `verdict` in between; returns the ms from `since` to when it
 * appeared, or -1 when all was sent without it. A send the closed
 * connection refuses is ignored: the verdict decides.
 */
static long long trickle(int fd, const uint8_t *buf, size_t n,
			 const struct mig_host *h, const char *verdict,
			 long long since)
{
	for (size_t i = 0; i < n; i++) {
		send(fd, buf + i, 1, MSG_NOSIGNAL);
		if (mig_wait_stderr(h, verdict, TCP_PROXY_TRICKLE_MS))
			return now_ms() - since;
	}
	return -1;
}

/* The verdict came DEADLINE_MS after `since`, give or take the slack. */
static void expect_on_time(long long ms, const char *what)
{
	cr_expect_geq(ms, DEADLINE_MS - 500, "%s after %lld ms", what, ms);
	cr_expect_leq(ms, DEADLINE_MS + SLACK_MS, "%s after %lld ms", what, ms);
}

/* h's stderr holds every one of the NULL-terminated needles. */
static void expect_said(const struct mig_host *h, const char *const *needles)
{
	char *err = mig_stderr(h);

	for (; *needles; needles++)
		cr_expect(strstr(err, *needles), "no \"%s\" in: %s", *needles,
			  err);
	free(err);
}

/*
 * A record trickled from the middle of a frame is dropped with the frame
 * named. One that begins a frame (the sender starts a record with each
 * frame) holds no byte of it until it is whole: the read's own timeout,
 * which now bounds GnuTLS's whole read too, drops it, in as long.
 */
static void expect_record_dropped(const struct mig_host *b)
{
	char *err = mig_stderr(b);

	cr_expect((strstr(err, "failed: a frame came too slowly: ") &&
		   strstr(err, " in the 10 s since its first byte; " DISCARDED)) ||
			  strstr(err, "failed: receive: timed out; " DISCARDED),
		  "%s", err);
	free(err);
}

Test(incoming_deadline, trickled_opening_dropped_then_a_migration,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	uint8_t hdr[MIG_HEADER_BYTES];
	struct mig_host a, b;
	long long t0, ms;
	int fd;

	mig_boot(&a, "dlo-a", "1", WRITER);
	cr_assert(mig_wait_heartbeat(&a, 5, 10000), "the source does not run");
	mig_listen(&b, "dlo-b", mig_test_port(101));
	/* A valid HELLO's header, which never comes whole. */
	put_le32(hdr + 16, mig_header_put(hdr, MIG_HELLO, 8, 0));
	fd = mig_connect_local(b.port);
	t0 = now_ms();
	ms = trickle(fd, hdr, sizeof(hdr), &b, DISCARDED, t0);
	close(fd);
	cr_assert_geq(ms, 0, "a trickling peer held the destination");
	expect_on_time(ms, "the opening dropped");
		expect_said(&b, (const char *const[]){
		"failed: the peer took more than 10 s to open the migration (",
		" of frame 0's 20-byte header); " DISCARDED, NULL });
	mig_expect_migrates(&a, &b, NULL);
	mig_end_guest_verified(&b);
}

/* HELLO, CONFIG and READY, then a RAM frame of one page whose header,
 * page list and first 100 page bytes come at once, the rest trickled. */
Test(incoming_deadline, trickled_ram_frame_dropped_with_its_name,
     .timeout = 120, .fini = mig_kill_leftovers)
{
	static uint8_t frame[MIG_HEADER_BYTES + 24 + 4096];
	const size_t at_once = MIG_HEADER_BYTES + 24 + 100;
	struct mig_host b;
	struct mig_stream s;
	long long t0, ms;
	uint32_t crc;

	mig_listen(&b, "dlr-b", mig_test_port(102));
	mig_stream_init(&s, mig_connect_local(b.port));
	send_hello_and_config(&s, 64 << 20, 1);
	cr_assert_eq(mig_expect(&s, MIG_READY), 0, "%s", mig_stream_error(&s));
	/* Region 0, 1 page: page 0 with any hash; the CRC ends there. */
	put_le32(frame + 20, 0);
	put_le32(frame + 24, 1);
	crc = mig_header_put(frame, MIG_RAM, sizeof(frame) - MIG_HEADER_BYTES,
			     2);
	put_le32(frame + 16, crc32c(crc, frame + 20, 24));
	t0 = now_ms();
	cr_assert(tcp_proxy_send_all(s.fd, frame, at_once));
	ms = trickle(s.fd, frame + at_once, sizeof(frame) - at_once, &b,
		     DISCARDED, t0);
	cr_assert_geq(ms, 0, "a trickling peer held the destination");
	expect_on_time(ms, "the frame dropped");
	expect_said(&b, (const char *const[]){
		"failed: a frame came too slowly: 14",
		" of frame 2 (RAM)'s 4140 bytes in the 10 s since its first byte; " DISCARDED,
		NULL });
	/* What a source hears: the same reason, in an ERROR frame. */
	cr_expect_neq(mig_recv(&s), 0);
	cr_expect(strstr(mig_stream_error(&s), "peer: a frame came too slowly"),
		  "%s", mig_stream_error(&s));
	close(s.fd);
	mig_stream_free(&s);
	mig_stop(&b);
}

/*
 * TLS, with GnuTLS carrying the records, which reads a record in as many
 * recv() calls as its bytes take: a ClientHello trickled, then a real
 * source trickled by a proxy 1 MiB in, inside a record of a RAM frame;
 * then the guest moves.
 */
Test(incoming_deadline, tls_handshake_and_record_trickled_then_a_migration,
     .timeout = 280, .fini = mig_kill_leftovers)
{
	/* A TLS 1.x handshake record's header and a ClientHello's first
	 * bytes; it never comes whole. */
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
					 0x01, 0x00, 0x01, 0xfc, 0x03 };
	struct mig_host a, b;
	struct proc_result r;
	long long t0, ms;
	int fd;

	setenv("KVMTRACK_X_TLS_USERSPACE", "1", 1);
	mig_boot(&a, "dlt-a", "1", WRITER);
	cr_assert(mig_wait_heartbeat(&a, 5, 10000), "the source does not run");
	mig_listen_opts(&b, "dlt-b", mig_test_port(103), psk);
	fd = mig_connect_local(b.port);
	t0 = now_ms();
	ms = trickle(fd, hello, sizeof(hello), &b, "waiting for the next", t0);
	close(fd);
	cr_assert_geq(ms, 0, "a trickling peer held the destination");
	expect_on_time(ms, "the handshake dropped");
	expect_said(&b, (const char *const[]){
		"refused: TLS: the peer took more than 10 s to open the migration (the TLS handshake unfinished); waiting for the next",
		NULL });
	/* 128 KiB in: past CONFIG, within the first pass (some 400 KB). */
	r = mig_migrate_via_proxy(&a, &b, mig_test_port(104), TCP_PROXY_TRICKLE,
				  128 << 10, psk, "the proxy did not trickle");
	mig_expect_failed(&r, "failed", NULL);
	proc_result_free(&r);
	cr_expect(mig_wait_stderr(&b, DISCARDED, 5000));
	expect_record_dropped(&b);
	mig_expect_guest_runs(&a, "after a trickled attempt");
	mig_expect_migrates(&a, &b, psk);
	mig_end_guest_verified(&b);
	unsetenv("KVMTRACK_X_TLS_USERSPACE");
}
