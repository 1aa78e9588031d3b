// SPDX-License-Identifier: MIT
/*
 * Checkpoint chains between real kvmtrack processes: a writing guest
 * checkpointed three times (full, then incremental), each checkpoint
 * restored in a new kvmtrack whose guest must go on from where it was
 * and pass its own verification of every page it wrote; each kind of
 * damage to a chain refused with its reason before any guest runs; a
 * kvmtrack killed mid-checkpoint leaving the chain as it was; and a chain
 * carried to a second host.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/json/json.h"
#include "tests/e2e/checkpoint_helpers.h"

Test(checkpoint, chain_of_a_writing_guest_restores_from_each_layer,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	static const char *const names[] = {"0001", "0002", "0003"};
	long before[3];
	uint64_t pages[3], paused[3];
	struct mig_host src, dst;
	char dir[64], spec[96];

	ck_chain_dir(dir, sizeof(dir), "chain");
	mig_boot(&src, "ck-src", "1", WRITER "duration=7");
	cr_assert(mig_wait_heartbeat(&src, 20, 20000));
	for (int i = 0; i < 3; i++) {
		if (i)
			cr_assert(
			    mig_wait_heartbeat(&src, before[i - 1] + 6, 20000));
		before[i] = mig_last_heartbeat(&src);
		pages[i] = ck_expect_checkpoint(
		    &src, dir, names[i], i ? names[i - 1] : NULL, &paused[i]);
	}
	/* The tracker stayed attached: a layer holds what was written
	 * since the one before (~1000 pages), not every page again. Its
	 * pages were copied while the guest ran: the pause copied only
	 * those written meanwhile again. */
	for (int i = 1; i < 3; i++) {
		cr_expect(pages[i] > 0 && pages[i] < pages[0] / 2,
			  "layer %d holds %llu pages, the full one %llu", i,
			  (unsigned long long)pages[i],
			  (unsigned long long)pages[0]);
		cr_expect_lt(paused[i], pages[i],
			     "layer %d: all %llu pages copied in the pause", i,
			     (unsigned long long)pages[i]);
	}
	mig_expect_guest_verifies(&src, 60);
	for (int i = 0; i < 3; i++) {
		snprintf(spec, sizeof(spec), "%s/%s", dir, names[i]);
		ck_restore(&dst, "ck-dst", spec);
		mig_expect_guest_verifies(&dst, 60);
		/* It went on from the checkpoint, not from the start. */
		cr_expect_gt(mig_first_heartbeat(&dst), before[i],
			     "restored from %s: first heartbeat %ld, %ld "
			     "before the checkpoint",
			     names[i], mig_first_heartbeat(&dst), before[i]);
	}
}

/* The first page a layer holds (its pages file's bitmap of region 0
 * comes first; region 0 starts the memory file). */
static long first_held_page(const char *layer)
{
	char path[128];
	uint64_t *words;
	size_t len;
	long page = -1;

	snprintf(path, sizeof(path), "%s/pages", layer);
	words = (uint64_t *)read_file(path, &len);
	for (size_t w = 0; words && w < len / 8 && page < 0; w++)
		if (words[w])
			page =
			    (long)(w * 64 + (size_t)__builtin_ctzll(words[w]));
	free(words);
	return page;
}

