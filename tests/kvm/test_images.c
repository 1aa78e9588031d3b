// SPDX-License-Identifier: MIT
/*
 * Small hand-written images (tests/images/) through a real `kvmtrack run`:
 * both entry protocols, unexpected-exit reports and bad-image errors.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

/* `kvmtrack run` of image with mem and, unless NULL, one more option. */
static struct proc_result run_image_with(const char *image, const char *mem,
					 const char *opt)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", mem, "--serial",
			       "stdio", opt ? opt : image, image, NULL };
	struct proc_result r;

	if (!opt)
		argv[7] = NULL;
	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	cr_assert(!r.timed_out, "%s did not stop", image);
	return r;
}

static struct proc_result run_image(const char *image, const char *mem)
{
	return run_image_with(image, mem, NULL);
}

Test(images, long_mode_entry_prints_and_exits_with_guest_status)
{
	struct proc_result r = run_image("tests/images/hello64.elf", "64M");

	cr_expect_str_eq(r.out, "hello from a 64-bit image\n");
	cr_expect_eq(r.status, 42);
	cr_expect(strstr(r.err, "debug-exit") && strstr(r.err, "exit status 42"),
		  "last line: %s", r.err);
	proc_result_free(&r);
}

Test(images, pvh_entry_gets_start_info)
{
	struct proc_result r = run_image("tests/images/pvh32.elf", "64M");

	/* 'M': the image found the PVH start_info magic through EBX. */
	cr_expect_str_eq(r.out, "pvh ok\nM\n");
	cr_expect_eq(r.status, 0);
	proc_result_free(&r);
}

Test(images, unknown_port_is_reported_with_the_instruction_when_strict)
{
	struct proc_result r = run_image_with("tests/images/badport.elf", "64M",
					      "--strict-io");

	cr_expect_eq(r.status, 3);
	cr_expect(strstr(r.err, "unknown port 0x99"), "%s", r.err);
	cr_expect(strstr(r.err, "=> 0x100002: out 0x99, al"), "%s", r.err);
	cr_expect(strstr(r.err, "rax 000000000000005a"), "%s", r.err);
	proc_result_free(&r);
}

/*
 * Without --strict-io the same image goes on, as on a PC with nothing
 * behind the port: its read of port 0x99 and of MMIO at 0xe0000000 (in the
 * hole, no device) gives all ones, its writes vanish, and it exits 7 to say
 * so. --trace-exits names each address once, however often it is used.
 */
Test(images, unclaimed_port_and_mmio_act_as_an_empty_bus)
{
	struct proc_result r = run_image_with("tests/images/badport.elf", "64M",
					      "--trace-exits");

	cr_expect_eq(r.status, 7, "%s", r.err);
	cr_expect_eq(count_substr(r.err, "unclaimed port 0x99 "), 1, "%s",
		     r.err);
	cr_expect_eq(count_substr(r.err, "unclaimed MMIO address 0xe0000000 "),
		     1, "%s", r.err);
	cr_expect(!strstr(r.err, "unexpected"), "%s", r.err);
	proc_result_free(&r);
}

/*
 * Where the CPU keeps its state through a shutdown, the report shows the
 * faulting instruction. KVM on AMD SVM resets the vCPU first: the report
 * says so and shows the last state kvmtrack saw, here before the vCPU ran
 * (the image's entry, a lidt).
 */
Test(images, triple_fault_is_reported_with_the_instruction)
{
	struct proc_result r = run_image("tests/images/triple.elf", "64M");

	cr_expect_eq(r.status, 3);
	cr_expect(strstr(r.err, "SHUTDOWN: triple fault"), "%s", r.err);
	if (kvm_resets_vcpu_on_shutdown()) {
		cr_expect(strstr(r.err, "KVM reset this vCPU before reporting the shutdown"),
			  "%s", r.err);
		cr_expect(strstr(r.err, "the last state kvmtrack saw, before the vCPU first ran"),
			  "%s", r.err);
		cr_expect(strstr(r.err, "=> 0x100000: lidt"), "%s", r.err);
	} else {
		cr_expect(strstr(r.err, "=> 0x100007: movabs rax, qword ptr [0x8000000000000000]"),
			  "%s", r.err);
	}
	proc_result_free(&r);
}

Test(images, trace_exits_decodes_every_exit)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "64M",
			       "--trace-exits", "tests/images/hello64.elf",
			       NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	/* 26 characters to the UART and one debug-exit write. */
	cr_expect_eq(count_substr(r.err, "IO out port 0x3f8"), 26, "%s", r.err);
	cr_expect(strstr(r.err, "IO out port 0x501 size 1: 0x"), "%s", r.err);
	cr_expect(strstr(r.err, "out dx, al"), "%s", r.err);
	cr_expect_eq(r.status, 42);
	proc_result_free(&r);
}

