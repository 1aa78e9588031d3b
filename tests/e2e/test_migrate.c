// SPDX-License-Identifier: MIT
/*
 * Live migration between two real kvmtrack processes over real TCP. Each
 * test checks that the guest kept running (its heartbeat goes on at the
 * destination, numbered after the source's last) and, at the end, that
 * the guest's own verification of every page it wrote passes there.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"

static void expect_guest_verifies(struct mig_host *h)
{
	struct proc_result r;
	char *log;

	bg_wait(&h->proc, 60, &r);
	log = read_file(h->serial, NULL);
	cr_expect_eq(r.status, 0, "guest status %d: %s", r.status, r.err);
	cr_expect(log && strstr(log, "kvmtrack-guest: done status=0"), "%s",
		  log);
	cr_expect(log && strstr(log, " bad=0"), "%s", log);
	free(log);
	proc_result_free(&r);
}

Test(migrate, idle_guest, .timeout = 90)
{
	struct mig_host a, b;

	mig_boot(&a, "idle-a", "1", "workload=idle heartbeat=20 duration=4");
	cr_assert(mig_wait_heartbeat(&a, 3, 10000));
	mig_move(&a, &b, "idle-b", mig_test_port(1), false, NULL);
	expect_guest_verifies(&b);
}

Test(migrate, writing_guest_with_two_vcpus, .timeout = 90)
{
	struct mig_host a, b;

	mig_boot(&a, "rnd-a", "2",
		 "workload=random wss=64M vcpus=2 heartbeat=20 duration=5 verify=1");
	cr_assert(mig_wait_heartbeat(&a, 10, 10000));
	mig_move(&a, &b, "rnd-b", mig_test_port(2), false, NULL);
	expect_guest_verifies(&b);
}
