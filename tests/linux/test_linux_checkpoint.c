// SPDX-License-Identifier: MIT
/*
 * A running Linux guest checkpointed and restored: Debian's kernel with
 * the tests' writer (linux_writer.c), one full and one incremental
 * checkpoint taken while it writes, the source quit, and the chain
 * restored in a new kvmtrack. The kernel's clock, timers and console go on
 * there from the newest checkpoint, and the writer's next check of its
 * whole buffer passes: every page came back with its last write.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"
#include "tests/linux/linux_tests.h"

TestSuite(linux_checkpoint, .fini = mig_kill_leftovers);

/* `kvmtrack checkpoint` of h into dir, which must succeed. */
static void checkpoint(const struct mig_host *h, const char *dir,
		       const char *option)
{
	const char *argv[] = {KVMTRACK_BIN, "checkpoint", "--control",
			      h->sock,	    "--to",	  dir,
			      "--json",	    option,	  NULL};
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	cr_assert_eq(r.status, 0, "checkpoint %s: %s", option ? option : "",
		     r.err);
	proc_result_free(&r);
}

/*
 * A checkpoint taken while the guest was in the middle of heartbeat
 * `beat`'s line leaves the line's start on the source's console and its
 * tail first on the restored one ("5" of "writer hb 35"): the restored
 * guest's first whole beat is then the one after. True when the restored
 * console starts with such a tail.
 */
static bool starts_with_tail_of(const char *serial, long beat)
{
	char *log = read_file(serial, NULL),
	     *nl = log ? strchr(log, '\n') : NULL;
	char line[48];
	size_t n, len;
	bool tail;

	if (nl)
		*nl = '\0';
	snprintf(line, sizeof(line), "writer hb %ld", beat);
	n = log ? strlen(log) : 0;
	len = strlen(line);
	tail = n > 0 && n < len && !strcmp(line + len - n, log);
	free(log);
	return tail;
}

Test(linux_checkpoint, a_writing_guest_restored_goes_on_and_checks,
     .timeout = 600)
{
	struct mig_host src, dst;
	long checks, before, after;
	char dir[64], cmd[96];
	bool bad;

	snprintf(dir, sizeof(dir), "/tmp/kt-%d-lx-chain", getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	linux_boot_writer(&src, "lx-ck-src", "1",
			  "kt.mib=64 kt.rate=5000 kt.every=10");
	checkpoint(&src, dir, NULL);
	cr_assert(writer_wait_check(
		      &src, "writer",
		      writer_last_check(src.serial, "writer", &bad), 60 * 1000),
		  "no check after the first checkpoint");
	before = mig_last_heartbeat(&src);
	checks = writer_last_check(src.serial, "writer", &bad);
	checkpoint(&src, dir, "--incremental");
	after = mig_last_heartbeat(&src);
	mig_quit(&src);

	mig_restore_in(&dst, NULL, "lx-ck-dst", dir, false);
	cr_assert(mig_wait_heartbeat(&dst, after + 2, 60 * 1000),
		  "no heartbeat after the restore; console: %s",
		  read_file(dst.serial, NULL));
	cr_expect(mig_first_heartbeat(&dst) > before &&
		      mig_first_heartbeat(&dst) <=
			  after + 1 +
			      starts_with_tail_of(dst.serial, after + 1),
		  "not from the incremental checkpoint: first beat %ld, %ld to "
		  "%ld then",
		  mig_first_heartbeat(&dst), before, after);
	cr_expect(writer_wait_check(&dst, "writer", checks, 60 * 1000),
		  "no passing check after the restore (the last was %ld); "
		  "console: %s",
		  checks, read_file(dst.serial, NULL));
	mig_quit(&dst);
	cr_assert_eq(system(cmd), 0);
}
