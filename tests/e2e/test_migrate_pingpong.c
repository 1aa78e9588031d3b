// SPDX-License-Identifier: MIT
/*
 * One guest migrated back and forth between two "hosts", A and B (two
 * ports on 127.0.0.1), five round trips: every hop lands in a new
 * `kvmtrack run --incoming` process and leaves the old one ending with
 * status 0. After each hop the guest must go on where it left off: its
 * heartbeat continues at the destination, numbered after the source's
 * last (a line cut in two by the switch-over may be lost, no more), and
 * at the end it verifies every page it wrote across the ten hosts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/e2e/migrate_helpers.h"

#define ROUND_TRIPS 5

Test(migrate_pingpong, five_round_trips, .timeout = 120,
     .fini = mig_kill_leftovers)
{
	struct mig_host hosts[2 * ROUND_TRIPS + 1];
	const int port[2] = { mig_test_port(81), mig_test_port(82) };
	long beats[2 * ROUND_TRIPS + 1];
	struct timespec t0, t1;

	mig_boot(&hosts[0], "pp-0", "2",
		 "workload=random wss=16M rate=10000 vcpus=2 heartbeat=20 verify=1 duration=12");
	cr_assert(mig_wait_heartbeat(&hosts[0], 5, 10000));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Odd hops land on B's port, even ones back on A's. */
	for (int n = 1; n <= 2 * ROUND_TRIPS; n++) {
		mig_hop(&hosts[n - 1], &hosts[n], n, port[n % 2 ? 1 : 0]);
		beats[n - 1] = mig_last_heartbeat(&hosts[n - 1]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_log_info("%d hops in %ld ms", 2 * ROUND_TRIPS,
		    (t1.tv_sec - t0.tv_sec) * 1000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	for (int n = 1; n < 2 * ROUND_TRIPS; n++)
		cr_expect_gt(beats[n], beats[n - 1],
			     "host %d's last heartbeat %ld is not after host %d's %ld",
			     n, beats[n], n - 1, beats[n - 1]);
	mig_expect_guest_verifies(&hosts[2 * ROUND_TRIPS], 60);
}
