// SPDX-License-Identifier: MIT
/*
 * The bundled guest under a real `kvmtrack run`: boot with 1 and 2 vCPUs,
 * write and verify 64 MiB, a corrupted stamp caught, and the guest's ground
 * truth arriving at the test device.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/client.h"
#include "lib/json/json.h"
#include "tests/helpers.h"

static struct proc_result run_guest(const char *cpus, const char *cmdline)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "-c", cpus,
			       "--strict-io", "--cmdline", cmdline, GUEST_ELF,
			       NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	cr_assert(!r.timed_out, "guest did not finish: %s", r.out);
	return r;
}

/* The value of "key=" in the guest's "done" line, or -1. */
static long long done_field(const char *out, const char *key)
{
	const char *done = strstr(out, "kvmtrack-guest: done ");
	const char *p;
	char pat[32];

	if (!done)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(done, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

Test(guest, boots_with_one_vcpu_and_ends_with_its_status)
{
	struct proc_result r = run_guest("1", "workload=idle duration=1");
	const char *banner =
		"kvmtrack-guest 0.1: cmdline 'workload=idle duration=1'\n";

	cr_expect(strncmp(r.out, banner, strlen(banner)) == 0,
		  "the banner must be the first line: %s", r.out);
	cr_expect(strstr(r.out, "cpus 1 up of 1"), "%s", r.out);
	cr_expect_eq(done_field(r.out, "status"), 0, "%s", r.out);
	cr_expect_eq(done_field(r.out, "pages_written"), 0, "idle writes nothing");
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.err, "guest wrote 0 to the debug-exit port"), "%s",
		  r.err);
	proc_result_free(&r);
}

Test(guest, boots_with_two_vcpus_both_writing)
{
	struct proc_result r = run_guest(
		"2", "workload=random wss=16M duration=1 vcpus=2 verify=1");

	cr_expect(strstr(r.out, "cpus 2 up of 2"), "%s", r.out);
	cr_expect(strstr(r.out, "2 writers"), "%s", r.out);
	cr_expect_eq(done_field(r.out, "verified"), 4096, "%s", r.out);
	cr_expect_eq(done_field(r.out, "bad"), 0, "%s", r.out);
	cr_expect_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
}

Test(guest, writes_64_mib_and_verifies_every_page)
{
	struct proc_result r =
		run_guest("1", "workload=sweep wss=64M duration=2 verify=1");

	cr_expect_geq(done_field(r.out, "pages_written"), 16384, "%s", r.out);
	cr_expect_eq(done_field(r.out, "verified"), 16384, "%s", r.out);
	cr_expect_eq(done_field(r.out, "bad"), 0, "%s", r.out);
	cr_expect_eq(r.status, 0);
	proc_result_free(&r);
}

Test(guest, a_corrupted_page_fails_verification)
{
	struct proc_result r = run_guest(
		"1", "workload=sweep wss=8M duration=1 verify=1 _corrupt=3");

	cr_expect_eq(done_field(r.out, "bad"), 3, "%s", r.out);
	cr_expect_neq(r.status, 0, "verification failure must fail the run");
	proc_result_free(&r);
}

Test(guest, ground_truth_reaches_the_test_device)
{
	const char *sock = "/tmp/kt-kvm-testdev.sock";
	const char *argv[] = { KVMTRACK_BIN, "run", "--control", sock,
			       "--cmdline", "workload=random wss=16M report=100",
			       GUEST_ELF, NULL };
	const struct json_value *td, *vcpus;
	struct json_value *stats = NULL;
	struct proc_result r;
	struct bg_proc p;
	uint64_t written = 0, distinct = 0;
	char err[256];

	unlink(sock);
	cr_assert_eq(bg_start(argv, &p), 0);
	cr_assert(wait_for_socket(sock, 10000));
	cr_assert(bg_wait_output(&p, "workload random start", 20000));
	usleep(600000);
	cr_assert_eq(control_call(sock, "stats", NULL, &stats, err, sizeof(err)),
		     0, "%s", err);
	td = json_get(json_get(stats, "devices"), "testdev");
	cr_assert_not_null(td);
	vcpus = json_get(td, "vcpus");
	cr_assert(vcpus && vcpus->nr_items == 1);
	cr_expect_eq(json_get_u64(vcpus->items[0], "total_pages_written",
				  &written),
		     0);
	cr_expect_eq(json_get_u64(vcpus->items[0], "interval_distinct_pages",
				  &distinct),
		     0);
	cr_expect_gt(written, 1000, "the guest reports what it wrote");
	/* A 100 ms interval of random writes over 4096 pages at millions of
	 * pages/s touches every page. */
	cr_expect_eq(distinct, 4096);
	json_free(stats);
	cr_assert_eq(control_call(sock, "quit", NULL, &stats, err, sizeof(err)),
		     0, "%s", err);
	json_free(stats);
	bg_wait(&p, 20, &r);
	cr_expect_eq(r.status, 0);
	proc_result_free(&r);
}
