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
#include "tests/linux/linux_tests.h"

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

/*
 * Whether the console shows `line` as a whole line. The serial console
 * ends lines with "\r\n"; the line may be the output's first.
 */
static bool has_line(const char *out, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = strstr(out, line); p; p = strstr(p + 1, line)) {
		bool starts = p == out || p[-1] == '\n';
		bool ends = p[len] == '\r' || p[len] == '\n' || p[len] == '\0';

		if (starts && ends)
			return true;
	}
	return false;
}

static char *initramfs_sha256(void)
{
	char *sha = read_file(INITRAMFS ".sha256", NULL);
	char *nl;

	cr_assert(sha, "no %s.sha256: build it with make", INITRAMFS);
	nl = strchr(sha, '\n');
	if (nl)
		*nl = '\0';
	return sha;
}

/* The console's last lines, for a failure message. */
static const char *tail(const char *out)
{
	size_t len = strlen(out);

	return len > 3000 ? out + len - 3000 : out;
}

/*
 * Boots Debian's kernel with `cpus` vCPUs and 512 MiB into `initrd`, the
 * command line "console=ttyS0 " + `args`, until kvmtrack ends (at most
 * 240 s: seconds under nested paging, most of it the emulated
 * decompressor and the initramfs), and asserts that it ended by itself.
 */
static void boot_linux(const char *image, const char *cpus, const char *initrd,
		       const char *args, struct proc_result *r)
{
	char cmdline[256];
	const char *argv[] = { KVMTRACK_BIN, "run",     "-m",	   "512M",
			       "-c",	     cpus,      "--serial", "stdio",
			       "--initrd",   initrd,    "--cmdline", cmdline,
			       image,	     NULL };

	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 %s", args);
	cr_assert_eq(run_cmd(argv, 240, r), 0);
	cr_assert(!r->timed_out,
		  "%s with %s vCPUs did not end in 240 s; console: ...%s\nstderr: %s",
		  image, cpus, tail(r->out), r->err);
}

/*
 * Debian's kernel booted into the busybox initramfs: its /init
 * (tests/linux/initramfs/init.sh) must report every vCPU online, the RAM of the E820
 * map, the command line and the payload's hash, then end the VM with
 * `reboot -f`, which kvmtrack must take as a clean end (status 0).
 */
static void expect_userspace(const char *image, const char *cpus,
			     const char *online)
{
	char *sha = initramfs_sha256();
	char want[256];
	struct proc_result r;

	boot_linux(image, cpus, INITRAMFS, "kt.test=1", &r);
	cr_assert(has_line(r.out, "kt-init: userspace"),
		  "%s with %s vCPUs did not reach /init; console: ...%s\nstderr: %s",
		  image, cpus, tail(r.out), r.err);
	snprintf(want, sizeof(want), "kt-init: cpus online %s", online);
	cr_expect(has_line(r.out, want), "no '%s': ...%s", want, tail(r.out));
	/* 512 MiB less the legacy hole [0xa0000, 1 MiB) that E820 reserves */
	cr_expect(strstr(r.out, "kt-init: ram 523904 kB, MemTotal "),
		  "not 523904 kB of RAM: ...%s", tail(r.out));
	cr_expect(has_line(r.out, "kt-init: cmdline console=ttyS0 kt.test=1"),
		  "...%s", tail(r.out));
	snprintf(want, sizeof(want), "kt-init: payload %s", sha);
	cr_expect(has_line(r.out, want),
		  "the initrd's payload is not intact (want '%s'): ...%s", want,
		  tail(r.out));
	cr_expect(has_line(r.out, "kt-init: reboot"), "...%s", tail(r.out));
	cr_expect(strstr(r.err, "guest requested a reset"),
		  "reboot -f did not reach kvmtrack: %s", r.err);
	cr_expect_eq(r.status, 0, "status %d after reboot -f; stderr: %s",
		     r.status, r.err);
	proc_result_free(&r);
	free(sha);
}

Test(debian_kernel, bzimage_to_userspace_one_vcpu, .timeout = 300)
{
	expect_userspace(VMLINUZ, "1", "0");
}

Test(debian_kernel, bzimage_to_userspace_two_vcpus, .timeout = 300)
{
	expect_userspace(VMLINUZ, "2", "0-1");
}

Test(debian_kernel, pvh_vmlinux_to_userspace_one_vcpu, .timeout = 300)
{
	expect_userspace(VMLINUX, "1", "0");
}

Test(debian_kernel, pvh_vmlinux_to_userspace_two_vcpus, .timeout = 300)
{
	expect_userspace(VMLINUX, "2", "0-1");
}

/*
 * A panic in the guest kernel reaches kvmtrack through pvpanic on PCI,
 * which Linux found by probing the host bridge: kvmtrack ends at once with
 * status 4 and says why, where a reboot would have ended it with 0.
 */
Test(debian_kernel, panic_ends_kvmtrack_with_status_4, .timeout = 300)
{
	struct proc_result r;

	boot_linux(VMLINUZ, "1", INITRAMFS, "kt.then=panic", &r);
	cr_expect(has_line(r.out, "kt-init: pvpanic bound"),
		  "pvpanic-pci did not bind to 00:01.0: ...%s", tail(r.out));
	cr_expect(strstr(r.out, "Kernel panic - not syncing: sysrq triggered crash"),
		  "...%s", tail(r.out));
	cr_expect_eq(r.status, 4, "status %d after a panic; stderr: %s",
		     r.status, r.err);
	cr_expect(strstr(r.err, "the guest kernel panicked (pvpanic)"), "%s",
		  r.err);
	proc_result_free(&r);
}

