// SPDX-License-Identifier: MIT
/* The command-line syntax of --alias, --share and --alias-write. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "app/cli.h"
#include "vmm/alias/alias.h"
#include "vmm/vm_config.h"

Test(alias_parse, alias_spec_hex_decimal_and_suffixes)
{
	struct alias_spec s;
	char err[256];

	cr_assert_eq(alias_parse_spec("0x80000000=0x100000+1M", &s, err,
				      sizeof(err)), 0, "%s", err);
	cr_expect_eq(s.gpa, 0x80000000ull);
	cr_expect_eq(s.src_gpa, 0x100000ull);
	cr_expect_eq(s.size_bytes, 1ull << 20);
	cr_assert_eq(alias_parse_spec("2G=4096+64K", &s, err, sizeof(err)), 0);
	cr_expect_eq(s.gpa, 2ull << 30);
	cr_expect_eq(s.src_gpa, 4096);
	cr_expect_eq(s.size_bytes, 65536);
	cr_expect_eq(alias_parse_spec("0x80000000=0x100000", &s, err,
				      sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "GPA=SRC_GPA+SIZE"), "%s", err);
	cr_expect_eq(alias_parse_spec("0x80000100=0+4K", &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "page-aligned"), "%s", err);
	cr_expect_eq(alias_parse_spec("0x80000000=0+0", &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect_eq(alias_parse_spec("x=0+4K", &s, err, sizeof(err)), -EINVAL);
}

Test(alias_parse, share_spec)
{
	struct share_spec s;
	char err[256];

	cr_assert_eq(share_parse_spec("lib=/tmp/a@b.bin@0x40000000", &s, err,
				      sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.name, "lib");
	cr_expect_str_eq(s.path, "/tmp/a@b.bin");
	cr_expect_eq(s.gpa, 0x40000000ull);
	cr_expect_eq(share_parse_spec("bad name=/x@0", &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect_eq(share_parse_spec("n=/x", &s, err, sizeof(err)), -EINVAL);
	cr_expect_eq(share_parse_spec("n=/x@0x123", &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "page-aligned"), "%s", err);
}

Test(alias_parse, run_options)
{
	char *argv[] = { "run", "--alias", "0x20000000=0+4K", "--alias",
			 "0x30000000=0x20000000+4K", "--alias-write=stop",
			 "--share", "f=/etc/hostname@0x40000000", "img", NULL };
	struct vm_config cfg;
	char err[256];
	int policy;

	cr_assert_eq(cli_parse_run(9, argv, &cfg, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(cfg.alias.nr_aliases, 2);
	cr_expect_eq(cfg.alias.aliases[1].src_gpa, 0x20000000ull);
	cr_expect_eq(cfg.alias.nr_shares, 1);
	cr_expect_str_eq(cfg.alias.shares[0].path, "/etc/hostname");
	cr_expect_eq(cfg.alias.write_policy, ALIAS_WRITE_STOP);
	cr_expect_eq(alias_parse_write_policy("loud", &policy, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "ignore, log or stop"), "%s", err);
}
