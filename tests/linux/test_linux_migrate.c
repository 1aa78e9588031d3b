// SPDX-License-Identifier: MIT
/*
 * A running Linux guest migrated live between two kvmtrack processes over
 * real TCP: Debian's kernel with the tests' initramfs, whose writer
 * (tests/linux/initramfs/writer.c) rewrites a buffer page by page, prints
 * a heartbeat ten times a second of the guest's clock and checks its whole
 * buffer every second. At the destination the heartbeat must go on, numbered
 * after the source's last (the guest's clock and timers run there), and the
 * writer's next check must pass (every page arrived, with its last write).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"
#include "tests/linux/linux_tests.h"

TestSuite(linux_migration, .fini = mig_kill_leftovers);

/*
 * Every heartbeat between the source's last whole one and the
 * destination's first is there: the switch-over may cut the line being
 * printed ("hb 2" at the source, "69" at the destination), so the numbers
 * in between are looked for in the source's end joined to the
 * destination's start.
 */
static void expect_no_beat_lost(const struct mig_host *src,
				const struct mig_host *dst)
{
	long last = mig_last_heartbeat(src), first = mig_first_heartbeat(dst);
	size_t src_len = 0;
	char *a = read_file(src->serial, &src_len);
	char *b = read_file(dst->serial, NULL);
	char joined[256];

	cr_assert(a && b && last >= 0 && first > last, "beats %ld then %ld",
		  last, first);
	snprintf(joined, sizeof(joined), "%s%.120s",
		 src_len > 120 ? a + src_len - 120 : a, b);
	for (long n = last + 1; n < first; n++) {
		char want[32];

		snprintf(want, sizeof(want), "\nhb %ld\r", n);
		cr_expect(strstr(joined, want),
			  "heartbeat %ld lost between %ld at the source and %ld here: ...%s",
			  n, last, first, joined);
	}
	free(a);
	free(b);
}

/*
 * Moves the guest from src to a new dst and checks it there: the migration
 * completed and verified (mig_move), the heartbeat goes on after the
 * source's last, and each writer in tags passes a check it had not passed
 * at the source, with no check failing.
 */
static void move_and_check(struct mig_host *src, struct mig_host *dst,
			   const char *dst_name, int port,
			   const char *const *tags, const char *const *extra)
{
	long before[4] = { 0 };
	bool bad;

	for (int i = 0; tags[i]; i++)
		before[i] = writer_last_check(src->serial, tags[i], &bad);
	mig_move(src, dst, dst_name, port, true, extra);
	expect_no_beat_lost(src, dst);
	for (int i = 0; tags[i]; i++) {
		long at_src = writer_last_check(src->serial, tags[i], &bad);

		cr_expect(!bad, "a %s check failed at the source", tags[i]);
		cr_expect(writer_wait_check(dst, tags[i], at_src > before[i] ? at_src : before[i],
				     60 * 1000),
			  "%s: no passing check after the migration (last %ld at the source); console: ...%s",
			  tags[i], at_src, read_file(dst->serial, NULL));
	}
}

static const char *const one_writer[] = { "writer", NULL };

/* 128 MiB rewritten at 20000 pages a second (78 MiB/s): the migration
 * must chase it, pass after pass. */
Test(linux_migration, writer_keeps_running_and_its_buffer_checks,
     .timeout = 600)
{
	struct mig_host a, b;

	linux_boot_writer(&a, "lx-writer-a", "1", "kt.mib=128 kt.rate=20000 kt.every=10");
	move_and_check(&a, &b, "lx-writer-b", mig_test_port(70), one_writer,
		       NULL);
	mig_quit(&b);
}

/* Two vCPUs, each running a writer, both busy through the migration. */
Test(linux_migration, two_busy_vcpus, .timeout = 600)
{
	static const char *const two_writers[] = { "writer", "w2", NULL };
	struct mig_host a, b;

	linux_boot_writer(&a, "lx-smp-a", "2",
		    "kt.mib=64 kt.rate=10000 kt.every=10 kt.writers=2");
	cr_assert(writer_wait_check(&a, "w2", 0, 60 * 1000), "the second writer did not check");
	move_and_check(&a, &b, "lx-smp-b", mig_test_port(71), two_writers,
		       NULL);
	mig_quit(&b);
}

/* An idle guest (a small writer, rarely writing) A to B and back, five
 * times: every hop must leave it running and intact. */
Test(linux_migration, idle_guest_ping_pong_five_times, .timeout = 900)
{
	struct mig_host h[2];
	int at = 0;

	linux_boot_writer(&h[0], "lx-pp-0", "1", "kt.mib=8 kt.rate=50 kt.every=10");
	for (int hop = 0; hop < 10; hop++) {
		char name[32];

		snprintf(name, sizeof(name), "lx-pp-%d", hop + 1);
		move_and_check(&h[at], &h[1 - at], name,
			       mig_test_port(72 + hop), one_writer, NULL);
		at = 1 - at;
	}
	mig_quit(&h[at]);
}
