// SPDX-License-Identifier: MIT
/*
 * Checkpoints taken the way a long-running guest is protected: a guest
 * that writes all the time copied in live passes with only the last
 * writes left to its pause; `--every` with `--keep`, whose chain stays at
 * N checkpoints, the oldest a merged base that every later one restores
 * from; and `checkpoint-merge` on what is left.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"
#include "tests/e2e/checkpoint_helpers.h"

/* Unpaced: it writes during every pass of a checkpoint. */
#define BUSY "workload=sweep wss=64M rate=0 heartbeat=50 verify=1 "

static struct json_value *expect_json(const struct mig_host *h, const char *dir,
				      const char *option, struct proc_result *r)
{
	struct json_value *v = ck_checkpoint(h, dir, option, r);

	cr_assert(v, "checkpoint %s failed (%d): %s", option ? option : "",
		  r->status, r->err);
	return v;
}

Test(checkpoint_every, a_busy_guest_is_copied_in_passes_before_its_pause,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	struct mig_host src, dst;
	struct proc_result r;
	struct json_value *v;
	const char *why = "";
	uint64_t pages = 0, paused = 0, passes = 0;
	char dir[64];
	long before;

	ck_chain_dir(dir, sizeof(dir), "busy");
	mig_boot(&src, "ck-busy", "1", BUSY "duration=25");
	cr_assert(mig_wait_heartbeat(&src, 10, 20000));
	ck_expect_checkpoint(&src, dir, "0001", NULL, NULL);
	v = expect_json(&src, dir, "--incremental", &r);
	json_get_u64(v, "pages", &pages);
	json_get_u64(v, "pause_pages", &paused);
	json_get_u64(v, "passes", &passes);
	json_get_string(v, "switchover", &why);
	/* The guest wrote during the first pass: what it wrote was copied
	 * again while it ran, and the pause took only what was left. */
	cr_expect_geq(passes, 2, "%s", r.out);
	cr_expect_lt(paused, pages, "%s", r.out);
	cr_expect(why[0], "no reason for the switch: %s", r.out);
	json_free(v);
	proc_result_free(&r);
	/* One pass only: the pause takes whatever the guest wrote meanwhile. */
	v = expect_json(&src, dir, "--max-passes=1", &r);
	cr_expect(strstr(r.out, "\"passes\":1,") &&
		      strstr(r.out, "pass limit 1 reached"),
		  "%s", r.out);
	json_free(v);
	proc_result_free(&r);
	before = mig_last_heartbeat(&src);
	v = expect_json(&src, dir, "--incremental", &r);
	json_free(v);
	proc_result_free(&r);
	mig_quit(&src);
	ck_restore(&dst, "ck-busy-dst", dir);
	mig_expect_guest_verifies(&dst, 90);
	cr_expect_gt(mig_first_heartbeat(&dst), before);
	ck_shell("rm -rf %s", dir);
}

/* `checkpoint-info DIR`'s output. */
static char *info(const char *dir)
{
	const char *argv[] = {KVMTRACK_BIN, "checkpoint-info", dir, NULL};
	struct proc_result r;
	char *out;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	out = strdup(r.out ? r.out : "");
	proc_result_free(&r);
	return out;
}

Test(checkpoint_every, keep_merges_older_ones_and_each_kept_one_restores,
     .timeout = 300, .fini = mig_kill_leftovers)
{
	const char *merge_bad[] = {KVMTRACK_BIN, "checkpoint-merge",
				   "/nonexistent/chain", NULL};
	struct mig_host src, dst;
	struct proc_result r;
	struct bg_proc every;
	char dir[64], spec[96], *list;

	ck_chain_dir(dir, sizeof(dir), "every");
	mig_boot(&src, "ck-every", "1", WRITER "duration=30");
	cr_assert(mig_wait_heartbeat(&src, 10, 20000));
	{
		const char *argv[] = {KVMTRACK_BIN, "checkpoint", "--control",
				      src.sock,	    "--to",	  dir,
				      "--every",    "300ms",	  "--keep",
				      "3",	    NULL};

		cr_assert_eq(bg_start(argv, &every), 0);
	}
	/* Six checkpoints: three of them merged away. */
	cr_assert(bg_wait_output(&every, "checkpoint ", 60000));
	cr_expect(
	    bg_wait_output(&every, "/0006 (incremental after 0005)", 120000),
	    "no sixth checkpoint");
	kill(every.pid, SIGTERM);
	cr_assert_eq(bg_wait(&every, 60, &r), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "/0001 (full)"), "%s", r.out);
	/* After 0004: 0001 to 0002; after 0005 and 0006, one more each. */
	cr_expect(strstr(r.out, "; 0001 to 0002 merged into one") &&
		      strstr(r.out, "; 0003 to 0004 merged into one"),
		  "%s", r.out);
	cr_expect(strstr(r.err, "ticks missed"), "%s", r.err);
	proc_result_free(&r);
	mig_quit(&src);

	/* Three left, the oldest a full merged one. */
	list = info(dir);
	cr_expect(strstr(list, ": 3 checkpoints"), "%s", list);
	cr_expect(strstr(list, "full merged"), "%s", list);
	free(list);
	ck_restore(&dst, "ck-every-dst", dir);
	mig_expect_guest_verifies(&dst, 90);
	cr_expect_gt(mig_first_heartbeat(&dst), 10);
	/* The merged base itself restores. */
	snprintf(spec, sizeof(spec), "%s/0004", dir);
	ck_restore(&dst, "ck-every-base", spec);
	mig_expect_guest_verifies(&dst, 90);

	/* checkpoint-merge folds the rest into the newest. */
	{
		const char *argv[] = {KVMTRACK_BIN, "checkpoint-merge", dir,
				      NULL};

		cr_assert_eq(run_cmd(argv, 60, &r), 0);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect(strstr(r.out, "3 checkpoints merged into one"), "%s",
			  r.out);
		proc_result_free(&r);
	}
	list = info(dir);
	cr_expect(strstr(list, ": 1 checkpoints"), "%s", list);
	free(list);
	ck_restore(&dst, "ck-every-merged", dir);
	mig_expect_guest_verifies(&dst, 90);
	cr_assert_eq(run_cmd(merge_bad, 30, &r), 0);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "/nonexistent/chain: No such file"), "%s",
		  r.err);
	proc_result_free(&r);
	ck_shell("rm -rf %s", dir);
}
