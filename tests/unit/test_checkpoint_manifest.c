// SPDX-License-Identifier: MIT
/* The checkpoint manifest's codec (checkpoint/manifest.c): what it keeps,
 * and every kind of bad input it must refuse with a reason. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/manifest.h"
#include "lib/crc32c.h"
#include "lib/wire.h"

#define MEM_BYTES (64ull << 20)

static struct ckpt_manifest *sample(void)
{
	struct ckpt_manifest *m = calloc(1, sizeof(*m));

	cr_assert(m);
	strcpy(m->name, "0002");
	strcpy(m->parent, "0001");
	m->parent_digest = 0x1122334455667788ull;
	m->created_unix_ns = 1765000000000000000ull;
	m->pause_ns = 1234567;
	m->machine.mem_bytes = MEM_BYTES;
	m->machine.nr_cpus = 2;
	strcpy(m->machine.cmdline, "workload=random wss=8M");
	strcpy(m->machine.devices, "uart16550:1 testdev:1");
	m->machine.fdt_bytes = 100;
	memset(m->machine.fdt, 0xd0, 100);
	m->machine.windows_bytes = 4;
	m->nr_regions = 1;
	m->regions[0] = (struct ckpt_region){ .gpa = 0, .size_bytes = MEM_BYTES,
					      .file_offset = 0,
					      .held_pages = 10 };
	m->files[CKPT_FILE_STATE] = (struct ckpt_file_ref){ 8000, 0xabc };
	m->files[CKPT_FILE_PAGES] =
		(struct ckpt_file_ref){ ckpt_pages_file_bytes(m), 0xdef };
	m->files[CKPT_FILE_MEMORY] = (struct ckpt_file_ref){ MEM_BYTES, 0x123 };
	return m;
}

static void encode(const struct ckpt_manifest *m, struct wbuf *w)
{
	wbuf_init(w);
	cr_assert_eq(ckpt_manifest_encode(m, NULL, w), 0);
}

/* Decoding must fail with ret and a message holding `why`. */
static void expect_refused(const uint8_t *data, size_t len, int ret,
			   const char *why)
{
	struct ckpt_manifest *m = malloc(sizeof(*m));
	char err[256] = "";

	cr_expect_eq(ckpt_manifest_decode(data, len, m, err, sizeof(err)), ret,
		     "%s", err);
	cr_expect(strstr(err, why), "'%s' does not say '%s'", err, why);
	free(m);
}

/* The CRC at the end, made right again after a field was changed. */
static void fix_crc(struct wbuf *w)
{
	put_le32(w->data + w->len - 4, crc32c(0, w->data, w->len - 4));
}

