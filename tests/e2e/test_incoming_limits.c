// SPDX-License-Identifier: MIT
/*
 * A real `kvmtrack run --incoming` against what no source should send,
 * over real TCP: a stream that announces 1 TiB of RAM, a million vCPUs or
 * a 4 GiB frame is refused with the limit named, in an ERROR frame and on
 * the destination's stderr, and the destination keeps listening. And the
 * one line it prints when it listens where other hosts can reach it: the
 * stream is neither authenticated nor encrypted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/wire.h"
#include "migrate/proto.h"
#include "migrate/stream.h"
#include "tests/e2e/config_frame.h"
#include "tests/e2e/migrate_helpers.h"

#define WARNING "is not authenticated nor encrypted"

/* A connection to the destination on this host. */
/* The destination's answer to one attempt: its ERROR names want. */
static void expect_refused(struct mig_stream *s, const struct mig_host *h,
			   const char *want)
{
	char *err;

	cr_expect_neq(mig_recv(s), 0, "the destination took it");
	cr_expect(strstr(mig_stream_error(s), want), "ERROR: %s",
		  mig_stream_error(s));
	cr_expect(mig_wait_stderr(h, "discarded, waiting for the next", 5000));
	err = mig_stderr(h);
	cr_expect(strstr(err, want), "%s", err);
	free(err);
	mig_stream_free(s);
	close(s->fd);
}

static void attempt_config(const struct mig_host *h, uint64_t mem_bytes,
			   uint32_t cpus, const char *want)
{
	struct mig_stream s;

	mig_stream_init(&s, mig_connect_local(h->port));
	send_hello_and_config(&s, mem_bytes, cpus);
	expect_refused(&s, h, want);
}

Test(incoming_limits, huge_announcements_refused_and_still_listening,
     .timeout = 60, .fini = mig_kill_leftovers)
{
	uint8_t hdr[MIG_HEADER_BYTES];
	struct mig_host b;
	struct mig_stream s;
	char *err;

	mig_listen(&b, "limits-b", mig_test_port(72));
	attempt_config(&b, 1ull << 40, 1, "the most a destination takes");
	attempt_config(&b, 64ull << 20, 1000000,
		       "1000000 vCPUs, at most 16 work here");
	/* A 4 GiB frame: only its header, which is enough to refuse it. */
	put_le32(hdr + 16, mig_header_put(hdr, MIG_HELLO, UINT32_MAX, 0));
	mig_stream_init(&s, mig_connect_local(b.port));
	cr_assert_eq(write(s.fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	expect_refused(&s, &b, "payload of 4294967295 bytes, at most 4194304 allowed");
	/* Still listening after all three, and none of them took memory. */
	cr_expect(mig_wait_stderr(&b, "waiting for a migration", 1000));
	err = mig_stderr(&b);
	cr_expect_null(strstr(err, "cannot create the VM"), "%s", err);
	free(err);
	mig_stop(&b);
}

static unsigned int count_lines(const char *text, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(incoming_limits, one_warning_off_loopback_none_on_it, .timeout = 60,
     .fini = mig_kill_leftovers)
{
	struct mig_host any, lo;
	char *err;

	mig_listen_in(&any, NULL, "0.0.0.0", "warn-any", mig_test_port(73),
		      NULL);
	mig_listen(&lo, "warn-lo", mig_test_port(74));
	err = mig_stderr(&any);
	cr_expect_eq(count_lines(err, WARNING), 1, "%s", err);
	cr_expect(strstr(err, "warning: the migration stream on tcp:0.0.0.0:"),
		  "%s", err);
	free(err);
	err = mig_stderr(&lo);
	cr_expect_eq(count_lines(err, WARNING), 0, "%s", err);
	free(err);
	mig_stop(&any);
	mig_stop(&lo);
}
