// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a checkpoint's manifest and layer reader (checkpoint/
 * manifest.c, and layer_pages_load() of pages.c, which reads through
 * chain_load.c, page_table.c and chain.c's file reading), through their
 * API, into plain guest memory. The input packs one layer's files:
 *
 *   u32 len, the manifest    u32 len, the pages file
 *   then the memory file's pages: u32 page index, 4096 bytes, repeated
 *   (the file is sparse: pages not listed are holes)
 *
 * The pages file's digest in the manifest is set to the packed file's
 * (anyone who can write the files can compute it), so that inputs reach
 * the page reader rather than stop at the digest; the manifest's own CRC
 * is fixed by the mutator below for most inputs. Its size stays the
 * manifest's, which decoding checks against the layout. tests/fuzz/seed.sh packs recorded layers this way.
 *
 * A property beside the sanitizers': a manifest that decodes encodes to
 * one that decodes again, to the same machine.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/manifest.h"
#include "checkpoint/pages.h"
#include "lib/crc32c.h"
#include "lib/wire.h"
#include "tests/fuzz/fuzz.h"

#define PAGE GUEST_PAGE_BYTES

static char layer_dir[64];

/* The layer's files go in a directory of this process's, gone at exit. */
static void remove_layer_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/pages", layer_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", layer_dir);
	unlink(path);
	rmdir(layer_dir);
}

/*
 * The key of tests/fuzz/mac.psk, with which record.sh takes its
 * authenticated chain: an authenticated layer's pages file gets its tag
 * under it, as the digest above, so that inputs reach the page reader
 * and its MAC checks. (The manifest's own tag is checked when a chain is
 * resolved, which layer_pages_load() does not do.)
 */
static const char fuzz_psk[] = "kvmtrack fuzz key";
static struct ckpt_key fuzz_key;

static void setup(void)
{
	snprintf(layer_dir, sizeof(layer_dir), "/tmp/kvmtrack-fuzz-ckpt.%d",
		 (int)getpid());
	if (mkdir(layer_dir, 0700) ||
	    ckpt_key_derive((const uint8_t *)fuzz_psk, sizeof(fuzz_psk) - 1,
			    "kvmtrack", &fuzz_key))
		abort();
	atexit(remove_layer_dir);
}

static void round_trip(const struct ckpt_manifest *m)
{
	struct ckpt_manifest *again = malloc(sizeof(*again));
	char err[256];
	struct wbuf w;

	wbuf_init(&w);
	if (!again ||
	    ckpt_manifest_encode(m, m->auth.kind ? &fuzz_key : NULL, &w) ||
	    ckpt_manifest_decode(w.data, w.len, again, err, sizeof(err)) ||
	    !ckpt_machine_same(&m->machine, &again->machine, err, sizeof(err)))
		abort();
	wbuf_free(&w);
	free(again);
}

/* Writes a layer file; false when it could not. */
static bool write_file(const char *name, const void *data, size_t len,
		       int *fd_out)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", layer_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return true;
}

/* The memory file: the packed pages at their indexes, the rest holes, as
 * long as the manifest says (within what this target maps). */
static bool write_memory(struct rbuf *r, const struct ckpt_manifest *m)
{
	uint64_t size = m->files[CKPT_FILE_MEMORY].size_bytes;
	int fd;

	if (size > 2 * FUZZ_MAX_MEM_BYTES)
		return false;
	write_file("memory", NULL, 0, &fd);
	if (ftruncate(fd, (off_t)size))
		abort();
	while (rbuf_left(r) >= 4 + PAGE) {
		uint64_t at = rbuf_get_u32(r) * PAGE;
		const uint8_t *page = rbuf_get_ptr(r, PAGE);

		if (at + PAGE <= size &&
		    pwrite(fd, page, PAGE, (off_t)at) != (ssize_t)PAGE)
			abort();
	}
	close(fd);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_manifest *m = malloc(sizeof(*m));
	struct guest_mem mem;
	struct rbuf r, man, pages;
	char err[256];

	if (!layer_dir[0])
		setup();
	rbuf_init(&r, data, size);
	man = rbuf_get_block(&r);
	pages = rbuf_get_block(&r);
	if (!m || r.err ||
	    ckpt_manifest_decode(man.data, man.len, m, err, sizeof(err)))
		goto out;
	round_trip(m);
	m->files[CKPT_FILE_PAGES].digest = ckpt_bytes_digest(pages.data,
							     pages.len);
	if (m->auth.kind)
		ckpt_mac_file(&fuzz_key, "pages", pages.data, pages.len,
			      m->auth.pages_tag);
	write_file("pages", pages.data, pages.len, NULL);
	if (!write_memory(&r, m) ||
	    fuzz_mem_create(&mem, m->machine.mem_bytes))
		goto out;
	layer_pages_load(m, m->auth.kind ? &fuzz_key : NULL, layer_dir, &mem,
			 err, sizeof(err));
	guest_mem_destroy(&mem);
out:
	free(m);
	return 0;
}

/* The manifest ends with a CRC32C of everything before it. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	uint32_t len;

	size = LLVMFuzzerMutate(data, size, max_size);
	if (seed % 16 == 0 || size < 8)
		return size;
	len = get_le32(data);
	if (len >= 4 && len <= size - 4)
		put_le32(data + len, crc32c(0, data + 4, len - 4));
	return size;
}
