// SPDX-License-Identifier: MIT
/* Loading a chain's memory, each page once (chain_load.h). */
#include "checkpoint/chain_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/page_table.h"

#define NO_LAYER 0xffffu

struct chain_pages {
	const struct ckpt_layer *layers;
	unsigned int nr;
	const struct guest_mem *mem;
	struct page_table *pt; /* per layer */
	int *fd;	       /* per layer, its memory file */
	/* per region and page: the newest layer holding it */
	uint16_t *owner[MEM_MAX_REGIONS];
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

static int open_memory(const struct ckpt_layer *l, char *err, size_t err_len)
{
	uint64_t want = l->m.files[CKPT_FILE_MEMORY].size_bytes;
	char path[4200];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/memory", l->path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, err_len, "the memory file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	if ((uint64_t)st.st_size != want) {
		snprintf(err, err_len,
			 "the memory file is %llu bytes, the manifest says "
			 "%llu (truncated)",
			 (unsigned long long)st.st_size,
			 (unsigned long long)want);
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

/* Layer i, newer than those before it, owns the pages it holds. */
static void own_pages(struct chain_pages *cp, unsigned int i)
{
	const struct page_table *pt = &cp->pt[i];

	for (unsigned int r = 0; r < pt->nr_regions; r++)
		for (uint64_t w = 0; w < (pt->pages[r] + 63) / 64; w++)
			for (uint64_t b = pt->bitmap[r][w]; b; b &= b - 1) {
				uint64_t p =
				    w * 64 + (uint64_t)__builtin_ctzll(b);

				cp->owner[r][p] = (uint16_t)i;
			}
}

/* Every layer's pages file and memory file, and who owns each page; on
 * failure *failed is the layer at fault. */
static int open_layers(struct chain_pages *cp, unsigned int *failed, char *why,
		       size_t why_len)
{
	int ret = 0;

	for (unsigned int r = 0; r < cp->mem->nr_regions; r++) {
		uint64_t pages = mem_region_pages(&cp->mem->regions[r]);

		cp->owner[r] = malloc((pages ? pages : 1) * sizeof(uint16_t));
		if (!cp->owner[r])
			return -ENOMEM;
		memset(cp->owner[r], 0xff, pages * sizeof(uint16_t));
	}
	for (unsigned int i = 0; i < cp->nr && !ret; i++) {
		const struct ckpt_layer *l = &cp->layers[i];
		struct page_table *pt = &cp->pt[i];

		*failed = i;
		ret = check_layout(&l->m, cp->mem, why, why_len);
		ret = ret ?: page_table_read(&l->m, l->key, l->path, pt, why,
					     why_len);
		cp->fd[i] = ret ? -1 : open_memory(l, why, why_len);
		ret = ret ?: cp->fd[i] < 0 ? cp->fd[i] : 0;
		if (!ret)
			own_pages(cp, i);
	}
	return ret;
}

void chain_pages_close(struct chain_pages *cp)
{
	if (!cp)
		return;
	for (unsigned int i = 0; cp->fd && i < cp->nr; i++) {
		if (cp->fd[i] >= 0)
			close(cp->fd[i]);
		page_table_free(&cp->pt[i]);
	}
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++)
		free(cp->owner[r]);
	free(cp->pt);
	free(cp->fd);
	free(cp);
}

int chain_pages_open(const struct ckpt_layer *layers, unsigned int nr,
		     const struct guest_mem *mem, struct chain_pages **out,
		     char *err, size_t err_len)
{
	struct chain_pages *cp = calloc(1, sizeof(*cp));
	unsigned int failed = 0;
	char why[512] = "";
	int ret = 0;

	*out = NULL;
	if (!cp || nr >= NO_LAYER || !nr) {
		free(cp);
		snprintf(err, err_len, "%s",
			 cp ? "too many layers" : "out of memory");
		return cp ? -E2BIG : -ENOMEM;
	}
	*cp = (struct chain_pages){.layers = layers, .nr = nr, .mem = mem};
	cp->pt = calloc(nr, sizeof(*cp->pt));
	cp->fd = malloc(nr * sizeof(*cp->fd));
	for (unsigned int i = 0; cp->fd && i < nr; i++)
		cp->fd[i] = -1;
	ret = cp->pt && cp->fd ? open_layers(cp, &failed, why, sizeof(why))
			       : -ENOMEM;
	if (ret) {
		snprintf(err, err_len, "checkpoint %s: %s",
			 layers[failed].m.name, why[0] ? why : strerror(-ret));
		chain_pages_close(cp);
		return ret;
	}
	*out = cp;
	return 0;
}

/* Pages [first, end) of region r, read from layer i into buf, each
 * checked against its hash. */
static int read_checked(const struct chain_pages *cp, unsigned int i,
			unsigned int r, uint64_t first, uint64_t end,
			uint8_t *buf, char *err, size_t err_len)
{
	const struct page_table *pt = &cp->pt[i];
	char why[256];
	int ret = ckpt_file_io(cp->fd[i], buf, (end - first) * GUEST_PAGE_BYTES,
			       cp->layers[i].m.regions[r].file_offset +
				   first * GUEST_PAGE_BYTES,
			       false);

	if (ret) {
		snprintf(
		    err, err_len, "checkpoint %s: reading the memory file: %s",
		    cp->layers[i].m.name,
		    ret == -EIO ? "it ends early (truncated)" : strerror(-ret));
		return ret;
	}
	for (uint64_t p = first; p < end && !ret; p++, buf += GUEST_PAGE_BYTES)
		ret = page_table_check(pt, r, p, buf, why, sizeof(why));
	if (ret)
		snprintf(err, err_len, "checkpoint %s: %s",
			 cp->layers[i].m.name, why);
	return ret;
}

int chain_pages_read(const struct chain_pages *cp, unsigned int r,
		     uint64_t page, uint8_t *buf, char *err, size_t err_len)
{
	uint16_t o = cp->owner[r][page];

	if (o == NO_LAYER)
		return 0;
	return read_checked(cp, o, r, page, page + 1, buf, err, err_len) ?: 1;
}

bool chain_pages_owned(const struct chain_pages *cp, unsigned int r,
		       uint64_t page)
{
	return cp->owner[r][page] != NO_LAYER;
}

/* Region r's pages straight into guest memory, in runs of consecutive
 * pages with one owner. */
static int load_region(const struct chain_pages *cp, struct guest_mem *mem,
		       unsigned int r, uint64_t *read, char *err,
		       size_t err_len)
{
	const struct mem_region *reg = &mem->regions[r];
	uint64_t pages = mem_region_pages(reg);
	int ret = 0;

	for (uint64_t p = 0, end; p < pages && !ret; p = end) {
		uint16_t o = cp->owner[r][p];

		for (end = p + 1;
		     end < pages && cp->owner[r][end] == o && end - p < 256;)
			end++;
		if (o == NO_LAYER)
			continue;
		ret =
		    read_checked(cp, o, r, p, end,
				 reg->hva + p * GUEST_PAGE_BYTES, err, err_len);
		*read += end - p;
	}
	return ret;
}

int ckpt_chain_load_pages(const struct ckpt_layer *layers, unsigned int nr,
			  struct guest_mem *mem, uint64_t *pages_read,
			  char *err, size_t err_len)
{
	struct chain_pages *cp;
	int ret = chain_pages_open(layers, nr, mem, &cp, err, err_len);

	*pages_read = 0;
	for (unsigned int r = 0; r < mem->nr_regions && !ret; r++)
		ret = load_region(cp, mem, r, pages_read, err, err_len);
	chain_pages_close(cp);
	return ret;
}
