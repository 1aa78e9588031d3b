// SPDX-License-Identifier: MIT
/*
 * Read-only windows across real processes: two kvmtrack guests sharing one
 * file hold it once in host memory (each process's PSS for the mapping is
 * about half the file), and the guests read the file's true bytes; aliases
 * added and removed at runtime over the control socket, bad requests
 * refused, and a removed alias reported when the guest touches it again.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

#define SOCK "/tmp/kt-e2e-alias.sock"
#define FILE_BYTES (16u << 20)

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Rss and Pss (KiB) of the mapping of path in /proc/pid/smaps. */
static bool mapping_kib(pid_t pid, const char *path, long *rss, long *pss)
{
	char name[64], line[512];
	bool in = false, found = false;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/smaps", (int)pid);
	f = fopen(name, "r");
	if (!f)
		return false;
	*rss = *pss = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		/* A mapping's header line: "start-end perms ... path". */
		size_t tok = strcspn(line, " ");

		if (memchr(line, '-', tok) && line[tok - 1] != ':') {
			in = n > strlen(path) + 1 &&
			     !strncmp(line + n - 1 - strlen(path), path,
				      strlen(path));
			found |= in;
		} else if (in && !strncmp(line, "Rss:", 4)) {
			*rss += strtol(line + 4, NULL, 10);
		} else if (in && !strncmp(line, "Pss:", 4)) {
			*pss += strtol(line + 4, NULL, 10);
		}
	}
	fclose(f);
	return found;
}

static void start_sharer(const char *share, struct bg_proc *p)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "64M", "--share",
			       share, "--cmdline",
			       "workload=alias alias_loop=1 duration=30",
			       GUEST_ELF, NULL };

	cr_assert_eq(bg_start(argv, p), 0);
}

Test(share, two_guests_hold_one_file_once)
{
	uint8_t *data = malloc(FILE_BYTES);
	char path[64], share[128], want[64];
	struct bg_proc a, b;
	struct proc_result r;
	long rss_a, pss_a, rss_b, pss_b;
	const long file_kib = FILE_BYTES / 1024;

	srand(42);
	for (size_t i = 0; i < FILE_BYTES; i++)
		data[i] = (uint8_t)rand();
	cr_assert_eq(write_temp_file(data, FILE_BYTES, path, sizeof(path)), 0);
	snprintf(share, sizeof(share), "blob=%s@0x40000000", path);
	snprintf(want, sizeof(want), "fnv1a %#018" PRIx64,
		 fnv1a(data, FILE_BYTES));
	start_sharer(share, &a);
	start_sharer(share, &b);
	/* Both guests have read every byte of the file. */
	cr_assert(bg_wait_output(&a, want, 20000), "guest A: no '%s'", want);
	cr_assert(bg_wait_output(&b, want, 20000), "guest B: no '%s'", want);
	cr_assert(mapping_kib(a.pid, path, &rss_a, &pss_a), "no mapping in A");
	cr_assert(mapping_kib(b.pid, path, &rss_b, &pss_b), "no mapping in B");
	cr_log_info("share %ld KiB: A rss %ld pss %ld KiB, B rss %ld pss %ld KiB",
		    file_kib, rss_a, pss_a, rss_b, pss_b);
	printf("PSS: file %ld KiB; A Rss %ld Pss %ld KiB; B Rss %ld Pss %ld KiB\n",
	       file_kib, rss_a, pss_a, rss_b, pss_b);
	/* Each maps all of it, and the two share every page: counted once. */
	cr_expect_geq(rss_a, file_kib * 95 / 100);
	cr_expect_geq(rss_b, file_kib * 95 / 100);
	cr_expect_leq(pss_a, file_kib * 55 / 100, "A's Pss %ld KiB", pss_a);
	cr_expect_leq(pss_b, file_kib * 55 / 100, "B's Pss %ld KiB", pss_b);
	cr_expect_geq(pss_a + pss_b, file_kib * 95 / 100);
	kill(a.pid, SIGTERM);
	kill(b.pid, SIGTERM);
	cr_assert_eq(bg_wait(&a, 10, &r), 0);
	cr_expect(!strstr(r.out, "FAILED"), "%s", r.out);
	proc_result_free(&r);
	cr_assert_eq(bg_wait(&b, 10, &r), 0);
	proc_result_free(&r);
	/* The file was never written. */
	{
		size_t len;
		char *after = read_file(path, &len);

		cr_expect_eq(len, FILE_BYTES);
		cr_expect(!memcmp(after, data, FILE_BYTES), "file changed");
		free(after);
	}
	unlink(path);
	free(data);
}

