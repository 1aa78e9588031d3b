// SPDX-License-Identifier: MIT
/*
 * The control socket of a real `kvmtrack run`, driven by a second real
 * process (`kvmtrack ctl`): status, pause/resume (the guest's heartbeat
 * really stops and restarts), stats, quit; and SIGTERM.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

#define SOCK "/tmp/kt-e2e-control.sock"

static struct bg_proc start_guest(const char *cmdline)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "128M", "--control",
			       SOCK, "--cmdline", cmdline, GUEST_ELF, NULL };
	struct bg_proc p;

	unlink(SOCK);
	cr_assert_eq(bg_start(argv, &p), 0);
	cr_assert(wait_for_socket(SOCK, 10000), "no control socket");
	return p;
}

static struct proc_result ctl(const char *command)
{
	const char *argv[] = { KVMTRACK_BIN, "ctl", "--control", SOCK, command,
			       NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	return r;
}

static int heartbeats(struct bg_proc *p)
{
	char *out = read_file(p->out_path, NULL);
	int n = count_substr(out, "hb ");

	free(out);
	return n;
}

Test(control, status_pause_resume_stats_quit)
{
	struct bg_proc p = start_guest("workload=idle heartbeat=20");
	struct proc_result r;
	int before, after;

	cr_assert(bg_wait_output(&p, "hb 3", 20000), "guest never beat");
	r = ctl("status");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "\"status\":\"running\""), "%s", r.out);
	proc_result_free(&r);

	r = ctl("pause");
	cr_expect_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
	before = heartbeats(&p);
	usleep(300000);
	after = heartbeats(&p);
	cr_expect_leq(after - before, 1, "guest ran while paused");
	r = ctl("status");
	cr_expect(strstr(r.out, "\"status\":\"paused\""), "%s", r.out);
	proc_result_free(&r);
	r = ctl("pause");
	cr_expect_eq(r.status, 1, "pausing twice is an error");
	cr_expect(strstr(r.err, "pause"), "%s", r.err);
	proc_result_free(&r);

	r = ctl("resume");
	cr_expect_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
	usleep(300000);
	cr_expect_gt(heartbeats(&p), after + 3, "guest did not resume");

	r = ctl("stats");
	cr_expect(strstr(r.out, "\"vcpus\":[{\"index\":0"), "%s", r.out);
	cr_expect(strstr(r.out, "\"io_exits\":"), "%s", r.out);
	proc_result_free(&r);

	r = ctl("quit");
	cr_expect_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
	bg_wait(&p, 20, &r);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.err, "quit requested"), "%s", r.err);
	proc_result_free(&r);
}

Test(control, unknown_command_and_sigterm)
{
	struct bg_proc p = start_guest("workload=idle");
	struct proc_result r;

	cr_assert(bg_wait_output(&p, "kvmtrack-guest", 20000), "no banner");
	r = ctl("no-such-command");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "no-such-command"), "%s", r.err);
	proc_result_free(&r);

	kill(p.pid, SIGTERM);
	bg_wait(&p, 20, &r);
	cr_expect_eq(r.status, 128 + SIGTERM);
	cr_expect(strstr(r.err, "stopped by SIGTERM (exit status 143)"), "%s",
		  r.err);
	proc_result_free(&r);
}
