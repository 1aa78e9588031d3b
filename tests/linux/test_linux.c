// SPDX-License-Identifier: MIT
/*
 * Debian's own kernel (package linux-image-amd64) on kvmtrack, as far as
 * these build machines let a stock Linux go (shared/KVM-HERE.md): the
 * vmlinux booted through PVH must print its banner on the serial port, and
 * the bzImage must run in its own decompressor for 10 s without an
 * unexpected exit. The set-up downloads the kernel with apt-get into
 * tests/linux-cache/ (tests/linux/fetch-kernel.sh); without network the
 * tests fail and say so.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "vmm/cli.h"
#include "vmm/kvm.h"
#include "vmm/vm_impl.h"

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
 * ~30 s here: the kernel runs at CPL0, which this machine's KVM emulates
 * instruction by instruction. The banner is printed before the console is
 * up; earlyprintk replays it on COM1. Then the kernel reports what kvmtrack
 * gave it: command line, E820 map, MP table, initrd.
 */
Test(debian_kernel, pvh_vmlinux_prints_its_banner)
{
	static char initrd_bytes[70001]; /* its end: not a page multiple */
	char initrd[64], banner[160];
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "--serial",
			       "stdio", "--initrd", initrd, "--cmdline",
			       "console=ttyS0 earlyprintk=ttyS0", VMLINUX, NULL };
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
	seen = bg_wait_output(&p, banner, 120 * 1000);
	/* The initrd (PVH module 0) at the top of RAM, page aligned: a few
	 * seconds after the banner. Wait for the whole line: the emulated
	 * kernel prints it a character at a time, slowly. */
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

struct runner {
	struct vm *vm;
	int status;
};

static void *run_vm(void *arg)
{
	struct runner *run = arg;

	run->status = vm_run(run->vm);
	return NULL;
}

static struct vm *boot_bzimage(void)
{
	char *argv[] = { "run", "-m", "256M", "--serial", "none", "--cmdline",
			 "console=ttyS0 earlyprintk=serial,ttyS0,115200",
			 VMLINUZ, NULL };
	struct vm_config cfg;
	struct vm *vm = NULL;
	char err[512];

	cr_assert_eq(cli_parse_run(8, argv, &cfg, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(vm_create(&cfg, &vm), 0);
	cr_assert_eq(vm_boot(vm, err, sizeof(err)), 0, "%s", err);
	return vm;
}

/*
 * A bzImage starts in its decompressor (Debian's prints nothing: no
 * CONFIG_X86_VERBOSE_BOOTUP), which needs minutes here. After 10 s the
 * vCPU must still be running, in 64-bit mode, inside the range kvmtrack
 * loaded the kernel into.
 */
Test(debian_kernel, bzimage_runs_in_its_decompressor)
{
	struct runner run = { .vm = boot_bzimage() };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t start, end;
	pthread_t thread;

	start = run.vm->plan.image_start_gpa;
	end = run.vm->plan.image_end_gpa;
	cr_assert_eq(run.vm->plan.kind, BOOT_ENTRY_BZIMAGE64);
	cr_assert_eq(run.vm->plan.entry, start + 0x200);
	cr_assert_eq(pthread_create(&thread, NULL, run_vm, &run), 0);
	sleep(10);
	cr_expect_eq(vm_get_state(run.vm), VM_RUNNING, "stopped: %s",
		     run.vm->stop_why);
	cr_expect_eq(vm_pause(run.vm), 0);
	cr_assert_eq(kvm_get_regs(&run.vm->vcpus[0].kvm, &regs), 0);
	cr_assert_eq(kvm_get_sregs(&run.vm->vcpus[0].kvm, &sregs), 0);
	vm_request_stop(run.vm, VM_STOP_QUIT, 0, "test done");
	pthread_join(thread, NULL);
	cr_expect_eq(run.status, 0, "stopped: %s", run.vm->stop_why);
	cr_expect(sregs.efer & (1u << 10) && sregs.cs.l, "not in 64-bit mode");
	cr_expect(regs.rip >= start && regs.rip < end,
		  "RIP 0x%llx outside the loaded kernel [0x%llx, 0x%llx)",
		  (unsigned long long)regs.rip, (unsigned long long)start,
		  (unsigned long long)end);
	vm_destroy(run.vm);
}
