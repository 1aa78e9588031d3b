// SPDX-License-Identifier: MIT
/*
 * Authenticated checkpoints between real kvmtrack processes: a writing
 * guest checkpointed with --mac-psk, full then incremental; the chain is
 * refused without the key, an incremental checkpoint without it is
 * refused too, and with the key the guest is restored, copied and lazily,
 * goes on from its checkpoint and passes its own check of every page. A
 * page of the base forged so that its hash (and every digest) stays the
 * same is refused by its MAC.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/e2e/checkpoint_helpers.h"
#include "tests/page_forge.h"

/* A key file as QEMU's keys.psk, readable by its owner only. */
static void write_key(char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "/tmp/kt-%d-mac.psk", getpid());
	f = fopen(path, "w");
	cr_assert(f);
	fputs("kvmtrack:000102030405060708090a0b0c0d0e0f\n", f);
	fclose(f);
	chmod(path, 0600);
}

/* `kvmtrack checkpoint ... --mac-psk KEY [--incremental]`. */
static struct proc_result checkpoint_mac(const struct mig_host *h,
					 const char *dir, const char *key,
					 bool incremental)
{
	const char *argv[] = {KVMTRACK_BIN, "checkpoint", "--control",
			      h->sock,	    "--to",	  dir,
			      "--mac-psk",  key,	  incremental ?
			      "--incremental" : NULL,	  NULL};
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	return r;
}

static void restore_with_key(struct mig_host *h, const char *name,
			     const char *dir, const char *key, bool lazy)
{
	mig_run_args(h, name,
		     (const char *const[]){"--restore", dir, "--mac-psk", key,
					   "--strict-io", "--restore-mode",
					   lazy ? "lazy" : "copy", NULL});
}

Test(checkpoint_mac, a_chain_with_macs_restores_and_a_forged_page_does_not,
     .timeout = 280, .fini = mig_kill_leftovers)
{
	static const char *const newer[] = {"0002", NULL};
	struct mig_host src, dst;
	struct proc_result r;
	char dir[64], key[64], memory[96];
	long before, page;

	write_key(key, sizeof(key));
	ck_chain_dir(dir, sizeof(dir), "mac");
	mig_boot(&src, "ckm-src", "1", WRITER "duration=25");
	cr_assert(mig_wait_heartbeat(&src, 20, 20000));
	r = checkpoint_mac(&src, dir, key, false);
	cr_assert_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
	cr_assert(
	    mig_wait_heartbeat(&src, mig_last_heartbeat(&src) + 6, 20000));
	before = mig_last_heartbeat(&src);
	r = checkpoint_mac(&src, dir, key, true);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "checkpoint") && strstr(r.out, "/0002"), "%s",
		  r.out);
	proc_result_free(&r);
	/* Without the key, the chain cannot go on. */
	ck_checkpoint(&src, dir, "--incremental", &r);
	cr_expect_eq(r.status, 1, "%s", r.out);
	cr_expect(r.err && strstr(r.err, "checkpoint 0002 is authenticated, "
					 "give --mac-psk"),
		  "%s", r.err);
	proc_result_free(&r);
	mig_quit(&src);

	{
		const char *argv[] = {KVMTRACK_BIN, "checkpoint-info", dir,
				      NULL};

		cr_assert_eq(run_cmd(argv, 30, &r), 0);
		cr_expect(strstr(r.out, "authenticated: HMAC-SHA256 per page "
					"and file, key identity 'kvmtrack'"),
			  "%s", r.out);
		proc_result_free(&r);
	}
	ck_expect_refused(dir, NULL,
			  "checkpoint 0002 is authenticated (HMAC-SHA256, "
			  "identity 'kvmtrack'): give its key with --mac-psk");
	for (int lazy = 0; lazy < 2; lazy++) {
		restore_with_key(&dst, lazy ? "ckm-lazy" : "ckm-copy", dir, key,
				 lazy);
		mig_expect_guest_verifies(&dst, 90);
		cr_expect_gt(mig_first_heartbeat(&dst), before);
	}

	/* A page only the base holds, forged to keep its hash. */
	page = ck_page_held_only_by(dir, "0001", newer);
	cr_assert_geq(page, 0);
	snprintf(memory, sizeof(memory), "%s/0001/memory", dir);
	cr_assert(page_forge_in_file(memory, (uint64_t)page));
	{
		const char *argv[] = {KVMTRACK_BIN, "run",	  "--serial",
				      "none",	    "--restore",  dir,
				      "--mac-psk",  key,	  NULL};

		cr_assert_eq(run_cmd(argv, 60, &r), 0);
		cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
		cr_expect(r.err && strstr(r.err, "checkpoint 0001: the memory "
						 "page at GPA") &&
			      strstr(r.err, "fails its MAC (altered)"),
			  "%s", r.err);
		proc_result_free(&r);
	}
	ck_shell("rm -rf %s %s", dir, key);
}
