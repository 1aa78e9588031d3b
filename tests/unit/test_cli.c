// SPDX-License-Identifier: MIT
/* Size and `kvmtrack run` argument parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "app/cli.h"
#include "lib/parse.h"
#include "vmm/vm_config.h"

Test(size, suffixes_are_binary_multiples)
{
	uint64_t b;

	cr_assert_eq(parse_size("4096", &b), 0);
	cr_expect_eq(b, 4096);
	cr_assert_eq(parse_size("64k", &b), 0);
	cr_expect_eq(b, 64ull << 10);
	cr_assert_eq(parse_size("256M", &b), 0);
	cr_expect_eq(b, 256ull << 20);
	cr_assert_eq(parse_size("1G", &b), 0);
	cr_expect_eq(b, 1ull << 30);
	cr_assert_eq(parse_size("2GiB", &b), 0);
	cr_expect_eq(b, 2ull << 30);
	cr_assert_eq(parse_size("3MB", &b), 0);
	cr_expect_eq(b, 3ull << 20);
	cr_assert_eq(parse_size("0x1000", &b), 0);
	cr_expect_eq(b, 0x1000);
}

Test(size, malformed_and_overflowing_sizes_are_refused)
{
	uint64_t b = 7;

	cr_expect_eq(parse_size("", &b), -EINVAL);
	cr_expect_eq(parse_size("M", &b), -EINVAL);
	cr_expect_eq(parse_size("-1M", &b), -EINVAL);
	cr_expect_eq(parse_size("12Q", &b), -EINVAL);
	cr_expect_eq(parse_size("1MM", &b), -EINVAL);
	cr_expect_eq(parse_size("1 G", &b), -EINVAL);
	cr_expect_eq(parse_size("99999999999999999999", &b), -ERANGE);
	cr_expect_eq(parse_size("17179869184G", &b), -ERANGE);
	cr_expect_eq(b, 7, "a failed parse must not write the result");
}

static int parse(struct vm_config *cfg, char *err, size_t len, ...)
{
	char *argv[32] = { "run" };
	int argc = 1;
	va_list ap;

	va_start(ap, len);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	return cli_parse_run(argc, argv, cfg, err, len);
}

Test(run_args, defaults)
{
	struct vm_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, sizeof(err), "guest.elf", NULL), 0);
	cr_expect_eq(cfg.mem_bytes, 256ull << 20);
	cr_expect_eq(cfg.nr_cpus, 1);
	cr_expect_str_eq(cfg.cmdline, "");
	cr_expect_eq(cfg.serial.kind, SERIAL_STDIO);
	cr_expect_null(cfg.control_path);
	cr_expect(!cfg.trace_exits);
	cr_expect_str_eq(cfg.image_path, "guest.elf");
}

Test(run_args, every_option)
{
	struct vm_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, sizeof(err), "-m", "1G", "--cpus", "2",
			   "--cmdline", "workload=sweep wss=8M", "--serial",
			   "file:/tmp/x.log", "--control", "/tmp/ctl.sock",
			   "--trace-exits", "img.elf", NULL),
		     0, "%s", err);
	cr_expect_eq(cfg.mem_bytes, 1ull << 30);
	cr_expect_eq(cfg.nr_cpus, 2);
	cr_expect_str_eq(cfg.cmdline, "workload=sweep wss=8M");
	cr_expect_eq(cfg.serial.kind, SERIAL_FILE);
	cr_expect_str_eq(cfg.serial.path, "/tmp/x.log");
	cr_expect_str_eq(cfg.control_path, "/tmp/ctl.sock");
	cr_expect(cfg.trace_exits);
	cr_expect_str_eq(cfg.image_path, "img.elf");
}

Test(run_args, errors_name_the_option_and_value)
{
	struct vm_config cfg;
	char err[256];

	cr_expect_eq(parse(&cfg, err, sizeof(err), "-m", "12Q", "a", NULL),
		     -EINVAL);
	cr_expect(strstr(err, "--mem '12Q'"), "%s", err);
	cr_expect_eq(parse(&cfg, err, sizeof(err), "-m", "1K", "a", NULL),
		     -EINVAL);
	cr_expect(strstr(err, "at least 2M"), "%s", err);
	cr_expect_eq(parse(&cfg, err, sizeof(err), "-c", "17", "a", NULL),
		     -EINVAL);
	cr_expect(strstr(err, "--cpus '17'"), "%s", err);
	cr_expect_eq(parse(&cfg, err, sizeof(err), "--serial", "tcp:1", "a",
			   NULL),
		     -EINVAL);
	cr_expect(strstr(err, "--serial 'tcp:1'"), "%s", err);
	cr_expect_eq(parse(&cfg, err, sizeof(err), "--bogus", "a", NULL),
		     -EINVAL);
	cr_expect(strstr(err, "--bogus"), "%s", err);
	cr_expect_eq(parse(&cfg, err, sizeof(err), NULL), -EINVAL);
	cr_expect(strstr(err, "no IMAGE"), "%s", err);
	cr_expect_eq(parse(&cfg, err, sizeof(err), "a", "b", NULL), -EINVAL);
	cr_expect(strstr(err, "more than one IMAGE"), "%s", err);
}