static struct proc_result ctl(const char *cmd, const char *args)
{
	const char *argv[] = { KVMTRACK_BIN, "ctl", "--control", SOCK, cmd,
			       args, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	return r;
}

static void expect_add_refused(const char *args, const char *why)
{
	struct proc_result r = ctl("alias-add", args);

	cr_expect_neq(r.status, 0, "alias-add %s was accepted", args);
	cr_expect(strstr(r.out, why) || strstr(r.err, why),
		  "alias-add %s: want '%s': %s %s", args, why, r.out, r.err);
	proc_result_free(&r);
}

Test(share, alias_add_and_remove_at_runtime)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "--control",
			       SOCK, "--strict-io", "--alias",
			       "0x20000000=0x100000+64K",
			       "--cmdline",
			       "workload=alias alias_loop=1 alias_probe=805306368 duration=30",
			       GUEST_ELF, NULL };
	struct bg_proc p;
	struct proc_result r;

	unlink(SOCK);
	cr_assert_eq(bg_start(argv, &p), 0);
	cr_assert(wait_for_socket(SOCK, 10000));
	/* The guest starts probing 0x30000000 1.5 s into its loop. */
	r = ctl("alias-add",
		"{\"gpa\": \"0x30000000\", \"src_gpa\": 1048576, \"size\": \"64K\"}");
	cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
	cr_expect(strstr(r.out, "\"gpa\":805306368,\"src_gpa\":1048576,\"size\":65536"),
		  "%s", r.out);
	proc_result_free(&r);
	expect_add_refused("{\"gpa\": \"0x20008000\", \"src_gpa\": 0, \"size\": 4096}",
			   "overlaps alias at [0x20000000, 0x20010000)");
	expect_add_refused("{\"gpa\": \"0x1000\", \"src_gpa\": 0, \"size\": 4096}",
			   "overlaps RAM region ram-low");
	expect_add_refused("{\"gpa\": \"0x40000800\", \"src_gpa\": 0, \"size\": 4096}",
			   "page-aligned");
	expect_add_refused("{\"gpa\": \"0x40000000\", \"src_gpa\": \"0xfff0000\", \"size\": \"1M\"}",
			   "is out of range");
	expect_add_refused("{\"gpa\": \"0x40000000\", \"src_gpa\": 0}",
			   "'size' is required");
	cr_assert(bg_wait_output(&p, "alias probe 0x30000000 ok", 20000),
		  "the guest never read the runtime alias");
	r = ctl("alias-list", NULL);
	cr_expect_eq(count_substr(r.out, "\"kind\":\"alias\""), 2, "%s", r.out);
	cr_expect(strstr(r.out, "\"writes_trapped\":1"), "%s", r.out);
	proc_result_free(&r);
	/* Removing one alias: the guest's next read of it is reported. */
	r = ctl("alias-remove", "{\"gpa\": \"0x20000000\"}");
	cr_expect_eq(r.status, 0, "%s %s", r.out, r.err);
	cr_expect_eq(count_substr(r.out, "\"kind\":\"alias\""), 1, "%s", r.out);
	proc_result_free(&r);
	cr_assert_eq(bg_wait(&p, 20, &r), 0);
	cr_expect_eq(r.status, 3, "%s", r.err);
	cr_expect(strstr(r.err, "at unknown MMIO address 0x200"), "%s", r.err);
	cr_expect(!strstr(r.out, "FAILED"), "%s", r.out);
	proc_result_free(&r);
}
