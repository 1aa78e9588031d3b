// SPDX-License-Identifier: MIT
/*
 * Live migration over TLS 1.3 between real kvmtrack processes, with the
 * credentials tests/tls/mkcreds.sh made: a pre-shared key, and x509 with
 * the destination's list of allowed sources. Every source that should be
 * refused is, before it sends a frame, with the reason on both sides; the
 * guest runs on at the source, the destination keeps listening, and the
 * right credentials then move the guest, which verifies every page it
 * wrote. A bit flipped on the wire is caught by the record's tag.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/migrate_helpers.h"
#include "tests/e2e/tcp_proxy.h"

#define CREDS "tests/tls/creds/"
#define WRITER "workload=random wss=16M rate=1000 fill=page heartbeat=20 verify=1 duration=40"

static const char *const psk[] = { "--tls-psk", CREDS "good.psk", NULL };
static const char *const psk_wrong[] = { "--tls-psk", CREDS "wrong.psk",
					  NULL };
static const char *const x509_dst[] = { "--tls-creds", CREDS "dst",
					"--tls-authz", "source.test", NULL };
static const char *const x509_src[] = { "--tls-creds", CREDS "src", NULL };
static const char *const x509_other[] = { "--tls-creds", CREDS "src-other",
					  NULL };

/* Where the kernel has TLS loaded (the test VM's /init loads it), the
 * records must be the kernel's. */
static bool kernel_has_tls(void)
{
	char *ulps = read_file("/proc/sys/net/ipv4/tcp_available_ulp", NULL);
	bool yes = ulps && strstr(ulps, "tls");

	free(ulps);
	return yes;
}

static void boot_writer(struct mig_host *h, const char *name)
{
	mig_boot(h, name, "1", WRITER);
	cr_assert(mig_wait_heartbeat(h, 5, 10000), "%s does not run", name);
}

/* The attempt failed with `src_says`; the destination said `dst_says`,
 * threw it away, and listens on; the guest runs on at the source. */
static void expect_refused(struct mig_host *a, struct mig_host *b,
			   struct proc_result *r, const char *src_says,
			   const char *dst_says)
{
	bool said;
	char *b_err;

	mig_expect_failed(r, "failed", src_says);
	proc_result_free(r);
	said = mig_wait_stderr(b, dst_says, 5000);
	b_err = mig_stderr(b);
	cr_expect(said, "no \"%s\" in: %s", dst_says, b_err);
	free(b_err);
	mig_expect_guest_runs(a, "after a refused attempt");
}

/* The handshake's line on both sides: TLS 1.3 of this kind, records by
 * the kernel or by GnuTLS as `records` says. */
static void expect_channel(const struct mig_host *b, const char *kind,
			   const char *records)
{
	char want[96], *err = mig_stderr(b);

	snprintf(want, sizeof(want), ", %s, records by %s", kind, records);
	cr_expect(strstr(err, "migration channel from ") &&
			  strstr(err, ": TLS 1.3, ") && strstr(err, want),
		  "no \"%s\" in: %s", want, err);
	free(err);
}

Test(migrate_tls, psk_refuses_plain_wrong_key_and_altered_records,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	struct mig_host a, b;
	struct proc_result r;

	boot_writer(&a, "psk-a");
	mig_listen_opts(&b, "psk-b", mig_test_port(1), psk);
	r = mig_migrate(&a, b.port, NULL);
	expect_refused(&a, &b, &r, "this destination takes TLS only",
		       "the source sent a plain kvmtrack stream");
	r = mig_migrate(&a, b.port, psk_wrong);
	expect_refused(&a, &b, &r, "do both ends hold the same key",
		       "do both ends hold the same key");
	/* Past the handshake, into the first pass's records. */
	r = mig_migrate_via_proxy(&a, &b, mig_test_port(2), TCP_PROXY_FLIP_AT,
				  1 << 20, psk, "the proxy flipped no bit");
	expect_refused(&a, &b, &r, NULL,
		       "a TLS record failed its integrity check: altered on the way");
	mig_expect_migrates(&a, &b, psk);
	expect_channel(&b, "psk", kernel_has_tls() ? "the kernel" : "GnuTLS");
	mig_expect_guest_verifies(&b, 60);
}

/* x509, with GnuTLS carrying the records, as where the kernel has no TLS. */
Test(migrate_tls, x509_refuses_unlisted_source_records_in_process,
     .timeout = 240, .fini = mig_kill_leftovers)
{
	struct mig_host a, b;
	struct proc_result r;

	setenv("KVMTRACK_X_TLS_USERSPACE", "1", 1);
	boot_writer(&a, "x509-a");
	mig_listen_opts(&b, "x509-b", mig_test_port(3), x509_dst);
	r = mig_migrate(&a, b.port, x509_other);
	expect_refused(&a, &b, &r, "the destination refused",
		       "(CN=other.test,O=kvmtrack tests) carries none of the names --tls-authz allows");
	mig_expect_migrates(&a, &b, x509_src);
	expect_channel(&b, "x509", "GnuTLS");
	mig_expect_guest_verifies(&b, 60);
	unsetenv("KVMTRACK_X_TLS_USERSPACE");
}
