// SPDX-License-Identifier: MIT
/*
 * The synthetic bzImage (tests/images/bzimage/) through a real `kvmtrack
 * run`: every check it makes of the 64-bit boot protocol must pass. Then
 * malformed bzImages and an oversized initrd, which must be refused before
 * anything runs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/images/bzimage/bzcheck.h"

#define BZCHECK_IMAGE "tests/images/bzcheck.bzImage"

static const char *const bzcheck_names[] = {
	"entry", "segments", "interrupts-off", "rsi-zero-page",
	"header-magic", "header-version", "header-copied", "sentinel",
	"type_of_loader", "loadflags", "heap_end_ptr", "code32_start",
	"vid_mode", "cmdline", "e820-sorted", "e820-ram", "e820-legacy-hole",
	"e820-kernel", "initrd-size", "initrd-place", "initrd-bytes",
	"setup-dtb-entry", "setup-dtb-fdt", "setup-dtb-place",
	"setup-dtb-content", "mptable-found", "mptable-checksum",
	"mptable-cpus",
};
#define NR_BZCHECKS (sizeof(bzcheck_names) / sizeof(bzcheck_names[0]))

static void write_initrd(char *path, size_t path_len, size_t bytes)
{
	unsigned char *buf = malloc(bytes);

	cr_assert(buf);
	for (size_t i = 0; i < bytes; i++)
		buf[i] = bzcheck_initrd_byte(i);
	cr_assert_eq(write_temp_file(buf, bytes, path, path_len), 0);
	free(buf);
}

static struct proc_result run_bz(const char *image, const char *initrd,
				 const char *mem)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", mem, "-c",
			       BZCHECK_CPUS_ARG, "--cmdline", BZCHECK_CMDLINE,
			       "--initrd", initrd, image, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	cr_assert(!r.timed_out, "%s did not stop", image);
	return r;
}

Test(bzimage, synthetic_kernel_gets_everything_the_protocol_promises)
{
	char initrd[64], line[96];
	struct proc_result r;

	write_initrd(initrd, sizeof(initrd), BZCHECK_INITRD_BYTES);
	r = run_bz(BZCHECK_IMAGE, initrd, BZCHECK_MEM);
	unlink(initrd);
	for (size_t i = 0; i < NR_BZCHECKS; i++) {
		snprintf(line, sizeof(line), "bzcheck: ok %s\n",
			 bzcheck_names[i]);
		cr_expect(strstr(r.out, line), "missing '%s' in:\n%s",
			  bzcheck_names[i], r.out);
	}
	snprintf(line, sizeof(line), "bzcheck: %zu checks, 0 failed\n",
		 NR_BZCHECKS);
	cr_expect(strstr(r.out, line), "%s", r.out);
	cr_expect_eq(count_substr(r.out, "FAIL"), 0, "%s", r.out);
	cr_expect_eq(r.status, 0, "status %d: %s", r.status, r.err);
	proc_result_free(&r);
}

/* Runs a corrupted copy of the synthetic bzImage: status 1, nothing ran. */
static struct proc_result run_bad_bz(void (*corrupt)(char *img, size_t *len))
{
	char path[64], initrd[64];
	size_t len;
	char *img = read_file(BZCHECK_IMAGE, &len);
	struct proc_result r;

	cr_assert(img && len > 0x400);
	corrupt(img, &len);
	cr_assert_eq(write_temp_file(img, len, path, sizeof(path)), 0);
	write_initrd(initrd, sizeof(initrd), 4096);
	r = run_bz(path, initrd, "64M");
	unlink(path);
	unlink(initrd);
	free(img);
	cr_expect_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	cr_expect_eq(r.out[0], '\0', "nothing may run: %s", r.out);
	return r;
}

static void bad_magic(char *img, size_t *len)
{
	memcpy(img + 0x202, "HdrX", 4);
}

static void old_protocol(char *img, size_t *len)
{
	img[0x206] = 0x09; /* 2.09 */
	img[0x207] = 0x02;
}

static void truncated_setup(char *img, size_t *len)
{
	*len = 0x300; /* header intact, the setup sector cut short */
}

static void truncated_kernel(char *img, size_t *len)
{
	*len -= 64;
}

Test(bzimage, bad_magic_is_refused)
{
	struct proc_result r = run_bad_bz(bad_magic);

	cr_expect(strstr(r.err, "bad setup header magic at 0x202"), "%s", r.err);
	proc_result_free(&r);
}

Test(bzimage, too_old_protocol_is_refused)
{
	struct proc_result r = run_bad_bz(old_protocol);

	cr_expect(strstr(r.err, "boot protocol 2.09 is too old"), "%s", r.err);
	proc_result_free(&r);
}

Test(bzimage, truncated_setup_sectors_are_refused)
{
	struct proc_result r = run_bad_bz(truncated_setup);

	cr_expect(strstr(r.err, "bzImage truncated: 1 setup sectors"), "%s",
		  r.err);
	proc_result_free(&r);
}

Test(bzimage, truncated_kernel_is_refused)
{
	struct proc_result r = run_bad_bz(truncated_kernel);

	cr_expect(strstr(r.err, "bzImage truncated: syssize says"), "%s",
		  r.err);
	proc_result_free(&r);
}

Test(bzimage, initrd_larger_than_ram_is_refused_before_boot)
{
	char initrd[64];
	struct proc_result r;
	FILE *f;

	/* Sparse: 80 MiB for a 64 MiB guest without writing 80 MiB. */
	cr_assert_eq(write_temp_file("x", 1, initrd, sizeof(initrd)), 0);
	f = fopen(initrd, "r+");
	cr_assert(f && fseek(f, (80l << 20) - 1, SEEK_SET) == 0 &&
		  fputc(0, f) == 0 && fclose(f) == 0);
	r = run_bz(BZCHECK_IMAGE, initrd, "64M");
	unlink(initrd);
	cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_expect_eq(r.out[0], '\0', "nothing may run: %s", r.out);
	cr_expect(strstr(r.err, "is larger than guest RAM (64 MiB)"), "%s",
		  r.err);
	proc_result_free(&r);
}

Test(bzimage, initrd_that_does_not_fit_below_initrd_addr_max_is_refused)
{
	char initrd[64];
	struct proc_result r;

	/* 63 MiB fits in 128 MiB of RAM but not below initrd_addr_max (64 MiB)
	 * above the kernel. */
	write_initrd(initrd, sizeof(initrd), 63u << 20);
	r = run_bz(BZCHECK_IMAGE, initrd, BZCHECK_MEM);
	unlink(initrd);
	cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "does not fit in guest RAM between the kernel"),
		  "%s", r.err);
	proc_result_free(&r);
}

static void expect_reset(const char *image, const char *why)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "64M", image, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	cr_expect_eq(r.status, 0, "status %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, why), "%s", r.err);
	proc_result_free(&r);
}

Test(reset, i8042_command_0xfe_ends_kvmtrack_cleanly)
{
	expect_reset("tests/images/reset_kbd.elf",
		     "guest requested a reset via the i8042 controller (command 0xfe) (exit status 0)");
}

Test(reset, port_cf9_ends_kvmtrack_cleanly)
{
	expect_reset("tests/images/reset_cf9.elf",
		     "guest requested a reset via port 0xcf9 (hard reset) (exit status 0)");
}
