// SPDX-License-Identifier: MIT
/*
 * The source's --timeout holds while its stream is stalled: a link that
 * trickles a byte every 3 s (each sooner than a send or a read times out)
 * keeps the source's sends waiting, and without a deadline of its own
 * the source would wait until the destination gave up. With `--timeout
 * 4`, the source gives up at 4 s with the reason, its guest keeps
 * running, and a migration straight to the same destination, which
 * discarded the attempt, moves it, verified.
 */
#include <criterion/criterion.h>

#include "tests/e2e/migrate_helpers.h"
#include "tests/e2e/tcp_proxy.h"

#define WRITER "workload=random wss=16M rate=10000 heartbeat=20 verify=1"

Test(migrate_timeout, a_stalled_stream_ends_at_the_sources_timeout,
     .timeout = 200, .fini = mig_kill_leftovers)
{
	static const char *const opts[] = { "--timeout", "4", NULL };
	struct mig_host a, b;
	struct tcp_proxy px;
	struct proc_result r;

	mig_boot(&a, "mto-a", "1", WRITER);
	cr_assert(mig_wait_heartbeat(&a, 5, 10000), "the source does not run");
	mig_listen(&b, "mto-b", mig_test_port(110));
	/* 128 KiB in: past CONFIG, within the first pass. */
	cr_assert_eq(tcp_proxy_start(&px, mig_test_port(111), b.port,
				     TCP_PROXY_TRICKLE, 128 << 10),
		     0);
	mig_track(px.pid);
	r = mig_migrate(&a, px.port, opts);
	mig_expect_failed(&r, "failed",
			  "no switch-over within the 4 s timeout (the stream "
			  "stalled: ");
	proc_result_free(&r);
	/* The proxy goes on trickling what it holds to the destination,
	 * which drops the frame at its own deadline and closes. */
	cr_expect(tcp_proxy_finish(&px, 30000), "the proxy did not trickle");
	mig_expect_guest_runs(&a, "after the timeout");
	cr_expect(mig_wait_stderr(&b, "discarded, waiting for the next", 20000),
		  "the destination did not discard the attempt");
	mig_expect_migrates(&a, &b, NULL);
	mig_end_guest_verified(&b);
}
