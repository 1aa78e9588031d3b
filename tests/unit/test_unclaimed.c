// SPDX-License-Identifier: MIT
/* Accesses no device claims (vmm/unclaimed.c): answered as an empty PC bus
 * does, and counted per address. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"
#include "vmm/unclaimed.h"

static struct unclaimed u;

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void setup(void)
{
	unclaimed_init(&u);
}

static void teardown(void)
{
	unclaimed_destroy(&u);
}

TestSuite(unclaimed, .init = setup, .fini = teardown);

Test(unclaimed, reads_give_all_ones_and_writes_change_nothing)
{
	uint8_t data[8];

	for (uint32_t len = 1; len <= 8; len *= 2) {
		memset(data, 0x5a, sizeof(data));
		unclaimed_access(&u, BUS_PIO, 0x4e, data, len, false);
		for (uint32_t i = 0; i < sizeof(data); i++)
			cr_expect_eq(data[i], i < len ? 0xff : 0x5a,
				     "%u-byte read, byte %u", len, i);
	}
	memset(data, 0x5a, sizeof(data));
	unclaimed_access(&u, BUS_MMIO, 0xfed00000, data, 4, true);
	for (uint32_t i = 0; i < sizeof(data); i++)
		cr_expect_eq(data[i], 0x5a, "a write's data is left alone");
}

Test(unclaimed, each_port_and_mmio_page_is_new_once)
{
	uint8_t data[4];

	cr_expect(unclaimed_access(&u, BUS_PIO, 0x2e, data, 1, true));
	cr_expect(!unclaimed_access(&u, BUS_PIO, 0x2e, data, 1, false));
	cr_expect(unclaimed_access(&u, BUS_PIO, 0x2f, data, 1, false));
	/* MMIO counts by page: 0xfed00040 is 0xfed00000's page. */
	cr_expect(unclaimed_access(&u, BUS_MMIO, 0xfed00000, data, 4, false));
	cr_expect(!unclaimed_access(&u, BUS_MMIO, 0xfed00040, data, 4, true));
	/* The same number in the other space is another address. */
	cr_expect(unclaimed_access(&u, BUS_MMIO, 0x2e, data, 4, false));
}

static char *stats(void)
{
	struct jw w;
	char *text;

	jw_init(&w);
	jw_object_begin(&w, NULL);
	unclaimed_stats_json(&u, &w);
	jw_object_end(&w);
	text = strdup(jw_finish(&w));
	jw_free(&w);
	return text;
}

Test(unclaimed, stats_count_reads_and_writes_per_address)
{
	uint8_t data[4];
	char *text;

	for (int i = 0; i < 3; i++)
		unclaimed_access(&u, BUS_PIO, 0x4e, data, 1, true);
	unclaimed_access(&u, BUS_PIO, 0x4f, data, 1, false);
	unclaimed_access(&u, BUS_MMIO, 0xfed00008, data, 4, false);
	text = stats();
	cr_expect(strstr(text, "\"unclaimed\":{\"ports\":{\"addresses\":["
			       "{\"address\":\"0x4e\",\"reads\":0,\"writes\":3},"
			       "{\"address\":\"0x4f\",\"reads\":1,\"writes\":0}],"
			       "\"others\":0},"
			       "\"mmio\":{\"addresses\":["
			       "{\"address\":\"0xfed00000\",\"reads\":1,\"writes\":0}],"
			       "\"others\":0}}"),
		  "%s", text);
	free(text);
}

Test(unclaimed, addresses_beyond_the_table_count_as_others)
{
	uint8_t data[1];
	char *text;

	for (uint64_t port = 0; port < UNCLAIMED_MAX_ADDRS + 5; port++)
		unclaimed_access(&u, BUS_PIO, 0x1000 + port, data, 1, false);
	cr_expect(!unclaimed_access(&u, BUS_PIO, 0x2000, data, 1, false),
		  "no room: not named, only counted");
	text = stats();
	cr_expect(strstr(text, "\"others\":6},\"mmio\""), "%s", text);
	cr_expect_eq(count(text, "\"address\""), UNCLAIMED_MAX_ADDRS);
	free(text);
}
