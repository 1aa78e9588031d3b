// SPDX-License-Identifier: MIT
/*
 * Aliases and shared files across a live migration: the alias is recreated
 * at the destination (the guest keeps reading through it there; a missing
 * alias would end it with an unknown-address exit), the shared file is not
 * sent (bytes on the wire stay below its size) but checked by digest
 * against the destination's own copy, and a destination without the file
 * refuses the machine before it takes any memory.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"

#define FILE_BYTES (32u << 20)
#define ALIAS "0x20000000=0x400000+8M"
#define SHARE_GPA "0x30000000"

static void make_file(char *path, size_t len)
{
	char *data = malloc(FILE_BYTES);

	for (size_t i = 0; i < FILE_BYTES; i++)
		data[i] = (char)(i * 2654435761u >> 13);
	cr_assert_eq(write_temp_file(data, FILE_BYTES, path, len), 0);
	free(data);
}

/*
 * The guest reads through its windows for 20 s, then ends with its verdict:
 * long enough to outlive the refused migration, the capped one and the
 * refused alias-add before it, even in the test VM (tests/vm/), where each
 * of those steps takes seconds.
 */
static void boot_with_windows(struct mig_host *h, const char *file)
{
	char share[128], serial[96];
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "--control",
			       h->sock, "--serial", serial, "--strict-io",
			       "--alias", ALIAS,
			       "--share", share, "--cmdline",
			       "workload=alias alias_loop=1 duration=20",
			       GUEST_ELF, NULL };

	snprintf(h->sock, sizeof(h->sock), "/tmp/kt-%d-win-a.sock", getpid());
	snprintf(h->serial, sizeof(h->serial), "/tmp/kt-%d-win-a.log",
		 getpid());
	unlink(h->sock);
	snprintf(serial, sizeof(serial), "file:%s", h->serial);
	snprintf(share, sizeof(share), "data=%s@" SHARE_GPA, file);
	cr_assert_eq(bg_start(argv, &h->proc), 0);
	cr_assert(wait_for_socket(h->sock, 10000));
	/* The alias workload logs "alias pass N" every 10 checks. */
	for (int waited = 0; waited < 10000; waited += 50) {
		char *log = read_file(h->serial, NULL);
		bool going = log && strstr(log, "alias pass 10 ");

		free(log);
		if (going)
			return;
		usleep(50000);
	}
	cr_assert_fail("the guest does not run its alias checks");
}

static void listen_with(struct mig_host *h, const char *name, int port,
			const char *file)
{
	static char share[128];
	const char *opts[] = { "--share", share, NULL };

	if (file)
		snprintf(share, sizeof(share), "data=%s@" SHARE_GPA, file);
	mig_listen_opts(h, name, port, file ? opts : NULL);
}

/* The source froze its windows: it logs dirty pages only after that. */
static void wait_source_logging(const struct mig_host *a)
{
	for (int waited = 0; waited < 30000; waited += 20) {
		struct proc_result r = mig_ctl(a, "status");
		bool logging = r.out && strstr(r.out, "\"logging\":true");

		proc_result_free(&r);
		if (logging)
			return;
		usleep(20000);
	}
	cr_assert_fail("the migration never started logging at the source");
}

Test(migrate_windows, aliases_move_and_files_stay, .timeout = 90)
{
	struct mig_host a, b, bad;
	struct proc_result r, end;
	char file[64];
	char *log;

	make_file(file, sizeof(file));
	boot_with_windows(&a, file);

	/* Without the file the destination refuses before taking memory. */
	listen_with(&bad, "win-bad", mig_test_port(41), NULL);
	r = mig_migrate(&a, bad.port, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.out, "--share data=FILE@0x30000000"), "%s", r.out);
	cr_expect_eq(mig_json_field(r.out, "normal_pages"), 0, "%s", r.out);
	proc_result_free(&r);
	kill(bad.proc.pid, SIGKILL);
	bg_wait(&bad.proc, 10, &end);
	proc_result_free(&end);

	listen_with(&b, "win-b", mig_test_port(42), file);
	{
		/*
		 * A window change while the migration runs is refused. The
		 * destination is stopped (SIGSTOP) first: the source connects,
		 * sends its windows, starts logging and waits for READY, so
		 * the migration runs for certain, however fast this machine
		 * is, until the destination goes on (SIGCONT).
		 */
		const char *add[] = { KVMTRACK_BIN, "ctl", "--control", a.sock,
				      "alias-add",
				      "{\"gpa\":\"0x24000000\",\"src_gpa\":\"0x400000\",\"size\":\"64K\"}",
				      NULL };
		struct bg_proc mig;
		struct proc_result added;

		kill(b.proc.pid, SIGSTOP);
		mig_migrate_bg(&a, b.port, NULL, &mig);
		wait_source_logging(&a);
		cr_assert_eq(run_cmd(add, 30, &added), 0);
		cr_expect_eq(added.status, 1, "%s", added.out);
		cr_expect(strstr(added.err, "a migration is running"), "%s",
			  added.err);
		proc_result_free(&added);
		kill(b.proc.pid, SIGCONT);
		r = mig_migrate_wait(&mig, 60);
	}
	cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
	cr_expect(strstr(r.out, "\"verified\":true"), "%s", r.out);
	/* 32 MiB of file content behind the window: none of it is sent. */
	cr_expect_lt(mig_json_field(r.out, "transferred_bytes"), FILE_BYTES / 2,
		     "%s", r.out);
	proc_result_free(&r);
	bg_wait(&a.proc, 20, &end);
	cr_expect(strstr(end.err, "guest migrated to"), "%s", end.err);
	proc_result_free(&end);

	/* The guest reads through both windows until its end, there. */
	bg_wait(&b.proc, 60, &end);
	log = read_file(b.serial, NULL);
	cr_expect_eq(end.status, 0, "guest status %d: %s\n%s", end.status,
		     end.err, log);
	cr_expect(log && strstr(log, "alias pass"), "no checks ran there: %s",
		  log);
	cr_expect(log && strstr(log, "alias done status=0"), "%s", log);
	free(log);
	proc_result_free(&end);
	unlink(file);
}
