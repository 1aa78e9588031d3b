// SPDX-License-Identifier: MIT
/* migrate/torn.c: which torn pages a destination still waits for. */
#include <criterion/criterion.h>

#include "migrate/torn.h"

static struct guest_mem mem;
static struct torn_pages t;

/* Two regions, as a guest above the PCI hole has: 1 MiB and 4 GiB+. */
static void setup(void)
{
	mem = (struct guest_mem){ .nr_regions = 2 };
	mem.regions[0] = (struct mem_region){ .gpa = 0, .size_bytes = 1 << 20 };
	mem.regions[1] = (struct mem_region){ .gpa = 1ull << 32,
					      .size_bytes = 3 << 20 };
	cr_assert_eq(torn_init(&t, &mem), 0);
}

static void teardown(void)
{
	torn_free(&t);
}

TestSuite(torn, .init = setup, .fini = teardown);

Test(torn, nothing_torn_nothing_awaited)
{
	unsigned int r = 9;
	uint64_t p = 9;

	torn_landed(&t, 1, 700);
	cr_expect(torn_pass_end(&t, &r, &p));
	cr_expect(torn_pass_end(&t, &r, &p));
	cr_expect(torn_none_left(&t, &r, &p));
	cr_expect_eq(t.total, 0);
}

Test(torn, sent_again_in_the_next_pass)
{
	unsigned int r;
	uint64_t p;

	torn_mark(&t, 1, 700);
	torn_mark(&t, 0, 3);
	/* The pass they tore in ends: awaited in the next, not yet missing. */
	cr_expect(torn_pass_end(&t, &r, &p));
	cr_expect_not(torn_none_left(&t, &r, &p));
	torn_landed(&t, 1, 700);
	torn_landed(&t, 0, 3);
	cr_expect(torn_pass_end(&t, &r, &p));
	cr_expect(torn_none_left(&t, &r, &p));
	cr_expect_eq(t.total, 2);
}

Test(torn, not_sent_again_is_named)
{
	unsigned int r = 9;
	uint64_t p = 0;

	torn_mark(&t, 1, 700);
	torn_mark(&t, 1, 64 * 5 + 1);
	cr_expect(torn_pass_end(&t, &r, &p));
	torn_landed(&t, 1, 700);
	cr_expect_not(torn_pass_end(&t, &r, &p));
	cr_expect_eq(r, 1);
	cr_expect_eq(p, 64 * 5 + 1);
}

Test(torn, torn_again_is_awaited_from_the_later_pass)
{
	unsigned int r;
	uint64_t p;

	torn_mark(&t, 0, 10);
	cr_expect(torn_pass_end(&t, &r, &p));
	/* Sent again, and torn again: the next pass must bring it. */
	torn_mark(&t, 0, 10);
	cr_expect(torn_pass_end(&t, &r, &p));
	cr_expect_not(torn_none_left(&t, &r, &p));
	cr_expect_eq(p, 10);
	torn_landed(&t, 0, 10);
	cr_expect(torn_pass_end(&t, &r, &p));
	cr_expect(torn_none_left(&t, &r, &p));
}

Test(torn, left_at_the_digest_is_named)
{
	unsigned int r = 9;
	uint64_t p = 0;

	/* Torn in the last live pass; the last pages did not bring it. */
	torn_mark(&t, 0, 255);
	cr_expect_not(torn_none_left(&t, &r, &p));
	cr_expect_eq(r, 0);
	cr_expect_eq(p, 255);
}
