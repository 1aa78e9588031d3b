// SPDX-License-Identifier: MIT
/* The switch-over policy (migrate/converge.c), decision by decision. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "migrate/converge.h"

/* 1 GB/s: 244140 pages/s; 300 ms fits 73242 pages. */
static struct converge_input base(uint64_t remaining, uint64_t prev)
{
	return (struct converge_input){
		.remaining_pages = remaining,
		.prev_remaining_pages = prev,
		.bandwidth = 1e9,
		.downtime_limit_ms = 300,
		.pass = prev ? 2 : 1,
		.max_passes = 50,
	};
}

static struct converge_decision decide(struct converge_input in)
{
	struct converge_decision d;

	converge_decide(&in, &d);
	return d;
}

Test(converge, nothing_dirty_or_tiny_switches)
{
	cr_expect_eq(decide(base(0, 1000)).action, CONVERGE_SWITCH);
	cr_expect_eq(decide(base(100, 0)).action, CONVERGE_SWITCH,
		     "100 pages take 0.4 ms");
	cr_expect(strstr(decide(base(100, 0)).reason, "under 1 ms"));
}

Test(converge, keeps_iterating_while_passes_halve)
{
	/* Within the limit after the first pass: no observed trend yet. */
	cr_expect_eq(decide(base(60000, 0)).action, CONVERGE_ITERATE);
	/* Within the limit and it halved: one more pass costs no downtime. */
	cr_expect_eq(decide(base(20000, 60000)).action, CONVERGE_ITERATE);
	/* Within the limit and it stopped shrinking: switch. */
	struct converge_decision d = decide(base(15000, 20000));

	cr_expect_eq(d.action, CONVERGE_SWITCH);
	cr_expect(strstr(d.reason, "no longer shrinking"), "%s", d.reason);
	cr_expect_float_eq(d.expected_downtime_ms, 15000 * 4096 / 1e6, 1e-6);
}

Test(converge, above_the_limit_iterates_or_throttles)
{
	struct converge_input in = base(200000, 210000);
	struct converge_decision d = decide(in);

	cr_expect_eq(d.action, CONVERGE_ITERATE, "no auto-converge");
	in.auto_converge = true;
	/* 200000 of 400000 pages dirtied in 0.8 s: 277k random writes,
	 * 347k/s. The next pass takes 0.82 s and may leave 0.8 * 300 ms of
	 * the link, 58594 pages: 63.4k writes, 22% of the rate. */
	in.pass_s = 0.8;
	in.working_set_pages = 400000;
	d = decide(in);
	cr_expect_eq(d.action, CONVERGE_THROTTLE);
	cr_expect_eq(d.throttle_percent, 78);
	in.throttle_percent = 95;
	cr_expect_eq(decide(in).throttle_percent, 99, "steps of 10, capped");
}

/*
 * A guest writing 49152 random pages/s into 16384 (scenario (c) of the
 * benchmark) over a 64 MiB/s link: it cannot converge unthrottled. The
 * policy throttles once, and the throttled pass ends within the limit.
 */
Test(converge, one_throttle_step_converges_a_random_writer)
{
	const double set = 16384, writes = 49152, link = 16384;
	double dirty = set, pass_s = 1.0;
	unsigned int throttle = 0, steps = 0, pass;
	/* The first pass found the working set written, and a little more. */
	uint64_t prev = 0, most = (uint64_t)set + 200;

	for (pass = 1; pass < 20; pass++) {
		struct converge_input in = base(0, prev);
		struct converge_decision d;

		/* What the guest dirtied while this pass was sent. */
		dirty = set * (1 - exp(-writes * (1 - throttle / 100.0) *
				       pass_s / set));
		in.remaining_pages = (uint64_t)dirty;
		in.bandwidth = link * 4096;
		in.pass_s = pass_s;
		in.pass = pass;
		in.auto_converge = true;
		in.throttle_percent = throttle;
		most = in.remaining_pages > most ? in.remaining_pages : most;
		in.working_set_pages = most;
		d = decide(in);
		if (d.action == CONVERGE_SWITCH) {
			cr_expect(strstr(d.reason, "throttled"), "%s",
				  d.reason);
			break;
		}
		if (d.action == CONVERGE_THROTTLE) {
			throttle = d.throttle_percent;
			steps++;
		}
		prev = in.remaining_pages;
		pass_s = dirty / link;
	}
	cr_expect_leq(pass, 3, "switched over after pass %u", pass);
	cr_expect_eq(steps, 1);
	cr_expect(throttle >= 80 && throttle <= 95, "throttle %u%%", throttle);
}

/* The digest alone takes the whole limit: no throttle can reach it, so
 * the throttle only steps, it does not jump to the top. */
Test(converge, unreachable_limit_only_steps)
{
	struct converge_input in = base(200000, 210000);

	in.auto_converge = true;
	in.pass_s = 0.8;
	in.working_set_pages = 400000;
	in.fixed_downtime_ms = 300;
	cr_expect_eq(decide(in).throttle_percent, 10);
}

/* 20000 pages of a 1 GiB working set (262144 pages) dirtied in a 0.5 s
 * pass: 20.8k writes (few pages twice), 41.6k/s, nearly the linear
 * 40k/s. */
Test(converge, a_large_working_set_is_linear)
{
	struct converge_input in = base(20000, 20500);

	in.auto_converge = true;
	in.pass_s = 0.5;
	in.working_set_pages = 262144;
	in.bandwidth = 0.2e9; /* 48828 pages/s: 300 ms fit 14648 */
	/* The next pass takes 0.41 s and may leave 0.8 * 14648 = 11719
	 * pages, 12.0k writes: keep 0.70 of the rate, throttle 30%. */
	cr_expect_eq(decide(in).throttle_percent, 30);
}

Test(converge, pass_limit_switches_anyway)
{
	struct converge_input in = base(200000, 210000);

	in.pass = 50;
	struct converge_decision d = decide(in);

	cr_expect_eq(d.action, CONVERGE_SWITCH);
	cr_expect(strstr(d.reason, "pass limit 50"), "%s", d.reason);
}

Test(converge, the_digest_counts_against_the_limit)
{
	/* 60000 pages take 246 ms: within 300 alone, not with 80 ms more. */
	struct converge_input in = base(60000, 70000);
	struct converge_decision d = decide(in);

	cr_expect_eq(d.action, CONVERGE_SWITCH);
	in.fixed_downtime_ms = 80;
	d = decide(in);
	cr_expect_eq(d.action, CONVERGE_ITERATE);
	cr_expect_float_eq(d.expected_downtime_ms, 60000 * 4096 / 1e6 + 80,
			   1e-6);
}
