// SPDX-License-Identifier: MIT
/*
 * The tests' writer (tests/linux/initramfs/writer.c) in a Linux guest, as
 * the Linux suites boot it and read its console (linux_tests.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"
#include "tests/linux/linux_tests.h"

long writer_last_check(const char *path, const char *tag, bool *bad)
{
	char *log = read_file(path, NULL);
	char ok[32];
	long last = 0;

	snprintf(ok, sizeof(ok), "%s: check ", tag);
	*bad = false;
	for (char *p = log; p && (p = strstr(p, ok)); p += strlen(ok)) {
		char *end;
		long n = strtol(p + strlen(ok), &end, 10);

		if (!strncmp(end, " ok", 3))
			last = n;
		else if (!strncmp(end, " BAD", 4))
			*bad = true;
	}
	free(log);
	return last;
}

bool writer_wait_check(const struct mig_host *h, const char *tag, long after,
		       int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 100) {
		bool bad;

		if (writer_last_check(h->serial, tag, &bad) > after)
			return true;
		if (bad)
			return false;
		usleep(100 * 1000);
	}
	return false;
}

void linux_boot_writer(struct mig_host *h, const char *name, const char *cpus,
		       const char *args)
{
	char cmdline[256];

	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 kt.then=writer %s",
		 args);
	mig_boot_linux(h, name, cpus, VMLINUZ, INITRAMFS, cmdline);
	/* The boot, the buffer filled, and one whole check: well under a
	 * minute under nested paging, most of it the emulated decompressor. */
	cr_assert(writer_wait_check(h, "writer", 0, 240 * 1000),
		  "%s: the writer did not pass its first check; console: %s",
		  name, read_file(h->serial, NULL));
}
