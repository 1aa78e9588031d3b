// SPDX-License-Identifier: MIT
/*
 * The lazy restore between real kvmtrack processes: the guest of a chain
 * runs before its memory is in place, takes every page it touches from
 * the newest layer holding it, goes on from its checkpoint and passes
 * its own check of every page it wrote; once the fill is done, its chain
 * goes on with an incremental checkpoint that restores in turn. A page that
 * fails its hash ends the restore with the reason and status 1, before the
 * guest could use it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/checkpoint_helpers.h"

/* A chain of three of a writing guest; the heartbeat before the last. */
static long write_chain(const char *dir, const char *name)
{
	struct mig_host src;
	long before;

	mig_boot(&src, name, "1", WRITER "duration=25");
	cr_assert(mig_wait_heartbeat(&src, 20, 20000));
	ck_expect_checkpoint(&src, dir, "0001", NULL, NULL);
	cr_assert(
	    mig_wait_heartbeat(&src, mig_last_heartbeat(&src) + 6, 20000));
	ck_expect_checkpoint(&src, dir, "0002", "0001", NULL);
	cr_assert(
	    mig_wait_heartbeat(&src, mig_last_heartbeat(&src) + 6, 20000));
	before = mig_last_heartbeat(&src);
	ck_expect_checkpoint(&src, dir, "0003", "0002", NULL);
	mig_quit(&src);
	return before;
}

Test(checkpoint_lazy, a_writing_guest_runs_at_once_and_verifies_there,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	struct mig_host dst;
	char dir[64], *log;
	long before;

	ck_chain_dir(dir, sizeof(dir), "lazy");
	before = write_chain(dir, "lz-src");
	mig_restore_lazy(&dst, "lz-dst", dir);
	/* A checkpoint of it waits for the fill: pages not in place yet
	 * would be holes. The chain goes on from 0003: what the guest wrote
	 * since its restore was tracked from the start. */
	ck_expect_checkpoint(&dst, dir, "0004", "0003", NULL);
	log = read_file(dst.proc.err_path, NULL);
	cr_expect(log && strstr(log, "(lazy): 3 layers, the guest can run"),
		  "%s", log);
	cr_expect(log && strstr(log, "lazy restore: every page in place"), "%s",
		  log);
	free(log);
	mig_expect_guest_verifies(&dst, 90);
	cr_expect_gt(mig_first_heartbeat(&dst), before);
	/* And 0004, taken of the lazily restored guest, restores. */
	ck_restore(&dst, "lz-again", dir);
	mig_expect_guest_verifies(&dst, 90);
	ck_shell("rm -rf %s", dir);
}

Test(checkpoint_lazy, a_page_that_fails_its_hash_ends_it_with_the_reason,
     .timeout = 180, .fini = mig_kill_leftovers)
{
	const char *argv[] = {KVMTRACK_BIN,	"run",	     "--serial",
			      "none",		"--restore", NULL,
			      "--restore-mode", "lazy",	     NULL};
	static const char *const newer[] = {"0002", "0003", NULL};
	struct proc_result r;
	char dir[64];
	long page;

	ck_chain_dir(dir, sizeof(dir), "lazybad");
	write_chain(dir, "lzb-src");
	/* A byte of a page the base holds and no later layer replaced: the
	 * restore reads it from the base. */
	page = ck_page_held_only_by(dir, "0001", newer);
	cr_assert_geq(page, 0);
	ck_shell("printf x | dd of=%s/0001/memory bs=1 seek=%ld conv=notrunc "
		 "2>/dev/null",
		 dir, page * 4096 + 100);
	argv[5] = dir;
	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_expect(r.err && strstr(r.err, "does not match its hash (altered)") &&
		      strstr(r.err, "the guest cannot go on without this page"),
		  "%s", r.err);
	proc_result_free(&r);
	ck_shell("rm -rf %s", dir);
}
