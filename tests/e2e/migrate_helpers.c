// SPDX-License-Identifier: MIT
/* Helpers for migration end-to-end tests (see migrate_helpers.h). */
#include "tests/e2e/migrate_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mig_test_port(int n)
{
	return 20000 + (getpid() * 7 + n * 101) % 30000;
}

static void name_files(struct mig_host *h, const char *name)
{
	snprintf(h->sock, sizeof(h->sock), "/tmp/kt-%d-%s.sock", getpid(),
		 name);
	snprintf(h->serial, sizeof(h->serial), "/tmp/kt-%d-%s.log", getpid(),
		 name);
	unlink(h->sock);
	unlink(h->serial);
}

void mig_boot(struct mig_host *h, const char *name, const char *cpus,
	      const char *cmdline)
{
	char serial[80];
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "-c", cpus,
			       "--control", h->sock, "--serial", serial,
			       "--cmdline", cmdline, GUEST_ELF, NULL };

	name_files(h, name);
	h->port = 0;
	snprintf(serial, sizeof(serial), "file:%s", h->serial);
	cr_assert_eq(bg_start(argv, &h->proc), 0);
	cr_assert(wait_for_socket(h->sock, 10000), "%s: no control socket",
		  name);
}

void mig_listen(struct mig_host *h, const char *name, int port)
{
	char serial[80], uri[64];
	const char *argv[] = { KVMTRACK_BIN, "run", "--incoming", uri,
			       "--control", h->sock, "--serial", serial, NULL };

	name_files(h, name);
	h->port = port;
	snprintf(serial, sizeof(serial), "file:%s", h->serial);
	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%d", port);
	cr_assert_eq(bg_start(argv, &h->proc), 0);
	/* Listening is quick; the first connect retries anyway. */
	usleep(200000);
}

struct proc_result mig_migrate(struct mig_host *src, int port,
			       const char *const *extra)
{
	const char *argv[24] = { KVMTRACK_BIN, "migrate", "--control",
				 src->sock, "--to" };
	char uri[64];
	int n = 5;
	struct proc_result r;

	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%d", port);
	argv[n++] = uri;
	argv[n++] = "--json";
	for (; extra && *extra && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	return r;
}

long mig_last_heartbeat(const struct mig_host *h)
{
	char *log = read_file(h->serial, NULL);
	long last = -1;

	for (char *p = log; p && (p = strstr(p, "hb ")); p += 3)
		if (p == log || p[-1] == '\n')
			last = strtol(p + 3, NULL, 10);
	free(log);
	return last;
}

bool mig_wait_heartbeat(const struct mig_host *h, long n, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (mig_last_heartbeat(h) > n)
			return true;
		usleep(20000);
	}
	return false;
}

long long mig_json_field(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = json ? strstr(json, pat) : NULL;
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}
