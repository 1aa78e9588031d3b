// SPDX-License-Identifier: MIT
/*
 * Checkpoint layers on disk without KVM (checkpoint/pages.c, chain.c):
 * guest memory written as a full layer and an incremental one, read fx_back
 * into fresh memory, and each kind of damage refused with its reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/pages.h"
#include "lib/wire.h"
#include "tests/unit/checkpoint_fixture.h"
#include "vmm/vm_config.h"

Test(checkpoint_layer, chain_restores_the_memory_exactly,
     .init = ckpt_fixture_setup, .fini = ckpt_fixture_teardown)
{
	char names[2][CKPT_NAME_MAX], err[512] = "";
	struct ckpt_layer *layers;
	unsigned int nr;

	fx_write_chain();
	cr_assert_eq(ckpt_chain_newest(fx_dir, names[0], err, sizeof(err)), 0);
	cr_expect_str_eq(names[0], "0002");
	cr_assert_eq(
	    ckpt_chain_resolve(fx_dir, "0002", NULL, &layers, &nr, err,
			       sizeof(err)),
	    0, "%s", err);
	cr_expect_eq(nr, 2);
	cr_expect_str_eq(layers[0].m.name, "0001");
	/* 0002 holds the 10 changed pages and the zeroed one, no more. */
	cr_expect_eq(layers[1].m.regions[0].held_pages, 11);
	free(layers);
	cr_assert_eq(fx_restore("0002", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(memcmp(fx_mem.regions[0].hva, fx_back.regions[0].hva,
			    FX_PAGES * GUEST_PAGE_BYTES),
		     0);
}

Test(checkpoint_layer, an_altered_page_is_refused, .init = ckpt_fixture_setup,
     .fini = ckpt_fixture_teardown)
{
	fx_write_chain();
	/* Page 13 is held by 0001 only. */
	fx_damage("0001/memory", 13 * GUEST_PAGE_BYTES + 13 % 512 * 8);
	fx_expect_refused("0002", "GPA 0xd000 does not match its hash (altered)");
}

Test(checkpoint_layer, damaged_files_are_refused, .init = ckpt_fixture_setup,
     .fini = ckpt_fixture_teardown)
{
	char path[128];

	fx_write_chain();
	fx_damage("0002/pages", 3);
	fx_expect_refused("0002", "the pages file does not match its digest");
	fx_damage("0002/pages", 3);
	snprintf(path, sizeof(path), "%s/0002/memory", fx_dir);
	cr_assert_eq(truncate(path, 4096), 0);
	fx_expect_refused("0002", "the memory file is 4096 bytes");
	fx_damage("0001/manifest", 20);
	fx_expect_refused("0002", "checkpoint 0001: manifest: CRC mismatch");
}

Test(checkpoint_layer, a_broken_chain_is_refused, .init = ckpt_fixture_setup,
     .fini = ckpt_fixture_teardown)
{
	char from[128], to[128];

	fx_write_chain();
	snprintf(from, sizeof(from), "%s/0002", fx_dir);
	snprintf(to, sizeof(to), "%s/0007", fx_dir);
	cr_assert_eq(rename(from, to), 0);
	fx_expect_refused("0007",
		       "its manifest names it 0002 (renamed or reordered)");
	cr_assert_eq(rename(to, from), 0);
	/* Another 0001 in place of the one 0002 was taken after. */
	snprintf(from, sizeof(from), "%s/0001", fx_dir);
	snprintf(to, sizeof(to), "%s/old", fx_dir);
	cr_assert_eq(rename(from, to), 0);
	fx_page(&fx_mem, 5)[0] = 5;
	fx_write_layer("0001", "", 0, NULL);
	fx_expect_refused("0002",
		       "its parent 0001 is not the one it was taken after");
	snprintf(to, sizeof(to), "rm -rf %s/0001", fx_dir);
	cr_assert_eq(system(to), 0);
	fx_expect_refused("0002", "checkpoint 0002: its parent 0001 is missing");
}

/* A restore reads each page from the newest layer holding it: page 100,
 * which 0002 replaced, is not read from 0001, so damage there does not
 * reach the guest of 0002; a restore of 0001 itself uses it, and refuses. */
Test(checkpoint_layer, each_page_comes_from_the_newest_layer_holding_it,
     .init = ckpt_fixture_setup, .fini = ckpt_fixture_teardown)
{
	char err[512] = "";

	fx_write_chain();
	fx_damage("0001/memory", 100 * GUEST_PAGE_BYTES + 100 % 512 * 8);
	cr_assert_eq(fx_restore("0002", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(memcmp(fx_mem.regions[0].hva, fx_back.regions[0].hva,
			    FX_PAGES * GUEST_PAGE_BYTES),
		     0);
	fx_expect_refused("0001",
		       "checkpoint 0001: the memory page at GPA 0x64000");
}

/* Layer 0001's manifest says the machine has mem_bytes and cpus. */
static void claim_machine(uint64_t mem_bytes, uint32_t cpus)
{
	struct ckpt_manifest *m = malloc(sizeof(*m));
	char path[128], err[256] = "";
	uint64_t digest;
	struct wbuf w;
	FILE *f;

	cr_assert(m);
	snprintf(path, sizeof(path), "%s/0001", fx_dir);
	cr_assert_eq(ckpt_manifest_read(path, m, &digest, err, sizeof(err)), 0,
		     "%s", err);
	m->machine.mem_bytes = mem_bytes;
	m->machine.nr_cpus = cpus;
	m->regions[0].size_bytes = mem_bytes;
	m->files[CKPT_FILE_MEMORY].size_bytes = mem_bytes;
	m->files[CKPT_FILE_PAGES].size_bytes = ckpt_pages_file_bytes(m);
	wbuf_init(&w);
	cr_assert_eq(ckpt_manifest_encode(m, NULL, &w), 0);
	snprintf(path, sizeof(path), "%s/0001/manifest", fx_dir);
	f = fopen(path, "w");
	cr_assert(f && fwrite(w.data, 1, w.len, f) == w.len);
	fclose(f);
	wbuf_free(&w);
	free(m);
}

/* What a restore of fx_dir says before it builds anything (no KVM: the
 * refusals come first). */
static void expect_restore_refused(int want, const char *why)
{
	struct vm_config cfg = {0};
	struct ckpt_restored *restored = NULL;
	struct vm *vm = NULL;
	char err[512] = "";

	cr_expect_eq(checkpoint_restore(&cfg, fx_dir, &restored, &vm, err,
					sizeof(err)),
		     want, "%s", err);
	cr_expect(strstr(err, why), "'%s' does not say '%s'", err, why);
	cr_expect_null(vm);
	checkpoint_restored_free(restored);
}

Test(checkpoint_layer, a_machine_beyond_this_host_is_refused_first,
     .init = ckpt_fixture_setup, .fini = ckpt_fixture_teardown)
{
	fx_write_layer("0001", "", 0, NULL);
	claim_machine(1ull << 40, 1);
	expect_restore_refused(-EFBIG, "checkpoint 0001: its guest has 1048576 "
				       "MiB of RAM, more than this host's");
	claim_machine(FX_PAGES * GUEST_PAGE_BYTES, 1000);
	expect_restore_refused(-EINVAL, "checkpoint 0001: its guest has 1000 "
					"vCPUs, at most 16 work here");
}