Test(checkpoint, a_damaged_chain_is_refused_with_the_reason, .timeout = 180,
     .fini = mig_kill_leftovers)
{
	struct mig_host src;
	struct proc_result r;
	char dir[64], copy[64], layer[96], off[32];
	long page;

	ck_chain_dir(dir, sizeof(dir), "good");
	ck_chain_dir(copy, sizeof(copy), "bad");
	mig_boot(&src, "ck-bad", "1", WRITER "duration=60");
	cr_assert(mig_wait_heartbeat(&src, 5, 20000));
	ck_expect_checkpoint(&src, dir, "0001", NULL, NULL);
	cr_assert(
	    mig_wait_heartbeat(&src, mig_last_heartbeat(&src) + 3, 20000));
	ck_expect_checkpoint(&src, dir, "0002", "0001", NULL);
	ck_expect_checkpoint(&src, dir, "0003", "0002", NULL);
	mig_quit(&src);

	/* One byte of a page that layer 0002 holds. */
	ck_shell("cp -a %s %s", dir, copy);
	snprintf(layer, sizeof(layer), "%s/0002", copy);
	page = first_held_page(layer);
	cr_assert_geq(page, 0);
	snprintf(off, sizeof(off), "%ld", page * 4096 + 100);
	ck_shell(
	    "printf x | dd of=%s/memory bs=1 seek=%s conv=notrunc 2>/dev/null",
	    layer, off);
	/* Restored from 0002, where the page is used (from 0003 it may
	 * not be: a restore reads each page from the newest layer). */
	ck_expect_refused(layer, NULL,
			  "checkpoint 0002: the memory page at GPA");
	ck_expect_refused(layer, NULL, "does not match its hash (altered)");

	ck_shell("rm -rf %s", copy);
	ck_shell("cp -a %s %s", dir, copy);
	ck_shell("truncate -s 1M %s/0003/memory", copy);
	ck_expect_refused(copy, NULL,
			  "checkpoint 0003: the memory file is 1048576 bytes, "
			  "the manifest says 268435456 (truncated)");

	ck_shell("rm -rf %s/0001", copy);
	snprintf(layer, sizeof(layer), "%s/0002", copy);
	ck_expect_refused(layer, NULL,
			  "checkpoint 0002: its parent 0001 is missing");

	ck_expect_refused(
	    dir, "-m",
	    "checkpoint 0003: a different machine: it has 256 MiB of RAM");

	/* The intact chain is listed. */
	{
		const char *argv[] = {KVMTRACK_BIN, "checkpoint-info", dir,
				      NULL};

		cr_assert_eq(run_cmd(argv, 30, &r), 0);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect(strstr(r.out, "3 checkpoints"), "%s", r.out);
		cr_expect(strstr(r.out, "0003   0002   incremental"), "%s",
			  r.out);
		cr_expect(strstr(r.out, "256 MiB of RAM, 1 vCPUs"), "%s",
			  r.out);
		proc_result_free(&r);
	}
	ck_shell("rm -rf %s %s", dir, copy);
}

Test(checkpoint, refused_during_a_migration_and_without_its_parent,
     .timeout = 180, .fini = mig_kill_leftovers)
{
	/* Whole pages at 1 MiB/s: the first pass alone takes seconds. */
	static const char *const slow[] = {"--max-bandwidth", "1M", NULL};
	struct mig_host src, dst;
	struct proc_result r, m;
	struct json_value *v;
	struct bg_proc mig;
	char a[64], b[64];

	ck_chain_dir(a, sizeof(a), "a");
	ck_chain_dir(b, sizeof(b), "b");
	mig_boot(&src, "ck-mig", "1", WRITER "fill=page duration=60");
	cr_assert(mig_wait_heartbeat(&src, 5, 20000));
	mig_listen(&dst, "ck-mig-dst", mig_test_port(7));
	mig_migrate_bg(&src, dst.port, slow, &mig);
	cr_assert(mig_wait_transferred(&src, 1, 20000));
	v = ck_checkpoint(&src, a, NULL, &r);
	cr_expect(!v && r.status == 1, "checkpoint during a migration: %d %s",
		  r.status, r.out);
	cr_expect(strstr(r.err, "refused: a migration is already running"),
		  "%s", r.err);
	proc_result_free(&r);
	json_free(v);
	m = mig_ctl(&src, "migrate-cancel");
	proc_result_free(&m);
	m = mig_migrate_wait(&mig, 60);
	cr_expect_eq(m.status, 1, "%s", m.out);
	proc_result_free(&m);

	/* The first checkpoint of a chain is full, --incremental or not. */
	v = ck_checkpoint(&src, a, "--incremental", &r);
	cr_expect(v && strstr(r.out, "\"name\":\"0001\",\"parent\":null"),
		  "%s %s", r.out, r.err);
	proc_result_free(&r);
	json_free(v);
	ck_expect_checkpoint(&src, b, "0001", NULL, NULL);
	/* a/0001 is not the last one taken here: what changed since it is
	 * not known. */
	v = ck_checkpoint(&src, a, "--incremental", &r);
	cr_expect(!v && r.status == 1, "%d %s", r.status, r.out);
	cr_expect(strstr(r.err, "this kvmtrack did not take it last"), "%s",
		  r.err);
	proc_result_free(&r);
	json_free(v);
	ck_expect_checkpoint(&src, b, "0002", "0001", NULL);
	/* --stop leaves the guest paused. */
	v = ck_checkpoint(&src, b, "--stop", &r);
	cr_expect(v, "%d %s", r.status, r.err);
	proc_result_free(&r);
	json_free(v);
	r = mig_ctl(&src, "status");
	cr_expect(strstr(r.out, "\"status\":\"paused\""), "%s", r.out);
	proc_result_free(&r);
	mig_quit(&src);
	mig_stop(&dst);
	ck_shell("rm -rf %s %s", a, b);
}

/*
 * The guest's kvmtrack killed (SIGKILL) in the middle of a checkpoint:
 * the chain holds what was committed before, the dead one's files are not
 * a checkpoint (listed or restored), a restore resumes the guest from the
 * last committed one and its own verification passes, and the restored
 * kvmtrack's next checkpoint takes the dead one's name over its leftovers.
 */