/* The write-like system calls process pid made (/proc/PID/io). */
static long write_syscalls(pid_t pid)
{
	char path[64], *io, *at;
	long n = -1;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	io = read_file(path, NULL);
	at = io ? strstr(io, "syscw: ") : NULL;
	if (at)
		n = strtol(at + 7, NULL, 10);
	free(io);
	return n;
}

/*
 * Console output as Linux's 8250 driver sends it (tests/images/burst.S):
 * 200 lines of 39 bytes in bursts, then "ready> " and a read of IIR. The
 * prompt must show while the guest runs on, with no newline behind it,
 * and the lines must leave a line at a time: written a byte at a time,
 * they took 7800 write()s, each waking whoever reads the console.
 */
Test(images, console_output_leaves_by_the_line_and_prompts_at_once)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "64M", "--serial",
			       "stdio", "tests/images/burst.elf", NULL };
	struct proc_result r;
	struct bg_proc p;
	long writes;

	cr_assert_eq(bg_start(argv, &p), 0);
	cr_assert(bg_wait_output(&p, "ready> ", 60000),
		  "the prompt never showed while the guest ran");
	writes = write_syscalls(p.pid);
	kill(p.pid, SIGTERM);
	cr_assert_eq(bg_wait(&p, 30, &r), 0);
	cr_expect_eq(count_substr(r.out, "burst: forty bytes of console output..\n"),
		     200, "%s", r.out);
	cr_expect(strstr(r.out, "..\nready> ") && !strstr(r.out, "ready> \n"),
		  "%s", r.out);
	cr_expect_gt(writes, 0, "cannot read /proc/%d/io", (int)p.pid);
	cr_expect_lt(writes, 200 * 39 / 4,
		     "%ld write()s for 200 lines of 39 bytes", writes);
	proc_result_free(&r);
}

static struct proc_result run_bad_image(const void *data, size_t len,
					const char *mem)
{
	char path[64];
	struct proc_result r;

	cr_assert_eq(write_temp_file(data, len, path, sizeof(path)), 0);
	r = run_image(path, mem);
	unlink(path);
	cr_expect_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	cr_expect_eq(r.out[0], '\0', "nothing may run: %s", r.out);
	return r;
}

Test(bad_images, not_an_elf)
{
	const char text[] = "#!/bin/sh\necho this is not a kernel\n";
	struct proc_result r = run_bad_image(text, sizeof(text), "64M");

	cr_expect(strstr(r.err, "not an ELF image (bad magic)"), "%s", r.err);
	proc_result_free(&r);
}

Test(bad_images, truncated_elf)
{
	size_t len;
	char *elf = read_file("tests/images/hello64.elf", &len);
	struct proc_result r;

	cr_assert(elf && len > 200);
	r = run_bad_image(elf, 100, "64M");
	cr_expect(strstr(r.err, "extends past the end of the image"), "%s",
		  r.err);
	proc_result_free(&r);
	free(elf);
}

Test(bad_images, elf_for_another_machine)
{
	size_t len;
	char *elf = read_file("tests/images/hello64.elf", &len);
	struct proc_result r;

	cr_assert(elf && len > 64);
	elf[18] = (char)183; /* e_machine = EM_AARCH64 */
	elf[19] = 0;
	r = run_bad_image(elf, len, "64M");
	cr_expect(strstr(r.err, "is not x86-64"), "%s", r.err);
	proc_result_free(&r);
	free(elf);
}

Test(bad_images, image_larger_than_ram)
{
	struct proc_result r = run_image("tests/images/big.elf", "64M");

	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "does not fit in guest RAM (64 MiB)"), "%s",
		  r.err);
	cr_expect_eq(r.out[0], '\0');
	proc_result_free(&r);
}

Test(bad_images, missing_file)
{
	struct proc_result r = run_image("/nonexistent/guest.elf", "64M");

	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "/nonexistent/guest.elf: No such file"), "%s",
		  r.err);
	proc_result_free(&r);
}

Test(usage, bad_options_name_the_option)
{
	const char *bad_mem[] = { KVMTRACK_BIN, "run", "-m", "lots",
				  "tests/images/hello64.elf", NULL };
	const char *bad_cpus[] = { KVMTRACK_BIN, "run", "-c", "0",
				   "tests/images/hello64.elf", NULL };
	const char *no_image[] = { KVMTRACK_BIN, "run", NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(bad_mem, 10, &r), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "--mem 'lots'"), "%s", r.err);
	proc_result_free(&r);
	cr_assert_eq(run_cmd(bad_cpus, 10, &r), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "--cpus '0'"), "%s", r.err);
	proc_result_free(&r);
	cr_assert_eq(run_cmd(no_image, 10, &r), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "no IMAGE given"), "%s", r.err);
	proc_result_free(&r);
}
