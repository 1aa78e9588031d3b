// SPDX-License-Identifier: MIT
/*
 * A guest that is always in or just after a port exit, migrated back and
 * forth: tests/images/alphabet.elf writes the alphabet to COM1, one OUT a
 * byte. Joined in hop order, the consoles of all the hosts must read as one
 * unbroken alphabet. An OUT handled at the source but saved unfinished runs
 * again at the destination, a repeated byte (a migrated Linux console once
 * showed "hbb 216"); a byte lost or written twice by the UART shows too.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e/migrate_helpers.h"

#define ALPHABET_ELF "tests/images/alphabet.elf"
#define HOPS 6
/* Bytes each host's guest writes before it moves on: its own progress. */
#define BYTES_PER_HOST 2000

static long serial_bytes(const struct mig_host *h)
{
	struct stat st;

	return stat(h->serial, &st) ? 0 : (long)st.st_size;
}

static bool wait_bytes(const struct mig_host *h, long n, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		if (serial_bytes(h) >= n)
			return true;
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	}
	return false;
}

static char next_byte(char c)
{
	return c == '\n' ? 'a' : c == 'z' ? '\n' : (char)(c + 1);
}

/* Checks host n's console as the continuation of what came before;
 * *expect is the byte that must come next. */
static void check_console(const struct mig_host *h, int n, char *expect)
{
	size_t len = 0;
	char *text = read_file(h->serial, &len);

	cr_assert(text, "host %d: no console file %s", n, h->serial);
	cr_expect_gt(len, 0, "host %d: the guest wrote nothing there", n);
	for (size_t i = 0; i < len; i++) {
		if (text[i] != *expect) {
			size_t from = i > 30 ? i - 30 : 0;

			cr_assert_fail("host %d, byte %zu of %zu: 0x%02x where 0x%02x belongs (%s); the console there: \"%.*s\"",
				       n, i, len, (unsigned char)text[i],
				       (unsigned char)*expect,
				       i == 0 ? "its first byte: the source's last OUT again?"
					      : "within one host",
				       (int)(i + 10 - from), text + from);
		}
		*expect = next_byte(*expect);
	}
	free(text);
}

Test(migrate_port_io, no_out_repeated_or_lost_across_hops, .timeout = 120,
     .fini = mig_kill_leftovers)
{
	struct mig_host hosts[HOPS + 1];
	const int port[2] = { mig_test_port(83), mig_test_port(84) };
	char expect = 'a';

	mig_boot_image(&hosts[0], "abc-0", ALPHABET_ELF);
	for (int n = 1; n <= HOPS; n++) {
		struct mig_host *src = &hosts[n - 1];
		struct proc_result r;
		char name[16];

		cr_assert(wait_bytes(src, BYTES_PER_HOST, 20000),
			  "host %d: only %ld console bytes in 20 s", n - 1,
			  serial_bytes(src));
		snprintf(name, sizeof(name), "abc-%d", n);
		mig_listen(&hosts[n], name, port[n % 2]);
		r = mig_migrate(src, port[n % 2], NULL);
		cr_assert_eq(r.status, 0, "hop %d failed: %s %s", n, r.out,
			     r.err);
		cr_expect(strstr(r.out, "\"verified\":true"), "hop %d: %s", n,
			  r.out);
		proc_result_free(&r);
		bg_wait(&src->proc, 20, &r);
		cr_expect_eq(r.status, 0, "hop %d, source: %s", n, r.err);
		proc_result_free(&r);
	}
	cr_assert(wait_bytes(&hosts[HOPS], BYTES_PER_HOST, 20000),
		  "the last host's guest wrote only %ld bytes in 20 s",
		  serial_bytes(&hosts[HOPS]));
	mig_quit(&hosts[HOPS]);
	for (int n = 0; n <= HOPS; n++)
		check_console(&hosts[n], n, &expect);
	for (int n = 0; n <= HOPS; n++) {
		unlink(hosts[n].serial);
		unlink(hosts[n].sock);
	}
}
