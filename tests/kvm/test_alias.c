// SPDX-License-Identifier: MIT
/*
 * Read-only aliases with real guests: the bundled guest's workload=alias
 * (reads through every alias equal the original, a write through the
 * original shows at once, a write through an alias is dropped) under each
 * --alias-write policy; bad requests refused with their reason; and, in
 * this process, revocation when the original region shrinks or goes, and
 * when a shared file is removed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "tests/helpers.h"
#include "vmm/alias/alias.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

#define SOCK "/tmp/kt-kvm-alias.sock"

static struct proc_result run_alias_guest(const char *policy)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M",
			       "--alias", "0x20000000=0x100000+1M",
			       "--alias", "0x30000000=0x20000000+64K",
			       "--alias-write", policy,
			       "--cmdline", "workload=alias", GUEST_ELF, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	cr_assert(!r.timed_out, "guest did not finish: %s", r.out);
	return r;
}

Test(alias, reads_equal_original_and_writes_are_dropped_and_named)
{
	struct proc_result r = run_alias_guest("log");

	cr_expect_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_expect(strstr(r.out, "workload alias: 2 windows"), "%s", r.out);
	cr_expect(strstr(r.out, "alias 0x20000000 = 0x100000 + 0x100000 checked"),
		  "%s", r.out);
	cr_expect(strstr(r.out, "alias 0x30000000 = 0x20000000 + 0x10000 checked"),
		  "%s", r.out);
	cr_expect(strstr(r.out, "alias done status=0"), "%s", r.out);
	cr_expect(!strstr(r.out, "FAILED"), "%s", r.out);
	/* One dropped write per alias, each naming the storing instruction. */
	cr_expect_eq(count_substr(r.err, "alias write dropped"), 2, "%s", r.err);
	cr_expect(strstr(r.err, "wrote 8 bytes"), "%s", r.err);
	cr_expect(strstr(r.err, "at 0x20000000 (read-only alias of 0x100000"),
		  "%s", r.err);
	cr_expect(strstr(r.err, ": mov qword ptr ["), "the store, not the next insn: %s",
		  r.err);
	proc_result_free(&r);
}

Test(alias, ignore_policy_drops_silently)
{
	struct proc_result r = run_alias_guest("ignore");

	cr_expect_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_expect(strstr(r.out, "alias done status=0"), "%s", r.out);
	cr_expect(!strstr(r.err, "alias write dropped"), "%s", r.err);
	proc_result_free(&r);
}

static struct proc_result ctl(const char *cmd, const char *args)
{
	const char *argv[] = { KVMTRACK_BIN, "ctl", "--control", SOCK, cmd,
			       args, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	return r;
}

Test(alias, stop_policy_pauses_the_vm_and_reports)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "--control",
			       SOCK, "--alias", "0x20000000=0x100000+64K",
			       "--alias-write=stop", "--cmdline",
			       "workload=alias", GUEST_ELF, NULL };
	struct bg_proc p;
	struct proc_result r;
	char *err = NULL;
	bool paused = false;

	unlink(SOCK);
	cr_assert_eq(bg_start(argv, &p), 0);
	cr_assert(wait_for_socket(SOCK, 10000));
	for (int i = 0; i < 200 && !paused; i++) {
		r = ctl("status", NULL);
		paused = strstr(r.out, "\"status\":\"paused\"") != NULL;
		proc_result_free(&r);
		if (!paused)
			usleep(50000);
	}
	cr_expect(paused, "the VM never paused");
	err = read_file(p.err_path, NULL);
	cr_expect(strstr(err, "VM paused (--alias-write=stop)"), "%s", err);
	free(err);
	r = ctl("stats", NULL);
	cr_expect(strstr(r.out, "\"writes_trapped\":1"), "%s", r.out);
	cr_expect(strstr(r.out, "\"write_policy\":\"stop\""), "%s", r.out);
	proc_result_free(&r);
	/* Resumed, the guest finds memory unchanged and passes. */
	r = ctl("resume", NULL);
	proc_result_free(&r);
	cr_assert_eq(bg_wait(&p, 30, &r), 0);
	cr_expect_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_expect(strstr(r.out, "alias done status=0"), "%s", r.out);
	proc_result_free(&r);
}

static void expect_refused(const char *alias, int status, const char *why)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M", "--alias",
			       alias, "--cmdline", "duration=1", GUEST_ELF,
			       NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	cr_expect_eq(r.status, status, "--alias %s: %s", alias, r.err);
	cr_expect(strstr(r.err, why), "--alias %s: want '%s' in: %s", alias,
		  why, r.err);
	cr_expect(!strstr(r.out, "kvmtrack-guest"), "the guest must not run");
	proc_result_free(&r);
}

Test(alias, bad_requests_are_refused_with_the_reason)
{
	expect_refused("0x8000000=0x100000+1M", 1,
		       "overlaps RAM region ram-low [0x0, 0x10000000)");
	expect_refused("0xd0000000=0x100000+1M", 1,
		       "overlaps device testdev at 0xd0000000");
	expect_refused("0xfee00000=0x0+4K", 1, "overlaps the platform's");
	expect_refused("0x20000000=0xff00000+2M", 1, "is out of range");
	expect_refused("0x7ffffffff000=0x0+8K", 1, "is out of range");
	expect_refused("0x20000800=0x0+4K", 2, "page-aligned");
	expect_refused("0x20000000=0x0", 2, "expected GPA=SRC_GPA+SIZE");
}

