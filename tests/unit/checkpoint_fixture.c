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
#include "lib/wire.h"

struct guest_mem fx_mem, fx_back;
char fx_dir[64];

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
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx_dir);
	cr_expect_eq(system(cmd), 0);
}

uint64_t *fx_page(struct guest_mem *m, uint64_t p)
{
	return (uint64_t *)(m->regions[0].hva + p * GUEST_PAGE_BYTES);
}

uint64_t fx_write_layer(const char *name, const char *parent,
			uint64_t parent_digest, const uint64_t *bits)
{
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
	wbuf_init(&pages);
	wbuf_init(&man);
	cr_assert_eq(layer_pages_finish(&lp, m, &pages), 0);
	m->files[CKPT_FILE_STATE].size_bytes = sizeof(state);
	m->files[CKPT_FILE_STATE].digest =
	    ckpt_bytes_digest(state, sizeof(state));
	cr_assert_eq(ckpt_write_file(tmp, "state", state, sizeof(state)), 0);
	cr_assert_eq(ckpt_write_file(tmp, "pages", pages.data, pages.len), 0);
	cr_assert_eq(ckpt_manifest_encode(m, &man), 0);
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

int fx_restore(const char *name, char *err, size_t err_len)
{
	struct ckpt_layer *layers = NULL;
	uint64_t read;
	unsigned int nr;
	int ret = ckpt_chain_resolve(fx_dir, name, &layers, &nr, err, err_len);

	ret = ret
		  ?: ckpt_chain_load_pages(layers, nr, &fx_back, &read, err,
					   err_len);
	free(layers);
	return ret;
}
