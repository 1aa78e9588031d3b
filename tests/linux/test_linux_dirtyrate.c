// SPDX-License-Identifier: MIT
/*
 * `kvmtrack dirtyrate` on a running Linux guest, held to what the program
 * in the guest says it wrote. The tests' writer (tests/linux/initramfs/
 * writer.c) rewrites a 128 MiB buffer at 10000 pages a second, every page
 * once before any page again (3.3 s a round), and prints each second the
 * pages it wrote by its own clock. Over a window of up to 2 s no buffer
 * page repeats, so the distinct pages the writer dirtied are its rate times
 * the window plus its per-page counters (64 pages, all rewritten within any
 * tenth of a second; it prints how many). Both the rate and the
 * working-set curve must agree with that within 2 %; what the rest of the
 * guest dirties (the kernel) counts as error.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json/json.h"
#include "tests/e2e/migrate_helpers.h"
#include "tests/linux/linux_tests.h"

#define RATE_PAGES 10000

TestSuite(linux_dirtyrate, .fini = mig_kill_leftovers);

/* The mean of the writer's "writer: rate R pages/s" lines in log[from..). */
static double writer_rate(const char *log, size_t from, int *n)
{
	const char *key = "writer: rate ";
	double sum = 0;

	*n = 0;
	for (const char *p = log + from; (p = strstr(p, key)); p += strlen(key)) {
		sum += strtod(p + strlen(key), NULL);
		(*n)++;
	}
	return *n ? sum / *n : NAN;
}

static size_t serial_len(const struct mig_host *h)
{
	size_t len = 0;
	char *log = read_file(h->serial, &len);

	free(log);
	return log ? len : 0;
}

/* The pages of counters the writer said it keeps. */
static double counter_pages(const struct mig_host *h)
{
	char *log = read_file(h->serial, NULL);
	const char *p = log ? strstr(log, ", counters ") : NULL;
	double n = p ? strtod(p + strlen(", counters "), NULL) : NAN;

	cr_assert(n > 0, "the writer did not say how many counter pages it keeps");
	free(log);
	return n;
}

/* The writer's own rate over the window a measurement took. */
static double truth_during(const struct mig_host *h, size_t from)
{
	char *log = read_file(h->serial, NULL);
	int n;
	double rate = writer_rate(log, from, &n);

	cr_assert(n >= 2, "the writer reported %d rates in the window", n);
	/* The writer keeps up with its pace: what it says is its rate. */
	cr_expect_lt(fabs(rate - RATE_PAGES) / RATE_PAGES, 0.05,
		     "the writer wrote %.0f pages/s, not %d", rate, RATE_PAGES);
	free(log);
	return rate;
}

Test(linux_dirtyrate, rate_and_working_set_match_the_writer, .timeout = 600)
{
	struct mig_host g;
	struct json_value *v;
	const struct json_value *wss;
	size_t from;
	double truth, rate, counters;
	int n;

	mig_boot_linux(&g, "lx-dirtyrate", "1", VMLINUZ, INITRAMFS,
		       "console=ttyS0 kt.then=writer kt.mib=128 kt.rate=10000 kt.every=1000000");
	for (int waited = 0; waited < 240 * 10; waited++) {
		char *log = read_file(g.serial, NULL);

		writer_rate(log ? log : "", 0, &n);
		free(log);
		if (n >= 2)
			break;
		usleep(100 * 1000);
	}
	cr_assert(n >= 2, "the writer did not start: %s", read_file(g.serial, NULL));

	counters = counter_pages(&g);
	from = serial_len(&g);
	v = dirtyrate_json(g.sock, (const char *const[]){ "-p", "2s", "--json", NULL });
	truth = truth_during(&g, from) + counters / 2.0;
	rate = json_num(v, "pages_per_s");
	cr_log_info("linux dirtyrate: %.0f pages/s measured, the writer %.0f (%.2f %%)",
		    rate, truth, 100 * (rate - truth) / truth);
	cr_expect_lt(fabs(rate - truth) / truth, 0.02,
		     "dirtyrate %.0f pages/s, the writer wrote %.0f", rate, truth);
	json_free(v);

	/*
	 * The curve: distinct pages dirtied in windows of 10 ms to 2 s. The
	 * writer's count is known per second of its clock, not per window of
	 * the host's: its longest window, the whole measurement, is what it
	 * can be held to. (Within the measurement the writer's pace varies:
	 * the 10 ms harvests take the VM's one CPU from it, and it catches up
	 * after; a shorter window from the start can hold 12 % fewer pages.)
	 */
	from = serial_len(&g);
	v = dirtyrate_json(g.sock, (const char *const[]){ "--wss", "--wss-max", "2s", "--json", NULL });
	truth = truth_during(&g, from);
	wss = json_get(v, "wss");
	cr_assert(wss && wss->nr_items > 2, "no working-set curve");
	for (size_t i = 0; i < wss->nr_items; i++) {
		double ms = json_num(wss->items[i], "window_ms");
		double pages = json_num(wss->items[i], "dirty_pages");

		cr_log_info("linux wss: %.0f ms: %.0f pages", ms, pages);
		cr_expect(i == 0 || pages >= json_num(wss->items[i - 1], "dirty_pages"),
			  "the working set shrank at %.0f ms", ms);
		if (i + 1 == wss->nr_items) {
			double wrote = truth * ms / 1000 + counters;

			cr_log_info("linux wss: the writer wrote %.0f pages in %.0f ms",
				    wrote, ms);
			cr_expect_eq(ms, 2000);
			cr_expect_lt(fabs(pages - wrote) / wrote, 0.02,
				     "%.0f ms: %.0f pages, the writer wrote %.0f",
				     ms, pages, wrote);
		}
	}
	json_free(v);
	mig_stop(&g);
}
