// SPDX-License-Identifier: MIT
/* Checkpoint chains on disk without KVM (checkpoint_fixture.h). */
#include "tests/unit/checkpoint_fixture.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/chain_load.h"
#include "checkpoint/pages.h"
#include "lib/crc32c.h"
#include "lib/le.h"
#include "lib/wire.h"

struct guest_mem fx_mem, fx_back;
char fx_dir[64];
struct ckpt_keys *fx_keys;

void ckpt_fixture_setup(void)
{
	strcpy(fx_dir, "/tmp/kt-ckpt-XXXXXX");
	cr_assert(mkdtemp(fx_dir));
	cr_assert_eq(guest_mem_create(&fx_mem, FX_PAGES * GUEST_PAGE_BYTES), 0);
	cr_assert_eq(guest_mem_create(&fx_back, FX_PAGES * GUEST_PAGE_BYTES),
		     0);
	cr_assert_eq(fx_mem.nr_regions, 1);
}

void ckpt_fixture_teardown(void)
{
	char cmd[96];

	guest_mem_destroy(&fx_mem);
	guest_mem_destroy(&fx_back);
	ckpt_keys_free(fx_keys);
	fx_keys = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx_dir);
	cr_expect_eq(system(cmd), 0);
}

uint64_t *fx_page(struct guest_mem *m, uint64_t p)
{
	return (uint64_t *)(m->regions[0].hva + p * GUEST_PAGE_BYTES);
}

/* An authenticated layer names its key and its parent's tag. */
static void fx_auth(struct ckpt_manifest *m)
{
	struct ckpt_layer *l = malloc(sizeof(*l));
	char err[256] = "";

	cr_assert(l);
	m->auth.kind = CKPT_AUTH_HMAC_SHA256;
	snprintf(m->auth.identity, sizeof(m->auth.identity), "%s",
		 fx_keys->keys[0].identity);
	if (m->parent[0]) {
		cr_assert_eq(ckpt_layer_read(fx_dir, m->parent, l, err,
					     sizeof(err)),
			     0, "%s", err);
		memcpy(m->auth.parent_tag, l->link_tag, CKPT_TAG_BYTES);
	}
	free(l);
}

uint64_t fx_write_layer(const char *name, const char *parent,
			uint64_t parent_digest, const uint64_t *bits)
{
	const struct ckpt_key *key = fx_keys ? &fx_keys->keys[0] : NULL;
	struct ckpt_manifest *m = calloc(1, sizeof(*m));
	struct wbuf pages, man;
	struct layer_pages lp;
	const char state[] = "the machine state";
	char err[256] = "";
	uint64_t digest;
	int tmp, fd;

	cr_assert(m);
	cr_assert_eq(ckpt_dir_begin(fx_dir, name, &tmp, err, sizeof(err)), 0,
		     "%s", err);
	fd = openat(tmp, "memory", O_RDWR | O_CREAT, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(layer_pages_init(&lp, &fx_mem, fd), 0);
	cr_assert_eq(bits ? layer_pages_add_bits(&lp, 0, 0, bits, FX_PAGES / 64)
			  : layer_pages_add_written(&lp),
		     0);
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->parent, sizeof(m->parent), "%s", parent);
	m->parent_digest = parent_digest;
	m->machine.mem_bytes = fx_mem.ram_bytes;
	m->machine.nr_cpus = 1;
	if (key)
		fx_auth(m);
	wbuf_init(&pages);
	wbuf_init(&man);
	cr_assert_eq(layer_pages_finish(&lp, m, key, &pages), 0);
	m->files[CKPT_FILE_STATE].size_bytes = sizeof(state);
	m->files[CKPT_FILE_STATE].digest =
	    ckpt_bytes_digest(state, sizeof(state));
	if (key)
		ckpt_mac_file(key, "state", state, sizeof(state),
			      m->auth.state_tag);
	cr_assert_eq(ckpt_write_file(tmp, "state", state, sizeof(state)), 0);
	cr_assert_eq(ckpt_write_file(tmp, "pages", pages.data, pages.len), 0);
	cr_assert_eq(ckpt_manifest_encode(m, key, &man), 0);
	cr_assert_eq(ckpt_write_file(tmp, "manifest", man.data, man.len), 0);
	cr_assert_eq(ckpt_dir_commit(fx_dir, name, tmp, err, sizeof(err)), 0);
	digest = ckpt_bytes_digest(man.data, man.len);
	close(fd);
	layer_pages_free(&lp);
	wbuf_free(&pages);
	wbuf_free(&man);
	free(m);
	return digest;
}

uint64_t fx_write_chain(void)
{
	uint64_t bits[FX_PAGES / 64] = {0}, d;

	for (uint64_t p = 10; p < 600; p += 3)
		fx_page(&fx_mem, p)[p % 512] = p * 0x9e3779b97f4a7c15ull;
	d = fx_write_layer("0001", "", 0, NULL);
	for (uint64_t p = 100; p < 110; p++) {
		fx_page(&fx_mem, p)[7] = ~p;
		bits[p / 64] |= 1ull << (p % 64);
	}
	memset(fx_page(&fx_mem, 301), 0, GUEST_PAGE_BYTES);
	bits[301 / 64] |= 1ull << (301 % 64);
	return fx_write_layer("0002", "0001", d, bits);
}

/* Flips a bit of fx_dir/file at `at`; a manifest's CRC is made right
 * again, so only what it guards beyond the CRC can catch the change. */
static void flip(const char *file, off_t at, bool fix_crc)
{
	char path[128];
	uint8_t buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fx_dir, file);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(pread(fd, buf, 1, at), 1);
	buf[0] ^= 0x40;
	cr_assert_eq(pwrite(fd, buf, 1, at), 1);
	n = fix_crc ? pread(fd, buf, sizeof(buf), 0) : 0;
	if (fix_crc) {
		cr_assert(n > 4 && (size_t)n < sizeof(buf), "%s", path);
		put_le32(buf + n - 4, crc32c(0, buf, (size_t)n - 4));
		cr_assert_eq(pwrite(fd, buf, (size_t)n, 0), n);
	}
	close(fd);
}

void fx_damage(const char *file, off_t at)
{
	flip(file, at, false);
}

void fx_edit_manifest(const char *name, off_t at)
{
	char file[CKPT_NAME_MAX + 16];

	snprintf(file, sizeof(file), "%s/manifest", name);
	flip(file, at, true);
}

void fx_expect_refused(const char *name, const char *why)
{
	char err[512] = "";

	cr_expect_neq(fx_restore(name, err, sizeof(err)), 0, "restored anyway");
	cr_expect(strstr(err, why), "'%s' does not say '%s'", err, why);
}

int fx_restore(const char *name, char *err, size_t err_len)
{
	struct ckpt_layer *layers = NULL;
	uint64_t read;
	unsigned int nr;
	int ret = ckpt_chain_resolve(fx_dir, name, fx_keys, &layers, &nr, err,
				     err_len);

	ret = ret
		  ?: ckpt_chain_load_pages(layers, nr, &fx_back, &read, err,
					   err_len);
	free(layers);
	return ret;
}
