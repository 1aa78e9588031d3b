// SPDX-License-Identifier: MIT
/*
 * Checkpoint layers authenticated with a pre-shared key (checkpoint/
 * mac.h), without KVM. The attacker here can write the chain's files and
 * knows every public function: a page altered so that its page hash,
 * and so every digest above it, stays the same passes a chain without
 * MACs, and is refused by one with them. So are an edited manifest or
 * pages file, a chain without its key, a key of another identity or
 * value, and MACs stripped by writing the chain again without them.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/merge.h"
#include "tests/page_forge.h"
#include "tests/unit/checkpoint_fixture.h"

#define KEY_A "kvmtrack:00112233445566778899aabbccddeeff"

/* fx_keys from a keys.psk holding `line`; NULL line: none. */
static void use_key(const char *line)
{
	char path[128], err[256] = "";
	FILE *f;

	ckpt_keys_free(fx_keys);
	fx_keys = NULL;
	if (!line)
		return;
	snprintf(path, sizeof(path), "%s/keys.psk", fx_dir);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%s\n", line);
	fclose(f);
	chmod(path, 0600);
	cr_assert_eq(ckpt_keys_load(path, &fx_keys, err, sizeof(err)), 0, "%s",
		     err);
}

static void forge_page(const char *file, uint64_t page)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", fx_dir, file);
	cr_assert(page_forge_in_file(path, page), "forging %s", path);
}

/* Starts the chain again in the same directory. */
static void remove_layers(void)
{
	char cmd[192];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/0001 %s/0002", fx_dir, fx_dir);
	cr_assert_eq(system(cmd), 0);
}

static void expect_restores_exactly(const char *name)
{
	char err[512] = "";

	memset(fx_back.regions[0].hva, 0, FX_PAGES * GUEST_PAGE_BYTES);
	cr_assert_eq(fx_restore(name, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(memcmp(fx_mem.regions[0].hva, fx_back.regions[0].hva,
			    FX_PAGES * GUEST_PAGE_BYTES),
		     0);
}

TestSuite(checkpoint_mac, .init = ckpt_fixture_setup,
	  .fini = ckpt_fixture_teardown);

Test(checkpoint_mac, an_authenticated_chain_restores_exactly)
{
	struct ckpt_layer l;
	char err[256] = "";

	use_key(KEY_A);
	fx_write_chain();
	expect_restores_exactly("0002");
	cr_assert_eq(ckpt_layer_read(fx_dir, "0002", &l, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(l.m.auth.kind, CKPT_AUTH_HMAC_SHA256);
	cr_expect_str_eq(l.m.auth.identity, "kvmtrack");
	/* The bitmap, then a hash and a MAC per held page (11). */
	cr_expect_eq(l.m.files[CKPT_FILE_PAGES].size_bytes,
		     FX_PAGES / 8 + 11 * (8 + CKPT_MAC_BYTES));
}

Test(checkpoint_mac, a_page_forged_to_keep_its_hash_is_caught_by_its_mac)
{
	char err[512] = "";

	/* Without MACs the forgery passes every hash and digest. */
	fx_write_chain();
	forge_page("0001/memory", 13);
	cr_assert_eq(fx_restore("0002", err, sizeof(err)), 0, "%s", err);
	cr_expect_neq(memcmp(fx_page(&fx_mem, 13), fx_page(&fx_back, 13),
			     GUEST_PAGE_BYTES),
		      0, "the forged page did not reach the memory");
	remove_layers();

	use_key(KEY_A);
	fx_write_chain();
	forge_page("0001/memory", 13);
	fx_expect_refused("0002", "checkpoint 0001: the memory page at GPA "
			       "0xd000 fails its MAC (altered)");
}

Test(checkpoint_mac, edited_files_fail_their_mac)
{
	use_key(KEY_A);
	fx_write_chain();
	/* pause_ns, after magic, version, name, parent, parent digest and
	 * time; the CRC made right again. */
	fx_edit_manifest("0001", 8 + 4 + 8 + 4 + 8 + 8);
	fx_expect_refused("0002", "checkpoint 0001: its manifest fails its MAC");
	fx_edit_manifest("0001", 8 + 4 + 8 + 4 + 8 + 8);
	expect_restores_exactly("0002");
	fx_damage("0002/pages", 8);
	fx_expect_refused("0002", "checkpoint 0002: the pages file fails its MAC");
}

Test(checkpoint_mac, the_key_must_be_the_chains)
{
	use_key(KEY_A);
	fx_write_chain();
	use_key(NULL);
	fx_expect_refused("0002", "checkpoint 0002 is authenticated "
			       "(HMAC-SHA256, identity 'kvmtrack'): give its "
			       "key with --mac-psk FILE");
	use_key("other:00112233445566778899aabbccddeeff");
	fx_expect_refused("0002", "identity 'kvmtrack', which --mac-psk does "
			       "not hold");
	use_key("kvmtrack:00112233445566778899aabbccddeef0");
	fx_expect_refused("0002", "checkpoint 0002: its manifest fails its MAC "
			       "(altered, or another key");
	/* MACs stripped: the same chain written again without them. */
	use_key(NULL);
	remove_layers();
	fx_write_chain();
	use_key(KEY_A);
	fx_expect_refused("0002", "checkpoint 0002 carries no MAC");
}

Test(checkpoint_mac, a_merged_chain_stays_authenticated)
{
	struct ckpt_merge_result res;
	char err[512] = "";

	use_key(KEY_A);
	fx_write_chain();
	cr_expect_neq(ckpt_merge(fx_dir, "0002", NULL, &res, err, sizeof(err)),
		      0, "merged without the key");
	cr_expect(strstr(err, "give its key with --mac-psk"), "%s", err);
	cr_assert_eq(ckpt_merge(fx_dir, "0002", fx_keys, &res, err,
				sizeof(err)),
		     0, "%s", err);
	expect_restores_exactly("0002");
	/* Page 13 came from the base into the merged memory file. */
	forge_page("0002/memory", 13);
	fx_expect_refused("0002", "the memory page at GPA 0xd000 fails its MAC");
}
