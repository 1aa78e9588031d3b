// SPDX-License-Identifier: MIT
/*
 * Debian's own kernel (package linux-image-amd64) on kvmtrack: the vmlinux
 * booted through PVH and the bzImage booted through the 64-bit boot
 * protocol must each print its banner on the serial port and report what
 * kvmtrack gave it. The set-up downloads the kernel with apt-get into
 * tests/linux-cache/ (tests/linux/fetch-kernel.sh); without network the
 * tests fail and say so.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

#define CACHE_DIR "tests/linux-cache"
#define VMLINUX CACHE_DIR "/vmlinux"
#define VMLINUZ CACHE_DIR "/vmlinuz"
#define KERNEL_PACKAGE CACHE_DIR "/package"
#define FETCH_TIMEOUT_S 600

static void fetch_kernel(void)
{
	const char *argv[] = { "sh", "tests/linux/fetch-kernel.sh", CACHE_DIR,
			       NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, FETCH_TIMEOUT_S, &r), 0);
	cr_assert(r.status == 0 && !r.timed_out,
		  "cannot get Debian's kernel for the Linux tests (status %d%s): %s",
		  r.status, r.timed_out ? ", timed out" : "", r.err);
	proc_result_free(&r);
}

/* "6.1.0-56-amd64" from the package name linux-image-6.1.0-56-amd64. */
static char *kernel_release(void)
{
	char *pkg = read_file(KERNEL_PACKAGE, NULL);
	const char *prefix = "linux-image-";
	char *nl;

	cr_assert(pkg && strncmp(pkg, prefix, strlen(prefix)) == 0,
		  "bad %s", KERNEL_PACKAGE);
	nl = strchr(pkg, '\n');
	if (nl)
		*nl = '\0';
	memmove(pkg, pkg + strlen(prefix), strlen(pkg) - strlen(prefix) + 1);
	return pkg;
}

TestSuite(debian_kernel, .init = fetch_kernel);

/*
 * Debian's kernel booted by `kvmtrack run` must reach its banner and then
 * report what kvmtrack gave it: command line, E820 map, MP table, initrd.
 * The banner is printed before the console is up; earlyprintk replays it
 * on COM1. The waits follow the kernel's own progress: seconds on a KVM
 * that runs CPL0 code natively or through nested paging, minutes on the
 * shadow-paging one that emulates it instruction by instruction.
 */
static void expect_boot_reports(const char *image)
{
	static char initrd_bytes[70001]; /* its end: not a page multiple */
	char initrd[64], banner[160];
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "--serial",
			       "stdio", "--initrd", initrd, "--cmdline",
			       "console=ttyS0 earlyprintk=ttyS0", image, NULL };
	char *release = kernel_release();
	struct proc_result r;
	struct bg_proc p;
	bool seen;

	memset(initrd_bytes, 0x5a, sizeof(initrd_bytes));
	cr_assert_eq(write_temp_file(initrd_bytes, sizeof(initrd_bytes),
				     initrd, sizeof(initrd)),
		     0);
	snprintf(banner, sizeof(banner),
		 "] Linux version %s (debian-kernel@lists.debian.org) (gcc-",
		 release);
	cr_assert_eq(bg_start(argv, &p), 0);
	seen = bg_wait_output(&p, banner, 240 * 1000);
	/* The initrd at the top of RAM, page aligned: a few seconds after the
	 * banner. Wait for the whole line: an emulated kernel prints it a
	 * character at a time, slowly. */
	seen = seen && bg_wait_output(&p, "RAMDISK: [mem 0x", 60 * 1000) &&
	       bg_wait_output(&p, "RAMDISK: [mem 0x0ffee000-0x0fffffff]",
			      10 * 1000);
	kill(p.pid, SIGTERM);
	cr_assert_eq(bg_wait(&p, 30, &r), 0);
	unlink(initrd);
	cr_expect(seen, "no '%s' on the serial port; stdout: %.2000s\nstderr: %s",
		  banner, r.out, r.err);
	/* What kvmtrack told it, as the kernel reports it back. */
	cr_expect(strstr(r.out, "Command line: console=ttyS0 earlyprintk=ttyS0"),
		  "%.3000s", r.out);
	cr_expect(strstr(r.out,
			 "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable"),
		  "%.3000s", r.out);
	cr_expect(strstr(r.out, "found SMP MP-table at [mem 0x000f0000-0x000f000f]"),
		  "%.3000s", r.out);
	/* (256 MiB - 70001) rounded down to a page, to the end of its page */
	cr_expect(strstr(r.out, "RAMDISK: [mem 0x0ffee000-0x0fffffff]"),
		  "%.3000s", r.out);
	unlink(p.out_path);
	unlink(p.err_path);
	proc_result_free(&r);
	free(release);
}

/* The vmlinux ELF, through its PVH entry note. */
Test(debian_kernel, pvh_vmlinux_prints_its_banner, .timeout = 400)
{
	expect_boot_reports(VMLINUX);
}

/*
 * The bzImage, through the 64-bit boot protocol: its decompressor (which
 * prints nothing: Debian has no CONFIG_X86_VERBOSE_BOOTUP) must hand over
 * to the kernel proper, which then finds the initrd through boot_params.
 */
Test(debian_kernel, bzimage_prints_its_banner, .timeout = 400)
{
	expect_boot_reports(VMLINUZ);
}
