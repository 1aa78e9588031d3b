// SPDX-License-Identifier: MIT
/* The switch-over policy (migrate/converge.c), decision by decision. */
#include <criterion/criterion.h>
#include <string.h>

#include "migrate/converge.h"

/* 1 GB/s: 244140 pages/s; 300 ms fits 73242 pages. */
static struct converge_input base(uint64_t remaining, uint64_t prev)
{
	return (struct converge_input){
		.remaining_pages = remaining,
		.prev_remaining_pages = prev,
		.bandwidth = 1e9,
		.dirty_rate = 50000,
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
	in.dirty_rate = 400000; /* faster than the link's 244140 pages/s */
	d = decide(in);
	cr_expect_eq(d.action, CONVERGE_THROTTLE);
	/* Half the link over 400k pages/s: keep 30.5%, throttle ~69%. */
	cr_expect_eq(d.throttle_percent, 69);
	in.throttle_percent = 95;
	cr_expect_eq(decide(in).throttle_percent, 99, "steps of 10, capped");
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
