// SPDX-License-Identifier: MIT
/* A layer's memory and pages files, written and read back (pages.h). */
#include "checkpoint/pages.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/manifest.h"
#include "checkpoint/page_table.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"

/* The longest write: the bytes go out while the guest runs, not all in
 * one write at the end. */
#define MAX_RUN_PAGES 256

static uint64_t bitmap_words(const struct mem_region *r)
{
	return (mem_region_pages(r) + 63) / 64;
}

/* Region r's first byte in the memory file: the regions one after the
 * other, so a page's offset is fixed by its place in guest RAM. */
static uint64_t file_offset(const struct guest_mem *mem, unsigned int r)
{
	uint64_t off = 0;

	for (unsigned int i = 0; i < r; i++)
		off += mem->regions[i].size_bytes;
	return off;
}

/* pwrite or pread of the whole range, or -errno (-EIO: end of file). */
static int file_io(int fd, uint8_t *buf, uint64_t len, uint64_t off,
		   bool write_it)
{
	while (len) {
		ssize_t n = write_it ? pwrite(fd, buf, len, (off_t)off)
				     : pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int layer_pages_init(struct layer_pages *lp, const struct guest_mem *mem,
		     int fd)
{
	memset(lp, 0, sizeof(*lp));
	lp->mem = mem;
	lp->fd = fd;
	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		lp->bitmap[r] = calloc(bitmap_words(&mem->regions[r]), 8);
		lp->hash_of[r] = calloc(mem_region_pages(&mem->regions[r]), 8);
		if (!lp->bitmap[r] || !lp->hash_of[r])
			return -ENOMEM;
	}
	return ftruncate(fd, (off_t)mem->ram_bytes) ? -errno : 0;
}

void layer_pages_free(struct layer_pages *lp)
{
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
		free(lp->bitmap[r]);
		free(lp->hash_of[r]);
	}
	memset(lp, 0, sizeof(*lp));
}

static void flush_run(struct layer_pages *lp)
{
	const struct mem_region *reg = &lp->mem->regions[lp->run_region];
	uint64_t first = lp->run_first * GUEST_PAGE_BYTES;

	if (lp->run_end > lp->run_first && !lp->err)
		lp->err = file_io(lp->fd, reg->hva + first,
				  (lp->run_end - lp->run_first) * GUEST_PAGE_BYTES,
				  file_offset(lp->mem, lp->run_region) + first,
				  true);
	lp->run_first = lp->run_end = 0;
}

/* Holds one page (again): its bit, its hash, and its bytes in the next
 * write. */
static void hold(struct layer_pages *lp, unsigned int r, uint64_t page,
		 uint64_t hash)
{
	uint64_t bit = 1ull << (page % 64);

	lp->held[r] += !(lp->bitmap[r][page / 64] & bit);
	lp->copied_pages++;
	lp->bitmap[r][page / 64] |= bit;
	lp->hash_of[r][page] = hash;
	if (r != lp->run_region || page != lp->run_end ||
	    lp->run_end == lp->run_first ||
	    lp->run_end - lp->run_first >= MAX_RUN_PAGES) {
		flush_run(lp);
		lp->run_region = r;
		lp->run_first = page;
	}
	lp->run_end = page + 1;
}

int layer_pages_flush(struct layer_pages *lp)
{
	flush_run(lp);
	return lp->err;
}

static bool page_is_zero(const uint64_t *words)
{
	for (unsigned int i = 0; i < GUEST_PAGE_BYTES / 8; i++)
		if (words[i])
			return false;
	return true;
}

int layer_pages_add_written(struct layer_pages *lp)
{
	for (unsigned int r = 0; r < lp->mem->nr_regions && !lp->err; r++) {
		const struct mem_region *reg = &lp->mem->regions[r];
		uint64_t first, end, from = 0;

		while (!lp->err &&
		       guest_mem_next_data(reg, from, &first, &end)) {
			for (uint64_t p = first; p < end && !lp->err; p++) {
				const void *hva = reg->hva + p * GUEST_PAGE_BYTES;
				uint64_t h = page_hash(hva);

				/* A zero page is a hole: the base of a
				 * restore is zero memory. */
				if (h || !page_is_zero(hva))
					hold(lp, r, p, h);
			}
			from = end;
		}
	}
	return lp->err;
}

