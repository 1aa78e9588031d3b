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

/* Migrates src to a new destination and checks everything a user would. */
static void migrate_and_check(struct mig_host *src, struct mig_host *dst,
			      const char *dst_name, int port,
			      const char *const *extra)
{
	struct proc_result r, src_end;
	long before;

	mig_listen(dst, dst_name, port);
	r = mig_migrate(src, port, extra);
	cr_assert_eq(r.status, 0, "migrate failed: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "\"status\":\"completed\""), "%s", r.out);
	cr_expect(strstr(r.out, "\"verified\":true"), "%s", r.out);
	proc_result_free(&r);
	/* The source ends with a last line saying where the guest went. */
	bg_wait(&src->proc, 20, &src_end);
	cr_expect_eq(src_end.status, 0, "%s", src_end.err);
	cr_expect(strstr(src_end.err, "guest migrated to tcp:127.0.0.1:"),
		  "%s", src_end.err);
	proc_result_free(&src_end);
	before = mig_last_heartbeat(src);
	cr_expect(mig_wait_heartbeat(dst, before + 2, 10000),
		  "the guest does not run at the destination (last beat %ld there, %ld here)",
		  mig_last_heartbeat(dst), before);
}

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
	migrate_and_check(&a, &b, "idle-b", mig_test_port(1), NULL);
	expect_guest_verifies(&b);
}

Test(migrate, writing_guest_with_two_vcpus, .timeout = 90)
{
	struct mig_host a, b;

	mig_boot(&a, "rnd-a", "2",
		 "workload=random wss=64M vcpus=2 heartbeat=20 duration=5 verify=1");
	cr_assert(mig_wait_heartbeat(&a, 10, 10000));
	migrate_and_check(&a, &b, "rnd-b", mig_test_port(2), NULL);
	expect_guest_verifies(&b);
}
