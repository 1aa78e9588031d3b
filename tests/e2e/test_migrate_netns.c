// SPDX-License-Identifier: MIT
/*
 * Live migration between two "hosts": network namespaces joined by a veth
 * pair whose source side is a slow link, tc tbf at 100 Mbit/s with a queue
 * of 5 ms: what does not fit is dropped, so TCP loses packets and backs
 * off under the stream. (netem, for delay and random loss, is not in these
 * machines' kernel.) The source runs in namespace A, the destination
 * listens in B; `kvmtrack migrate` talks to the source's control socket,
 * a file both see. The guest writes whole pages that do not compress, and
 * must verify every one of them at the destination; the link's counters
 * must show the migration's bytes crossing it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"

#define ADDR_A "10.79.0.1"
#define ADDR_B "10.79.0.2"

static char ns_a[32], ns_b[32], veth_a[16], veth_b[16];

static void remove_hosts(void);

/* Runs argv (NULL-terminated); on failure, undoes what was made and fails
 * the test, naming the command: no namespace is left behind. */
static void run_ok(const char *const *argv)
{
	struct proc_result r = { 0 };
	char line[256] = "";
	bool ok;

	for (const char *const *a = argv; *a; a++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%s ", *a);
	ok = run_cmd(argv, 20, &r) == 0 && r.status == 0;
	if (!ok) {
		char why[256];

		snprintf(why, sizeof(why), "%s", r.err ? r.err : "");
		proc_result_free(&r);
		remove_hosts();
		cr_assert_fail("%s failed (needs root and iproute2): %s", line,
			       why);
	}
	proc_result_free(&r);
}

#define RUN(...) run_ok((const char *const[]){ __VA_ARGS__, NULL })

static void make_hosts(void)
{
	const char *ip = mig_sbin("ip");

	snprintf(ns_a, sizeof(ns_a), "kt-e2e-a-%d", getpid());
	snprintf(ns_b, sizeof(ns_b), "kt-e2e-b-%d", getpid());
	snprintf(veth_a, sizeof(veth_a), "kte%da", getpid());
	snprintf(veth_b, sizeof(veth_b), "kte%db", getpid());
	RUN(ip, "netns", "add", ns_a);
	RUN(ip, "netns", "add", ns_b);
	RUN(ip, "link", "add", veth_a, "netns", ns_a, "type", "veth", "peer",
	    "name", veth_b, "netns", ns_b);
	RUN(ip, "-n", ns_a, "addr", "add", ADDR_A "/24", "dev", veth_a);
	RUN(ip, "-n", ns_b, "addr", "add", ADDR_B "/24", "dev", veth_b);
	RUN(ip, "-n", ns_a, "link", "set", veth_a, "up");
	RUN(ip, "-n", ns_b, "link", "set", veth_b, "up");
	RUN(ip, "-n", ns_a, "link", "set", "lo", "up");
	RUN(ip, "-n", ns_b, "link", "set", "lo", "up");
	RUN(ip, "netns", "exec", ns_a, mig_sbin("tc"), "qdisc", "add", "dev",
	    veth_a, "root", "tbf", "rate", "100mbit", "burst", "32k",
	    "latency", "5ms");
}

static void del_netns(const char *ns)
{
	struct proc_result r;

	if (*ns && run_cmd((const char *const[]){ mig_sbin("ip"), "netns",
						  "del", ns, NULL },
			   20, &r) == 0)
		proc_result_free(&r);
}

/* Deleting a namespace deletes its end of the veth, and so the pair. */
static void remove_hosts(void)
{
	mig_kill_leftovers();
	del_netns(ns_a);
	del_netns(ns_b);
}

/* Bytes sent out of the source's end of the link. */
static long long link_tx_bytes(void)
{
	char path[96];
	struct proc_result r;
	long long n = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_bytes",
		 veth_a);
	cr_assert_eq(run_cmd((const char *const[]){ mig_sbin("ip"), "netns",
						    "exec", ns_a, "cat", path,
						    NULL },
			     20, &r),
		     0);
	if (r.status == 0 && r.out)
		n = atoll(r.out);
	proc_result_free(&r);
	return n;
}

Test(migrate_netns, lossy_link_between_two_namespaces, .timeout = 120,
     .init = make_hosts, .fini = remove_hosts)
{
	struct mig_host a, b;
	struct proc_result r, src_end;
	char uri[64];
	int port = mig_test_port(40);
	long long sent, before_tx, crossed;
	long last_beat;

	mig_boot_in(&a, ns_a, "netns-a", "1",
		    "workload=random wss=16M rate=2000 fill=page heartbeat=20 duration=12 verify=1");
	/* 2 s: about 10 MiB of the working set written, if the host is not
	 * too busy to run the guest at its pace. */
	cr_assert(mig_wait_heartbeat(&a, 100, 20000), "the guest does not run");
	mig_listen_in(&b, ns_b, ADDR_B, "netns-b", port, NULL);
	before_tx = link_tx_bytes();
	snprintf(uri, sizeof(uri), "tcp:" ADDR_B ":%d", port);
	r = mig_migrate_uri(&a, uri, NULL);
	cr_assert_eq(r.status, 0, "migrate failed: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "\"status\":\"completed\""), "%s", r.out);
	cr_expect(strstr(r.out, "\"verified\":true"), "%s", r.out);
	sent = mig_json_field(r.out, "transferred_bytes");
	proc_result_free(&r);
	/* Whole pages of a 16 MiB working set: megabytes, and all of them
	 * over the shaped link, not some shortcut; TCP's drops and resends
	 * only add to what crossed. */
	crossed = link_tx_bytes() - before_tx;
	cr_log_info("%lld bytes sent, %lld crossed the link", sent, crossed);
	cr_expect_gt(sent, 4ll << 20, "sent %lld bytes", sent);
	cr_expect_geq(crossed, sent, "%lld bytes crossed the link, %lld sent",
		      crossed, sent);
	bg_wait(&a.proc, 20, &src_end);
	cr_expect_eq(src_end.status, 0, "%s", src_end.err);
	cr_expect(strstr(src_end.err, "guest migrated to tcp:" ADDR_B ":"),
		  "%s", src_end.err);
	proc_result_free(&src_end);
	last_beat = mig_last_heartbeat(&a);
	cr_expect(mig_wait_heartbeat(&b, last_beat + 2, 10000),
		  "the guest does not run in namespace B (last beat %ld in A)",
		  last_beat);
	mig_expect_guest_verifies(&b, 60);
}