int layer_pages_add_bits(struct layer_pages *lp, unsigned int region,
			 uint64_t first_page, const uint64_t *bits,
			 uint64_t nr_words)
{
	const struct mem_region *reg = &lp->mem->regions[region];
	uint64_t pages = mem_region_pages(reg);

	for (uint64_t w = 0; w < nr_words && !lp->err; w++)
		for (uint64_t b = bits[w]; b && !lp->err; b &= b - 1) {
			uint64_t p = first_page + w * 64 +
				     (uint64_t)__builtin_ctzll(b);

			if (p < pages)
				hold(lp, region, p,
				     page_hash(reg->hva + p * GUEST_PAGE_BYTES));
		}
	return lp->err;
}

int layer_pages_finish(struct layer_pages *lp, struct ckpt_manifest *m,
		       struct wbuf *out)
{
	uint64_t digest = 0;

	flush_run(lp);
	m->nr_regions = lp->mem->nr_regions;
	for (unsigned int r = 0; r < lp->mem->nr_regions; r++) {
		const struct mem_region *reg = &lp->mem->regions[r];

		m->regions[r] = (struct ckpt_region){
			.gpa = reg->gpa, .size_bytes = reg->size_bytes,
			.file_offset = file_offset(lp->mem, r),
			.held_pages = lp->held[r],
		};
		digest += page_table_put_region(reg->gpa, mem_region_pages(reg),
						lp->bitmap[r], lp->hash_of[r],
						out);
	}
	m->files[CKPT_FILE_MEMORY].size_bytes = lp->mem->ram_bytes;
	m->files[CKPT_FILE_MEMORY].digest = digest;
	m->files[CKPT_FILE_PAGES].size_bytes = out->len;
	m->files[CKPT_FILE_PAGES].digest = ckpt_bytes_digest(out->data, out->len);
	return lp->err ?: out->err;
}

/* Reading a layer back: its pages file, then its memory file. */
struct layer_reader {
	struct guest_mem *mem;
	int fd;
	uint64_t digest;
	char *err;
	size_t err_len;
};

static int check_layout(const struct ckpt_manifest *m,
			const struct guest_mem *mem, char *err, size_t err_len)
{
	bool same = m->nr_regions == mem->nr_regions;

	for (unsigned int r = 0; same && r < m->nr_regions; r++)
		same = m->regions[r].gpa == mem->regions[r].gpa &&
		       m->regions[r].size_bytes == mem->regions[r].size_bytes;
	if (!same)
		snprintf(err, err_len,
			 "its memory layout is not this machine's");
	return same ? 0 : -EINVAL;
}

/* Reads pages [first, end) of region r, each checked against its hash
 * (hashes[0] is first's). */
static int load_run(struct layer_reader *rd, unsigned int r, uint64_t first,
		    uint64_t end, const uint8_t *hashes)
{
	const struct mem_region *reg = &rd->mem->regions[r];
	int ret = file_io(rd->fd, reg->hva + first * GUEST_PAGE_BYTES,
			  (end - first) * GUEST_PAGE_BYTES,
			  file_offset(rd->mem, r) + first * GUEST_PAGE_BYTES,
			  false);

	if (ret) {
		snprintf(rd->err, rd->err_len, "reading the memory file: %s",
			 ret == -EIO ? "it ends early (truncated)" : strerror(-ret));
		return ret;
	}
	for (uint64_t p = first; p < end; p++, hashes += 8) {
		uint64_t gpa = reg->gpa + p * GUEST_PAGE_BYTES;
		uint64_t h = page_hash(reg->hva + p * GUEST_PAGE_BYTES);

		if (h != get_le64(hashes)) {
			snprintf(rd->err, rd->err_len,
				 "the memory page at GPA %#llx does not match its hash (altered)",
				 (unsigned long long)gpa);
			return -EBADMSG;
		}
		rd->digest += page_digest_term(gpa, h);
	}
	return 0;
}

