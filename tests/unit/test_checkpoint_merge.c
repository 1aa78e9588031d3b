// SPDX-License-Identifier: MIT
/*
 * Merging a chain in place (checkpoint/merge.c), without KVM: the merged
 * checkpoint restores the very same memory, its children still restore
 * after it, a damaged layer stops a merge with nothing changed, and a
 * merge killed at each of its steps is finished (or undone) by recovery.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/merge.h"
#include "checkpoint/recover.h"
#include "tests/unit/checkpoint_fixture.h"

/* 0001 full, 0002 and 0003 incremental; fx_mem holds 0003's memory. */
static void write_three(void)
{
	uint64_t bits[FX_PAGES / 64] = {0}, d = fx_write_chain();

	for (uint64_t p = 500; p < 700; p += 7) {
		fx_page(&fx_mem, p)[3] = p ^ 0xabcdef;
		bits[p / 64] |= 1ull << (p % 64);
	}
	fx_write_layer("0003", "0002", d, bits);
}

static void expect_restores_exactly(const char *name)
{
	char err[512] = "";

	memset(fx_back.regions[0].hva, 0, FX_PAGES * GUEST_PAGE_BYTES);
	cr_assert_eq(fx_restore(name, err, sizeof(err)), 0, "%s: %s", name,
		     err);
	cr_expect_eq(memcmp(fx_mem.regions[0].hva, fx_back.regions[0].hva,
			    FX_PAGES * GUEST_PAGE_BYTES),
		     0, "restored from %s, the memory differs", name);
}

/* The names in the chain directory, blank-separated, oldest first, and
 * the leftovers (names starting with a dot) counted in *dots. */
static void listing(char *out, size_t len, int *dots)
{
	char(*names)[CKPT_NAME_MAX], err[256];
	char cmd[128];
	unsigned int nr;
	FILE *f;

	out[0] = '\0';
	cr_assert_eq(ckpt_chain_list(fx_dir, &names, &nr, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < nr; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
			 i ? " " : "", names[i]);
	free(names);
	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c '^\\.'", fx_dir);
	f = popen(cmd, "r");
	cr_assert(f && fscanf(f, "%d", dots) == 1);
	pclose(f);
}

static void merge_ok(const char *name, unsigned int layers)
{
	struct ckpt_merge_result res;
	char err[512] = "";

	cr_assert_eq(ckpt_merge(fx_dir, name, fx_keys, &res, err, sizeof(err)),
		     0, "%s",
		     err);
	cr_expect_eq(res.layers, layers);
}

Test(checkpoint_merge, folds_layers_and_later_ones_still_restore,
     .init = ckpt_fixture_setup, .fini = ckpt_fixture_teardown)
{
	struct ckpt_layer l;
	char names[64], err[256];
	int dots;

	write_three();
	merge_ok("0002", 2);
	listing(names, sizeof(names), &dots);
	cr_expect_str_eq(names, "0002 0003");
	cr_expect_eq(dots, 0);
	cr_assert_eq(ckpt_layer_read(fx_dir, "0002", &l, err, sizeof(err)), 0);
	cr_expect_str_eq(l.m.parent, "");
	cr_expect_neq(l.m.merged_from, 0);
	/* 0003 names 0002 by the digest the merged one stands for. */
	expect_restores_exactly("0003");
	merge_ok(NULL, 2);
	listing(names, sizeof(names), &dots);
	cr_expect_str_eq(names, "0003");
	expect_restores_exactly("0003");
	/* The zeroed page 301 is a hole in the full one, not a held page. */
	cr_assert_eq(ckpt_layer_read(fx_dir, "0003", &l, err, sizeof(err)), 0);
	/* 196 pages of 0001, 6 more of 0002 less the zeroed one, 25 more
	 * of 0003. */
	cr_expect_eq(l.m.regions[0].held_pages, 196 + 6 - 1 + 25,
		     "%llu pages held",
		     (unsigned long long)l.m.regions[0].held_pages);
	merge_ok("0003", 1);
}

Test(checkpoint_merge, a_damaged_layer_stops_it_with_nothing_changed,
     .init = ckpt_fixture_setup, .fini = ckpt_fixture_teardown)
{
	struct ckpt_merge_result res;
	char path[128], names[64], err[512] = "";
	uint8_t b = 0;
	int fd, dots;

	write_three();
	snprintf(path, sizeof(path), "%s/0002/memory", fx_dir);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, &b, 1, 100 * GUEST_PAGE_BYTES + 7 * 8), 1);
	close(fd);
	cr_expect_neq(
	    ckpt_merge(fx_dir, "0003", fx_keys, &res, err, sizeof(err)), 0);
	cr_expect(strstr(err, "merging 0002 into 0001: the memory page at GPA "
			      "0x64000 does not match its hash"),
		  "%s", err);
	listing(names, sizeof(names), &dots);
	cr_expect_str_eq(names, "0001 0002 0003");
	cr_expect_eq(dots, 0);
	cr_expect_neq(
	    ckpt_merge(fx_dir, "0009", fx_keys, &res, err, sizeof(err)), 0);
	cr_expect(strstr(err, "checkpoint 0009 is missing"), "%s", err);
}

/* A merge of 0001 and 0002 killed at `step`, then a restore of 0003. */
static void crash_then_restore(int step, const char *after)
{
	char names[64];
	pid_t pid;
	int status, dots;

	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (!pid) {
		struct ckpt_merge_result res;
		char err[512];
		char value[4];

		snprintf(value, sizeof(value), "%d", step);
		setenv("KVMTRACK_X_MERGE_CRASH", value, 1);
		_exit(ckpt_merge(fx_dir, "0002", fx_keys, &res, err,
				 sizeof(err)) ? 1 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 99,
		  "step %d: the merge did not stop there (%#x)", step, status);
	/* The restore recovers first, under the chain's lock. */
	{
		char err[512] = "";
		int fd;

		cr_assert_eq(ckpt_chain_lock(fx_dir, &fd, err, sizeof(err)), 0);
		cr_assert_eq(
		    ckpt_chain_recover(fx_dir, fx_keys, err, sizeof(err)), 0,
			     "step %d: %s", step, err);
		ckpt_chain_unlock(fd);
	}
	listing(names, sizeof(names), &dots);
	cr_expect_str_eq(names, after, "step %d", step);
	cr_expect_eq(dots, 0, "step %d: leftovers remain", step);
	expect_restores_exactly("0003");
}

Test(checkpoint_merge, killed_at_any_step_the_chain_still_restores,
     .init = ckpt_fixture_setup, .fini = ckpt_fixture_teardown)
{
	char cmd[160];

	for (int step = 1; step <= 4; step++) {
		write_three();
		crash_then_restore(step, "0002 0003");
		snprintf(cmd, sizeof(cmd), "rm -rf %s/0* %s/.[0-9]*", fx_dir,
			 fx_dir);
		cr_assert_eq(system(cmd), 0);
	}
}
