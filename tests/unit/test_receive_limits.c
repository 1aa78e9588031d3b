// SPDX-License-Identifier: MIT
/*
 * The destination's limits on what a source announces (migrate/receive.c,
 * migrate/stream.c), driven over a socketpair with no /dev/kvm: a stream
 * that announces 1 TiB of RAM, a million vCPUs or a 4 GiB frame is refused
 * with the limit named, before anything is built or allocated by it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/wire.h"
#include "migrate/proto.h"
#include "migrate/receive.h"
#include "tests/e2e/config_frame.h"

static int fds[2];
static unsigned int builds;

static void setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	builds = 0;
}

static void teardown(void)
{
	close(fds[0]);
	close(fds[1]);
}

TestSuite(receive_limits, .init = setup, .fini = teardown);

/* Building is what the limits guard: a refused source never gets here. */
static int build_counted(void *arg, const struct vm_config *cfg,
			 struct guest_mem **mem)
{
	builds++;
	return -ENOSPC;
}

static int load_nothing(void *arg, struct rbuf *r, char *why, size_t len)
{
	return -EINVAL;
}

static const struct mig_receive_ops counted_ops = {
	.build = build_counted,
	.load_state = load_nothing,
};

static void send_config(uint64_t mem_bytes, uint32_t cpus)
{
	struct mig_stream tx;

	mig_stream_init(&tx, fds[0]);
	send_hello_and_config(&tx, mem_bytes, cpus);
	shutdown(fds[0], SHUT_WR);
}

/* Receives what was sent as a destination started without -m and -c. */
static int receive(struct mig_receive *rx)
{
	struct vm_config cfg = { .cmdline = "" };
	int ret;

	memset(rx, 0, sizeof(*rx));
	mig_stream_init(&rx->s, fds[1]);
	ret = mig_receive(rx, &cfg, &counted_ops, NULL);
	mig_stream_free(&rx->s);
	return ret;
}

Test(receive_limits, one_tib_of_ram_is_refused_with_the_limit)
{
	struct mig_receive rx;
	char want[96];

	send_config(1ull << 40, 1);
	cr_expect_eq(receive(&rx), -EFBIG);
	snprintf(want, sizeof(want), "more than this host's %llu MiB",
		 (unsigned long long)(mig_receive_max_ram_bytes() >> 20));
	cr_expect(strstr(mig_stream_error(&rx.s), want), "error: %s",
		  mig_stream_error(&rx.s));
	cr_expect_eq(builds, 0);
}

Test(receive_limits, a_million_vcpus_are_refused_with_the_limit)
{
	struct mig_receive rx;

	send_config(64ull << 20, 1000000);
	cr_expect_eq(receive(&rx), -EINVAL);
	cr_expect(strstr(mig_stream_error(&rx.s), "1000000 vCPUs, at most 16"),
		  "error: %s", mig_stream_error(&rx.s));
	cr_expect_eq(builds, 0);
}

Test(receive_limits, a_usable_config_is_built)
{
	struct mig_receive rx;

	send_config(64ull << 20, 2);
	cr_expect_eq(receive(&rx), -ENOSPC);
	cr_expect_eq(builds, 1);
}

Test(receive_limits, a_4_gib_frame_is_refused_with_the_limit)
{
	uint8_t hdr[MIG_HEADER_BYTES];
	struct mig_receive rx;
	char want[64];

	put_le32(hdr + 16, mig_header_put(hdr, MIG_HELLO, UINT32_MAX, 0));
	cr_assert_eq(write(fds[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	shutdown(fds[0], SHUT_WR);
	cr_expect_eq(receive(&rx), -EMSGSIZE);
	snprintf(want, sizeof(want), "payload of %u bytes, at most %u allowed",
		 UINT32_MAX, MIG_MAX_PAYLOAD_BYTES);
	cr_expect(strstr(mig_stream_error(&rx.s), want), "error: %s",
		  mig_stream_error(&rx.s));
	cr_expect_eq(builds, 0);
}

Test(receive_limits, a_peer_error_keeps_to_errno_values)
{
	struct mig_stream tx, rx;
	struct wbuf w;

	mig_stream_init(&tx, fds[0]);
	mig_stream_init(&rx, fds[1]);
	wbuf_init(&w);
	wbuf_put_u32(&w, (uint32_t)INT32_MIN);
	wbuf_put_str(&w, "no");
	cr_assert_eq(mig_send_buf(&tx, MIG_ERROR, w.data, w.len), 0);
	cr_expect_eq(mig_recv(&rx), -ECONNABORTED);
	cr_expect_str_eq(mig_stream_error(&rx), "peer: no");
	wbuf_free(&w);
	mig_stream_free(&rx);
}