static uint64_t popcount(const uint8_t *bitmap, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < words; w++)
		n += (uint64_t)__builtin_popcountll(get_le64(bitmap + 8 * w));
	return n;
}

/* Region r's held pages, in runs of consecutive ones. */
static int load_region(struct layer_reader *rd, unsigned int r,
		       const uint8_t *bitmap, const uint8_t *hashes)
{
	uint64_t words = bitmap_words(&rd->mem->regions[r]);
	uint64_t first = 0, end = 0, index = 0;
	int ret = 0;

	for (uint64_t w = 0; w < words && !ret; w++)
		for (uint64_t b = get_le64(bitmap + 8 * w); b && !ret;
		     b &= b - 1) {
			uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(b);

			if (p != end && end > first) {
				ret = load_run(rd, r, first, end,
					       hashes + 8 * index);
				index += end - first;
				first = end = p;
			}
			if (end == first)
				first = end = p;
			end = p + 1;
		}
	if (!ret && end > first)
		ret = load_run(rd, r, first, end, hashes + 8 * index);
	return ret;
}

static int load_pages(struct layer_reader *rd, const struct ckpt_manifest *m,
		      const uint8_t *data)
{
	for (unsigned int r = 0; r < m->nr_regions; r++) {
		uint64_t words = bitmap_words(&rd->mem->regions[r]);
		int ret;

		if (popcount(data, words) != m->regions[r].held_pages) {
			snprintf(rd->err, rd->err_len,
				 "the pages file's bitmap of region %u does not match the manifest",
				 r);
			return -EBADMSG;
		}
		ret = load_region(rd, r, data, data + 8 * words);
		if (ret)
			return ret;
		data += 8 * (words + m->regions[r].held_pages);
	}
	return 0;
}

static int open_memory(const struct ckpt_manifest *m, const char *layer_path,
		       char *err, size_t err_len)
{
	uint64_t want = m->files[CKPT_FILE_MEMORY].size_bytes;
	char path[4200];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/memory", layer_path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, err_len, "the memory file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	if ((uint64_t)st.st_size != want) {
		snprintf(err, err_len,
			 "the memory file is %llu bytes, the manifest says %llu (truncated)",
			 (unsigned long long)st.st_size, (unsigned long long)want);
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

int layer_pages_load(const struct ckpt_manifest *m, const char *layer_path,
		     struct guest_mem *mem, char *err, size_t err_len)
{
	const struct ckpt_file_ref *pf = &m->files[CKPT_FILE_PAGES];
	struct layer_reader rd = { .mem = mem, .err = err, .err_len = err_len };
	uint8_t *data = NULL;
	int ret = check_layout(m, mem, err, err_len);

	ret = ret ?: ckpt_read_file(layer_path, "pages", pf->size_bytes, &data,
				    err, err_len);
	if (!ret && ckpt_bytes_digest(data, pf->size_bytes) != pf->digest) {
		snprintf(err, err_len,
			 "the pages file does not match its digest (altered)");
		ret = -EBADMSG;
	}
	rd.fd = ret ? -1 : open_memory(m, layer_path, err, err_len);
	ret = ret ?: rd.fd < 0 ? rd.fd : 0;
	ret = ret ?: load_pages(&rd, m, data);
	if (!ret && rd.digest != m->files[CKPT_FILE_MEMORY].digest) {
		snprintf(err, err_len,
			 "the memory file does not match its digest (altered)");
		ret = -EBADMSG;
	}
	if (rd.fd >= 0)
		close(rd.fd);
	free(data);
	return ret;
}