Test(checkpoint_manifest, round_trip_keeps_every_field)
{
	struct ckpt_manifest *m = sample(), *back = malloc(sizeof(*back));
	char err[256] = "";
	struct wbuf w;

	encode(m, &w);
	cr_assert_eq(ckpt_manifest_decode(w.data, w.len, back, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_str_eq(back->name, "0002");
	cr_expect_str_eq(back->parent, "0001");
	cr_expect_eq(back->parent_digest, m->parent_digest);
	cr_expect_eq(back->created_unix_ns, m->created_unix_ns);
	cr_expect_eq(back->pause_ns, m->pause_ns);
	cr_expect_eq(back->machine.nr_cpus, 2);
	cr_expect_str_eq(back->machine.cmdline, m->machine.cmdline);
	cr_expect_str_eq(back->machine.devices, m->machine.devices);
	cr_expect_eq(back->machine.fdt_bytes, 100);
	cr_expect_eq(memcmp(back->machine.fdt, m->machine.fdt, 100), 0);
	cr_expect_eq(back->regions[0].held_pages, 10);
	for (int i = 0; i < CKPT_NR_FILES; i++) {
		cr_expect_eq(back->files[i].size_bytes, m->files[i].size_bytes);
		cr_expect_eq(back->files[i].digest, m->files[i].digest);
	}
	cr_expect(ckpt_machine_same(&m->machine, &back->machine, err,
				    sizeof(err)));
	wbuf_free(&w);
	free(m);
	free(back);
}

Test(checkpoint_manifest, refuses_damage_with_a_reason)
{
	struct ckpt_manifest *m = sample();
	struct wbuf w;

	encode(m, &w);
	expect_refused(w.data, 10, -EBADMSG, "not a manifest");
	/* Cut short: the CRC is no longer at the end. */
	expect_refused(w.data, w.len - 7, -EBADMSG, "CRC mismatch");
	w.data[40] ^= 0x20;
	expect_refused(w.data, w.len, -EBADMSG, "CRC mismatch");
	w.data[40] ^= 0x20;
	w.data[0] ^= 1;
	expect_refused(w.data, w.len, -EBADMSG, "bad magic");
	w.data[0] ^= 1;
	put_le32(w.data + 8, CKPT_VERSION + 1);
	fix_crc(&w);
	expect_refused(w.data, w.len, -EINVAL, "format version 4, this kvmtrack reads 1 to 3");
	wbuf_free(&w);
	free(m);
}

Test(checkpoint_manifest, refuses_what_does_not_add_up)
{
	struct ckpt_manifest *m = sample();
	struct wbuf w;

	m->files[CKPT_FILE_MEMORY].size_bytes = MEM_BYTES / 2;
	encode(m, &w);
	expect_refused(w.data, w.len, -EINVAL, "do not match the RAM size");
	wbuf_free(&w);

	m->files[CKPT_FILE_MEMORY].size_bytes = MEM_BYTES;
	m->regions[0].held_pages = 11; /* the pages file is then too short */
	encode(m, &w);
	expect_refused(w.data, w.len, -EINVAL, "pages file's size");
	wbuf_free(&w);

	m->regions[0].held_pages = 10;
	strcpy(m->parent, "../x");
	encode(m, &w);
	expect_refused(w.data, w.len, -EINVAL, "bad name");
	wbuf_free(&w);
	free(m);
}

Test(checkpoint_manifest, machine_differences_are_named)
{
	struct ckpt_manifest *a = sample(), *b = sample();
	char err[256] = "";

	b->machine.mem_bytes *= 2;
	cr_expect(!ckpt_machine_same(&a->machine, &b->machine, err, sizeof(err)));
	cr_expect(strstr(err, "64 MiB of RAM and 2 vCPUs against 128 MiB"), "%s",
		  err);
	b->machine.mem_bytes = a->machine.mem_bytes;
	strcpy(b->machine.devices, "uart16550:2 testdev:1");
	cr_expect(!ckpt_machine_same(&a->machine, &b->machine, err, sizeof(err)));
	cr_expect(strstr(err, "devices"), "%s", err);
	free(a);
	free(b);
}

Test(checkpoint_manifest, digest_sees_one_byte_and_its_place)
{
	static uint8_t buf[3 * 4096 + 100], swapped[sizeof(buf)];
	uint64_t d;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1 + i / 4096);
	d = ckpt_bytes_digest(buf, sizeof(buf));
	cr_expect_eq(d, ckpt_bytes_digest(buf, sizeof(buf)));
	buf[3 * 4096 + 50] ^= 1; /* in the padded last block */
	cr_expect_neq(d, ckpt_bytes_digest(buf, sizeof(buf)));
	buf[3 * 4096 + 50] ^= 1;
	/* The same blocks in another order. */
	memcpy(swapped, buf + 4096, 4096);
	memcpy(swapped + 4096, buf, 4096);
	memcpy(swapped + 8192, buf + 8192, sizeof(buf) - 8192);
	cr_expect_neq(d, ckpt_bytes_digest(swapped, sizeof(swapped)));
}

/* Version 1 had no merged_from: such manifests are still read. A merged
 * checkpoint is full: one with a parent too is refused. */
Test(checkpoint_manifest, version_1_is_read_and_a_merged_one_has_no_parent)
{
	struct ckpt_manifest *m = sample(), *back = malloc(sizeof(*back));
	/* magic, version, name and parent ("0002", "0001"), parent digest,
	 * created, pause: then merged_from */
	size_t at = 8 + 4 + (4 + 4) + (4 + 4) + 8 + 8 + 8;
	char err[256] = "";
	struct wbuf w;

	encode(m, &w);
	memmove(w.data + at, w.data + at + 8, w.len - at - 8);
	w.len -= 8;
	put_le32(w.data + 8, 1);
	fix_crc(&w);
	cr_assert_eq(ckpt_manifest_decode(w.data, w.len, back, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_str_eq(back->parent, "0001");
	cr_expect_eq(back->merged_from, 0);
	cr_expect_eq(back->files[CKPT_FILE_PAGES].digest,
		     m->files[CKPT_FILE_PAGES].digest);
	wbuf_free(&w);

	m->merged_from = 0x1234;
	encode(m, &w);
	expect_refused(w.data, w.len, -EINVAL,
		       "a merged checkpoint with a parent");
	wbuf_free(&w);
	m->parent[0] = '\0';
	encode(m, &w);
	cr_assert_eq(ckpt_manifest_decode(w.data, w.len, back, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(back->merged_from, 0x1234);
	wbuf_free(&w);
	free(m);
	free(back);
}
