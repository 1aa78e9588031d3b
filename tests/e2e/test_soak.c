// SPDX-License-Identifier: MIT
/*
 * Soak: what a long life of migrations leaves behind. KVMTRACK_SOAK_HOPS
 * (10 in `make check`; `make soak` gives 50) ping-pong hops of a writing
 * guest between two ports, each verified as it lands, and as many failed
 * attempts thrown at one destination that keeps listening. At the start,
 * halfway and at the end the test reads each process's open descriptors
 * (/proc/PID/fd), threads and resident memory (/proc/PID/status), prints
 * them as a table, and holds them to no growth: a descriptor or a thread
 * left behind per hop or per attempt shows as a difference; memory may
 * move by what the allocator keeps, not by what a leak of a page per hop
 * would add up to.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"

#define WRITER "workload=random wss=16M rate=10000 vcpus=2 heartbeat=20 verify=1"
/*
 * Resident memory between the first and the last sample. The guest's
 * 16 MiB are all written before the first sample, so its memory is there
 * from then on; what moves is the allocator's and the kernel's (transparent
 * huge pages come and go by 2 MiB). A leak of one page a hop over 50 hops
 * is 200 KiB, of one 64 KiB frame buffer a hop 3 MiB: 4 MiB lets the first
 * pass and catches the second.
 */
#define RSS_SLACK_KIB 4096

struct sample {
	int hop;
	long fds, threads, rss_kib;
	char fd_list[2048]; /* "fd:target ...", to name what grew */
};

static int soak_hops(void)
{
	const char *v = getenv("KVMTRACK_SOAK_HOPS");
	int n = v ? atoi(v) : 10;

	cr_assert(n >= 4 && n % 2 == 0, "KVMTRACK_SOAK_HOPS: an even number >= 4");
	return n;
}

static long status_field(pid_t pid, const char *key)
{
	char path[64], *text, *at;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = read_file(path, NULL);
	at = text ? strstr(text, key) : NULL;
	if (at)
		v = strtol(at + strlen(key), NULL, 10);
	free(text);
	return v;
}

static void measure(struct sample *s, pid_t pid, int hop)
{
	char path[64], link[320], target[256];
	struct dirent *e;
	size_t used = 0;
	DIR *d;

	*s = (struct sample){ hop, 0, status_field(pid, "Threads:"),
			      status_field(pid, "VmRSS:"), "" };
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	cr_assert(d, "%s", path);
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		s->fds++;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (used < sizeof(s->fd_list))
			used += (size_t)snprintf(s->fd_list + used,
						 sizeof(s->fd_list) - used, "%s:%s ",
						 e->d_name, target);
	}
	closedir(d);
}

/* The table, then: no growth from the first sample to the others. */
static void expect_flat(const char *what, const struct sample *s, int n)
{
	cr_log_info("%s:", what);
	cr_log_info("  after | fds | threads | RSS KiB");
	for (int i = 0; i < n; i++)
		cr_log_info("  %5d | %3ld | %7ld | %ld", s[i].hop, s[i].fds,
			    s[i].threads, s[i].rss_kib);
	for (int i = 1; i < n; i++) {
		cr_expect_eq(s[i].fds, s[0].fds,
			     "%s: %ld descriptors after %d (%s), %ld after %d (%s)",
			     what, s[i].fds, s[i].hop, s[i].fd_list, s[0].fds,
			     s[0].hop, s[0].fd_list);
		cr_expect_eq(s[i].threads, s[0].threads,
			     "%s: %ld threads after %d, %ld after %d", what,
			     s[i].threads, s[i].hop, s[0].threads, s[0].hop);
		cr_expect_leq(s[i].rss_kib, s[0].rss_kib + RSS_SLACK_KIB,
			      "%s: %ld KiB resident after %d, %ld after %d", what,
			      s[i].rss_kib, s[i].hop, s[0].rss_kib, s[0].hop);
	}
}

/*
 * Hops land on B's port when odd, on A's when even; the processes sampled
 * are A's that received the guest at hop 2, halfway and last, each just
 * before it sends the guest on (the last, before the guest ends): alike
 * processes at alike moments, all started the same way.
 */
Test(soak, ping_pong, .timeout = 1800, .fini = mig_kill_leftovers)
{
	int hops = soak_hops(), nr = 0;
	struct mig_host *h = calloc((size_t)hops + 1, sizeof(*h));
	const int port[2] = { mig_test_port(91), mig_test_port(92) };
	struct sample s[3];

	cr_assert(h);
	mig_boot(&h[0], "soak-0", "2", WRITER);
	cr_assert(mig_wait_heartbeat(&h[0], 5, 10000));
	for (int n = 1; n <= hops; n++) {
		if (n - 1 == 2 || n - 1 == hops / 2 + (hops / 2) % 2)
			measure(&s[nr++], h[n - 1].proc.pid, n - 1);
		mig_hop(&h[n - 1], &h[n], n, port[n % 2]);
	}
	measure(&s[nr++], h[hops].proc.pid, hops);
	expect_flat("the process that holds the guest, after hop", s, nr);
	mig_end_guest_verified(&h[hops]);
	free(h);
}

/* A frame with a bad magic, and the destination's ERROR read back: one
 * attempt it builds a VM for, refuses and throws away. */
static void bad_attempt(int port)
{
	static const char junk[20] = "not a kvmtrack frame";
	char reply[512];
	int fd = mig_connect_local(port);

	cr_assert(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	shutdown(fd, SHUT_WR);
	while (read(fd, reply, sizeof(reply)) > 0)
		;
	close(fd);
}

Test(soak, destination_discards_attempts, .timeout = 1800,
     .fini = mig_kill_leftovers)
{
	static const char *const machine[] = { "-m", "256M", "-c", "1", NULL };
	int attempts = soak_hops(), nr = 0;
	struct mig_host a, b;
	struct sample s[3];

	mig_boot(&a, "soak-att-a", "1", WRITER " duration=600");
	mig_listen_opts(&b, "soak-att-b", mig_test_port(93), machine);
	for (int n = 1; n <= attempts; n++) {
		if (n - 1 == 2 || n - 1 == attempts / 2)
			measure(&s[nr++], b.proc.pid, n - 1);
		bad_attempt(b.port);
		/* Its n-th refusal logged: the attempt is over there. */
		cr_assert(mig_wait_stderr_count(&b, "bad magic", n, 20000),
			  "attempt %d not refused", n);
	}
	measure(&s[nr++], b.proc.pid, attempts);
	expect_flat("the destination, after attempt", s, nr);
	/* And it still takes a guest, whole. */
	mig_expect_migrates(&a, &b, NULL);
	mig_end_guest_verified(&b);
}
