// SPDX-License-Identifier: MIT
/*
 * Checkpoint layers on disk without KVM (checkpoint/pages.c, chain.c):
 * guest memory written as a full layer and an incremental one, read back
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
#include "checkpoint/pages.h"
#include "lib/wire.h"
#include "vmm/mem/memory.h"

#define PAGES 2048 /* 8 MiB */

static struct guest_mem mem, back;
static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/kt-ckpt-XXXXXX");
	cr_assert(mkdtemp(dir));
	cr_assert_eq(guest_mem_create(&mem, PAGES * GUEST_PAGE_BYTES), 0);
	cr_assert_eq(guest_mem_create(&back, PAGES * GUEST_PAGE_BYTES), 0);
	cr_assert_eq(mem.nr_regions, 1);
}

static void teardown(void)
{
	char cmd[96];

	guest_mem_destroy(&mem);
	guest_mem_destroy(&back);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static uint64_t *page(struct guest_mem *m, uint64_t p)
{
	return (uint64_t *)(m->regions[0].hva + p * GUEST_PAGE_BYTES);
}

/* Writes the layer `name` of mem: all its data (bits NULL) or the pages
 * in bits. Returns its manifest's digest. */
static uint64_t write_layer(const char *name, const char *parent,
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
	cr_assert_eq(ckpt_dir_begin(dir, name, &tmp, err, sizeof(err)), 0, "%s",
		     err);
	fd = openat(tmp, "memory", O_RDWR | O_CREAT, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(layer_pages_init(&lp, &mem, fd), 0);
	cr_assert_eq(bits ? layer_pages_add_bits(&lp, 0, 0, bits, PAGES / 64)
			  : layer_pages_add_written(&lp), 0);
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->parent, sizeof(m->parent), "%s", parent);
	m->parent_digest = parent_digest;
	m->machine.mem_bytes = mem.ram_bytes;
	m->machine.nr_cpus = 1;
	wbuf_init(&pages);
	wbuf_init(&man);
	cr_assert_eq(layer_pages_finish(&lp, m, &pages), 0);
	m->files[CKPT_FILE_STATE].size_bytes = sizeof(state);
	m->files[CKPT_FILE_STATE].digest = ckpt_bytes_digest(state, sizeof(state));
	cr_assert_eq(ckpt_write_file(tmp, "state", state, sizeof(state)), 0);
	cr_assert_eq(ckpt_write_file(tmp, "pages", pages.data, pages.len), 0);
	cr_assert_eq(ckpt_manifest_encode(m, &man), 0);
	cr_assert_eq(ckpt_write_file(tmp, "manifest", man.data, man.len), 0);
	cr_assert_eq(ckpt_dir_commit(dir, name, tmp, err, sizeof(err)), 0);
	digest = ckpt_bytes_digest(man.data, man.len);
	close(fd);
	layer_pages_free(&lp);
	wbuf_free(&pages);
	wbuf_free(&man);
	free(m);
	return digest;
}

/* Layer 0001 full, 0002 with pages changed since (one of them zeroed). */
static void write_chain(void)
{
	uint64_t bits[PAGES / 64] = { 0 }, d;

	for (uint64_t p = 10; p < 600; p += 3)
		page(&mem, p)[p % 512] = p * 0x9e3779b97f4a7c15ull;
	d = write_layer("0001", "", 0, NULL);
	for (uint64_t p = 100; p < 110; p++) {
		page(&mem, p)[7] = ~p;
		bits[p / 64] |= 1ull << (p % 64);
	}
	memset(page(&mem, 301), 0, GUEST_PAGE_BYTES);
	bits[301 / 64] |= 1ull << (301 % 64);
	write_layer("0002", "0001", d, bits);
}

/* Resolves dir/name and loads every layer into back; 0 or the first
 * error, its message in err. */
static int restore(const char *name, char *err, size_t err_len)
{
	struct ckpt_layer *layers;
	unsigned int nr;
	int ret = ckpt_chain_resolve(dir, name, &layers, &nr, err, err_len);

	for (unsigned int i = 0; i < nr && !ret; i++)
		ret = layer_pages_load(&layers[i].m, layers[i].path, &back, err,
				       err_len);
	free(layers);
	return ret;
}

static void damage(const char *file, off_t at)
{
	char path[128];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(pread(fd, &b, 1, at), 1);
	b ^= 0x40;
	cr_assert_eq(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

static void expect_refused(const char *name, const char *why)
{
	char err[512] = "";

	cr_expect_neq(restore(name, err, sizeof(err)), 0, "restored anyway");
	cr_expect(strstr(err, why), "'%s' does not say '%s'", err, why);
}

Test(checkpoint_layer, chain_restores_the_memory_exactly, .init = setup,
     .fini = teardown)
{
	char names[2][CKPT_NAME_MAX], err[512] = "";
	struct ckpt_layer *layers;
	unsigned int nr;

	write_chain();
	cr_assert_eq(ckpt_chain_newest(dir, names[0], err, sizeof(err)), 0);
	cr_expect_str_eq(names[0], "0002");
	cr_assert_eq(ckpt_chain_resolve(dir, "0002", &layers, &nr, err,
					sizeof(err)), 0, "%s", err);
	cr_expect_eq(nr, 2);
	cr_expect_str_eq(layers[0].m.name, "0001");
	/* 0002 holds the 10 changed pages and the zeroed one, no more. */
	cr_expect_eq(layers[1].m.regions[0].held_pages, 11);
	free(layers);
	cr_assert_eq(restore("0002", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(memcmp(mem.regions[0].hva, back.regions[0].hva,
			    PAGES * GUEST_PAGE_BYTES), 0);
}

Test(checkpoint_layer, an_altered_page_is_refused, .init = setup,
     .fini = teardown)
{
	write_chain();
	/* Page 13 is held by 0001 only. */
	damage("0001/memory", 13 * GUEST_PAGE_BYTES + 13 % 512 * 8);
	expect_refused("0002", "GPA 0xd000 does not match its hash (altered)");
}

Test(checkpoint_layer, damaged_files_are_refused, .init = setup,
     .fini = teardown)
{
	char path[128];

	write_chain();
	damage("0002/pages", 3);
	expect_refused("0002", "the pages file does not match its digest");
	damage("0002/pages", 3);
	snprintf(path, sizeof(path), "%s/0002/memory", dir);
	cr_assert_eq(truncate(path, 4096), 0);
	expect_refused("0002", "the memory file is 4096 bytes");
	damage("0001/manifest", 20);
	expect_refused("0002", "checkpoint 0001: manifest: CRC mismatch");
}

Test(checkpoint_layer, a_broken_chain_is_refused, .init = setup,
     .fini = teardown)
{
	char from[128], to[128];

	write_chain();
	snprintf(from, sizeof(from), "%s/0002", dir);
	snprintf(to, sizeof(to), "%s/0007", dir);
	cr_assert_eq(rename(from, to), 0);
	expect_refused("0007", "its manifest names it 0002 (renamed or reordered)");
	cr_assert_eq(rename(to, from), 0);
	/* Another 0001 in place of the one 0002 was taken after. */
	snprintf(from, sizeof(from), "%s/0001", dir);
	snprintf(to, sizeof(to), "%s/old", dir);
	cr_assert_eq(rename(from, to), 0);
	page(&mem, 5)[0] = 5;
	write_layer("0001", "", 0, NULL);
	expect_refused("0002", "its parent 0001 is not the one it was taken after");
	snprintf(to, sizeof(to), "rm -rf %s/0001", dir);
	cr_assert_eq(system(to), 0);
	expect_refused("0002", "checkpoint 0002: its parent 0001 is missing");
}
