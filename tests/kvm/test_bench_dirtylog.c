// SPDX-License-Identifier: MIT
/*
 * `kvmtrack bench dirtylog --json` on a small working set, in each mode,
 * tracked and bare: every iteration's dirty log must hold exactly the pages
 * the guest's pass wrote inside the working set (recomputed page by page
 * by the benchmark), plus a bounded metadata overhead outside it. These
 * check results, not timings.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <string.h>

#include "lib/json/json.h"
#include "tests/helpers.h"

#define WSS_PAGES 32768u /* --mem 128M */

static uint64_t get_u64(const struct json_value *obj, const char *key)
{
	uint64_t v = UINT64_MAX;

	cr_assert_eq(json_get_u64(obj, key, &v), 0, "no integer '%s'", key);
	return v;
}

static void check_run(const char *mode, const char *percent, bool bare,
		      uint64_t want_pages)
{
	const char *argv[] = { KVMTRACK_BIN, "bench", "dirtylog", "--mem",
			       "128M", "--iterations", "2", "--mode", mode,
			       "--write-percent", percent, "--json",
			       bare ? "--bare" : NULL, NULL };
	const struct json_value *iters;
	struct json_value *doc;
	struct proc_result r;
	char err[256];
	bool correct = false;

	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	cr_assert(!r.timed_out, "bench did not finish: %s", r.err);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_eq(json_parse(r.out, strlen(r.out), &doc, err, sizeof(err)), 0,
		     "%s: %s", err, r.out);
	cr_expect_eq(get_u64(doc, "wss_pages"), WSS_PAGES);
	cr_expect_eq(get_u64(doc, "iterations"), 2);
	cr_expect_eq(get_u64(doc, "populate_pages"), WSS_PAGES,
		     "populate writes every page once");
	iters = json_get(doc, "iterations_detail");
	cr_assert(iters && iters->type == JSON_ARRAY && iters->nr_items == 2);
	for (size_t i = 0; i < iters->nr_items; i++) {
		const struct json_value *it = iters->items[i];
		uint64_t written = get_u64(it, "pages_written");
		uint64_t meta = get_u64(it, "metadata_pages");

		cr_expect_eq(written, want_pages, "%s iteration %zu", mode, i);
		cr_expect_eq(get_u64(it, "dirty_in_wss"), written,
			     "%s iteration %zu: the log must hold every page written",
			     mode, i);
		cr_expect_eq(get_u64(it, "missing"), 0);
		cr_expect_eq(get_u64(it, "unexpected"), 0);
		cr_expect_eq(get_u64(it, "dirty_pages"), written + meta);
		/* The generation table (4 bytes per page) and a few pages of
		 * stacks and message buffers: small, and never zero. */
		cr_expect(meta >= 1 && meta <= get_u64(doc, "metadata_bound_pages"),
			  "%s: %" PRIu64 " metadata pages", mode, meta);
	}
	cr_expect_eq(json_get_bool(doc, "correct", &correct), 0);
	cr_expect(correct);
	json_free(doc);
	proc_result_free(&r);
}

Test(bench_dirtylog, bitmap_log_equals_pages_written)
{
	check_run("bitmap", "100", false, WSS_PAGES);
}

Test(bench_dirtylog, manual_log_equals_pages_written)
{
	check_run("manual", "100", false, WSS_PAGES);
}

Test(bench_dirtylog, ring_log_equals_pages_written)
{
	check_run("ring", "100", false, WSS_PAGES);
}

/* 30 % of 32768 pages: (j * 30) mod 100 < 30 for j mod 10 in {0, 4, 7}:
 * 3276 * 3 + 3 pages. */
Test(bench_dirtylog, partial_pass_logs_exactly_its_pages)
{
	check_run("manual", "30", false, 9831);
}

Test(bench_dirtylog, bare_ioctls_see_the_same_pages)
{
	check_run("bitmap", "100", true, WSS_PAGES);
	check_run("manual", "100", true, WSS_PAGES);
	check_run("ring", "100", true, WSS_PAGES);
}