Test(checkpoint, kill_9_mid_checkpoint_leaves_the_chain_restorable,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	struct mig_host src, dst;
	struct proc_result r;
	struct bg_proc ck;
	char dir[64], tmp[96];
	bool caught = false;
	long before;

	ck_chain_dir(dir, sizeof(dir), "kill");
	snprintf(tmp, sizeof(tmp), "%s/.0002.tmp", dir);
	/* 128 MiB written: a full checkpoint takes long enough to be caught
	 * with its files half written. */
	mig_boot(&src, "ck-kill", "1",
		 "workload=random wss=128M rate=3000 heartbeat=50 verify=1 "
		 "duration=20");
	cr_assert(mig_wait_heartbeat(&src, 5, 20000));
	ck_expect_checkpoint(&src, dir, "0001", NULL, NULL);
	before = mig_last_heartbeat(&src);
	{
		const char *argv[] = {KVMTRACK_BIN, "checkpoint", "--control",
				      src.sock,	    "--to",	  dir,
				      NULL};

		cr_assert_eq(bg_start(argv, &ck), 0);
	}
	/* Until the second checkpoint's files exist, or it ended first. */
	for (int i = 0; i < 600000 && !caught; i++) {
		caught = access(tmp, F_OK) == 0;
		if (!caught && waitpid(ck.pid, NULL, WNOHANG) == ck.pid)
			break;
		if (!caught)
			usleep(100);
	}
	cr_assert(caught, "checkpoint 0002 ended before its files were seen");
	kill(src.proc.pid, SIGKILL);
	cr_assert_eq(bg_wait(&ck, 60, &r), 0);
	cr_expect_neq(r.status, 0, "the checkpoint succeeded: %s", r.out);
	proc_result_free(&r);
	bg_wait(&src.proc, 30, &r);
	proc_result_free(&r);

	{
		const char *argv[] = {KVMTRACK_BIN, "checkpoint-info", dir,
				      NULL};

		cr_assert_eq(run_cmd(argv, 30, &r), 0);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect(strstr(r.out, "1 checkpoint") &&
			      !strstr(r.out, "0002"),
			  "%s", r.out);
		proc_result_free(&r);
	}
	ck_restore(&dst, "ck-kill-dst", dir);
	cr_assert(mig_wait_heartbeat(&dst, before + 2, 30000),
		  "no heartbeat after the restore");
	cr_expect_leq(mig_first_heartbeat(&dst), before + 1,
		      "restored from a later state than checkpoint 0001 (beat "
		      "%ld, %ld then)",
		      mig_first_heartbeat(&dst), before);
	ck_expect_checkpoint(&dst, dir, "0002", NULL, NULL);
	cr_expect(access(tmp, F_OK) != 0, "%s is still there", tmp);
	mig_expect_guest_verifies(&dst, 90);
	ck_shell("rm -rf %s", dir);
}

/*
 * Restored on a second host: in another network namespace, from a copy of
 * the chain whose original is gone, as a user carries a chain over. The
 * guest goes on from the newest layer and verifies every page it wrote.
 */
Test(checkpoint, restored_on_a_second_host_from_a_copy, .timeout = 180,
     .fini = mig_kill_leftovers)
{
	struct mig_host src, dst;
	char dir[64], copy[64], ns[32];
	long before, after;

	ck_chain_dir(dir, sizeof(dir), "host1");
	ck_chain_dir(copy, sizeof(copy), "host2");
	snprintf(ns, sizeof(ns), "kt-ck-%d", getpid());
	mig_boot(&src, "ck-host1", "1", WRITER "duration=15");
	cr_assert(mig_wait_heartbeat(&src, 5, 20000));
	ck_expect_checkpoint(&src, dir, "0001", NULL, NULL);
	cr_assert(
	    mig_wait_heartbeat(&src, mig_last_heartbeat(&src) + 6, 20000));
	before = mig_last_heartbeat(&src);
	ck_expect_checkpoint(&src, dir, "0002", "0001", NULL);
	after = mig_last_heartbeat(&src);
	mig_quit(&src);
	ck_shell("cp -a %s %s && rm -rf %s", dir, copy, dir);
	ck_shell("%s netns add %s", mig_sbin("ip"), ns);
	mig_restore_in(&dst, ns, "ck-host2", copy, true);
	mig_expect_guest_verifies(&dst, 60);
	cr_expect(mig_first_heartbeat(&dst) > before &&
		      mig_first_heartbeat(&dst) <= after + 1,
		  "not from checkpoint 0002: first beat %ld, %ld to %ld then",
		  mig_first_heartbeat(&dst), before, after);
	ck_shell("%s netns del %s; rm -rf %s", mig_sbin("ip"), ns, copy);
}