/*
 * A corrupted initramfs is the kernel's to report: it says the unpacking
 * failed, finds no root and panics; with panic=-1 it reboots at once, and
 * kvmtrack ends cleanly (no pvpanic: its module was in that initramfs).
 */
Test(debian_kernel, corrupted_initramfs_is_reported_by_the_kernel,
     .timeout = 300)
{
	size_t len;
	char *bytes = read_file(INITRAMFS, &len);
	char path[64];
	struct proc_result r;

	cr_assert(bytes && len > 4096, "no %s", INITRAMFS);
	/* Inside busybox's compressed bytes, well before /init. */
	for (size_t i = len / 4; i < len / 4 + 64; i++)
		bytes[i] ^= 0xff;
	cr_assert_eq(write_temp_file(bytes, len, path, sizeof(path)), 0);
	free(bytes);
	boot_linux(VMLINUZ, "1", path, "panic=-1", &r);
	unlink(path);
	cr_expect(strstr(r.out, "Initramfs unpacking failed: "), "...%s",
		  tail(r.out));
	cr_expect(strstr(r.out, "Kernel panic - not syncing: "), "...%s",
		  tail(r.out));
	cr_expect(!strstr(r.out, "kt-init: userspace"), "...%s", tail(r.out));
	cr_expect_eq(r.status, 0, "status %d; stderr: %s", r.status, r.err);
	cr_expect(strstr(r.err, "guest requested a reset"), "%s", r.err);
	proc_result_free(&r);
}

/*
 * The interactive console, tried as a person would: kvmtrack in a tmux
 * pane (a real terminal), keys typed with send-keys, the screen read back
 * with capture-pane. The shell must answer a typed command, and `reboot -f`
 * typed there must end kvmtrack with status 0.
 */
#define TMUX_SOCKET "kvmtrack-linux-test"

static void tmux(const char *a1, const char *a2, const char *a3,
		 const char *a4, struct proc_result *r)
{
	const char *argv[] = { "tmux", "-L", TMUX_SOCKET, a1, a2, a3, a4, NULL };

	cr_assert_eq(run_cmd(argv, 10, r), 0);
}

/* The pane's whole text (history included, wrapped lines joined), once
 * it shows `needle` or after timeout_s; NULL if it never did. */
static char *pane_wait(const char *needle, int timeout_s)
{
	for (int waited_ms = 0; waited_ms < timeout_s * 1000; waited_ms += 250) {
		const char *argv[] = { "tmux", "-L",	   TMUX_SOCKET,
				       "capture-pane", "-p", "-J",
				       "-S",	    "-2000", "-t",
				       "linux",	    NULL };
		struct proc_result r;

		cr_assert_eq(run_cmd(argv, 10, &r), 0);
		if (r.status == 0 && strstr(r.out, needle)) {
			free(r.err);
			return r.out;
		}
		proc_result_free(&r);
		usleep(250 * 1000);
	}
	return NULL;
}

static void send_line(const char *line)
{
	struct proc_result r;

	tmux("send-keys", "-t", "linux", line, &r);
	cr_assert_eq(r.status, 0, "tmux send-keys: %s", r.err);
	proc_result_free(&r);
	tmux("send-keys", "-t", "linux", "Enter", &r);
	proc_result_free(&r);
}

Test(debian_kernel, console_shell_answers_typed_commands, .timeout = 400)
{
	const char *run = KVMTRACK_BIN " run -m 512M --initrd " INITRAMFS
		" --cmdline 'console=ttyS0 kt.then=shell' " VMLINUZ
		"; echo kt-exit-status $?; sleep 600";
	const char *argv[] = { "tmux", "-L", TMUX_SOCKET, "new-session", "-d",
			       "-s", "linux", "-x", "160", "-y", "48", run, NULL };
	struct proc_result r;
	char *screen;

	/* tmux refuses to start without a UTF-8 locale. */
	setenv("LC_ALL", "C.UTF-8", 1);
	cr_assert_eq(run_cmd(argv, 10, &r), 0);
	cr_assert_eq(r.status, 0, "tmux new-session: %s", r.err);
	proc_result_free(&r);
	screen = pane_wait("kt-init: shell", 240);
	cr_assert(screen, "no shell on the console in 240 s");
	free(screen);
	/* The answer is not in what was typed: only a shell that ran the
	 * command prints it. */
	send_line("echo kt-$((6*7)) $(cat /sys/devices/system/cpu/online)");
	screen = pane_wait("kt-42 0", 60);
	cr_expect(screen, "the shell did not answer a typed command");
	free(screen);
	send_line("reboot -f");
	screen = pane_wait("kt-exit-status", 60);
	cr_expect(screen && strstr(screen, "kt-exit-status 0"),
		  "reboot -f typed on the console: %s",
		  screen ? tail(screen) : "kvmtrack did not end in 60 s");
	free(screen);
	tmux("kill-server", NULL, NULL, NULL, &r);
	proc_result_free(&r);
}