Test(alias, alias_over_an_alias_is_refused)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "256M",
			       "--alias", "0x20000000=0x0+1M",
			       "--alias", "0x20080000=0x0+1M", "--cmdline",
			       "duration=1", GUEST_ELF, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "overlaps alias at [0x20000000, 0x20100000)"),
		  "%s", r.err);
	proc_result_free(&r);
}

/* --- in this process: the memory layer's revocation --------------------- */

static struct vm *make_vm(char **extra, int nr_extra)
{
	char *argv[16] = { "run", "-m", "64M", "--serial", "none" };
	static struct vm_config cfg;
	struct vm *vm;
	char err[256];
	int argc = 5;

	for (int i = 0; i < nr_extra; i++)
		argv[argc++] = extra[i];
	argv[argc++] = GUEST_ELF;
	cr_assert_eq(cli_parse_run(argc, argv, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(vm_create(&cfg, &vm), 0);
	return vm;
}

Test(alias, shrinking_or_removing_the_region_revokes_its_aliases)
{
	char *extra[] = { "--alias", "0x8000000=0x100000+1M", "--alias",
			  "0x9000000=0x2000000+1M", "--alias",
			  "0xa000000=0x8000000+64K" };
	struct vm *vm = make_vm(extra, 6);
	struct guest_mem *mem = vm_mem(vm);
	struct alias_spec again = { 0x8000000, 0x100000, 1 << 20 };
	char err[256];

	cr_assert_eq(alias_count(mem), 3);
	cr_assert_eq(mem->nr_slots, 4);
	/* Shrinking the region revokes every alias of it, in range or not. */
	cr_assert_eq(alias_region_resize(mem, 0, 16 << 20, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(alias_count(mem), 0);
	cr_expect_eq(mem->nr_slots, 1);
	cr_expect_eq(mem->slots[0].size_bytes, 16 << 20);
	cr_expect_eq(mem->regions[0].size_bytes, 16 << 20);
	/* KVM's slot went too: the same range can be mapped again... */
	cr_expect_eq(alias_add(mem, &again, err, sizeof(err)), 0, "%s", err);
	/* ...but not from beyond the region's new end. */
	again = (struct alias_spec){ 0x9000000, 0x2000000, 1 << 20 };
	cr_expect_eq(alias_add(mem, &again, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "is out of range"), "%s", err);
	/* Growing is refused; removing the region revokes again. */
	cr_expect_eq(alias_region_resize(mem, 0, 32 << 20, err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(alias_region_resize(mem, 0, 0, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(alias_count(mem), 0);
	cr_expect_eq(mem->nr_slots, 0);
	cr_expect_eq(guest_mem_hva(mem, 0x100000, 8), NULL);
	vm_destroy(vm);
}

Test(alias, removing_one_alias_or_a_shared_file)
{
	static const char data[8192] = "shared bytes";
	char path[64], share[128];
	char *extra[] = { "--share", share, "--alias",
			  "0x8000000=0x100000+64K", "--alias",
			  "0x9000000=0x8000000+64K", "--alias",
			  "0xa000000=0x10001000+4K" };
	struct vm *vm;
	struct guest_mem *mem;
	char err[256];

	cr_assert_eq(write_temp_file(data, sizeof(data), path, sizeof(path)), 0);
	snprintf(share, sizeof(share), "blob=%s@0x10000000", path);
	vm = make_vm(extra, 8);
	mem = vm_mem(vm);
	cr_assert_eq(alias_count(mem), 4);
	/* An alias of an alias keeps the backing when the middle one goes. */
	cr_expect_eq(alias_remove(mem, 0x8000000, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(alias_count(mem), 3);
	cr_expect_eq(alias_remove(mem, 0x8000000, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "no alias starts at 0x8000000"), "%s", err);
	cr_expect_eq(alias_remove(mem, 0, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "is RAM region ram-low"), "%s", err);
	/* The file goes with its alias. */
	cr_expect_eq(alias_remove(mem, 0x10000000, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(alias_count(mem), 1);
	cr_expect_eq(mem->nr_slots, 2);
	vm_destroy(vm);
	unlink(path);
}

Test(alias, aliases_are_never_logged_and_slot_changes_keep_the_tracker)
{
	struct vm *vm = make_vm(NULL, 0);
	struct guest_mem *mem = vm_mem(vm);
	struct dirty_tracker *t = vm_dirty(vm);
	struct alias_spec spec = { 0x8000000, 0x100000, 1 << 20 };
	struct dirty_set set;
	char err[256];

	cr_assert_eq(dirty_set_init(&set, mem), 0);
	cr_assert_eq(dirty_attach(t, &set), 0);
	cr_assert_eq(dirty_log_force(t, ~0u, true), 0);
	/* Added while logging: read-only, never logged, harvests still work. */
	cr_assert_eq(alias_add(mem, &spec, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(dirty_logged_slots(t), 1u, "only RAM's slot 0 is logged");
	cr_assert_eq(guest_mem_write(mem, 0x100000, "x", 1), 0);
	cr_expect_eq(dirty_sync(t, false), 0);
	cr_expect(dirty_set_test(&set, 0, 0x100), "the VMM's write, once");
	cr_expect_eq(dirty_set_count(&set), 1);
	cr_expect_eq(alias_remove(mem, spec.gpa, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(dirty_sync(t, false), 0);
	cr_expect_eq(dirty_log_force(t, ~0u, false), 0);
	cr_expect_eq(dirty_detach(t, &set), 0);
	dirty_set_free(&set);
	vm_destroy(vm);
}
