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

#include "checkpoint/page_table.h"
#include "migrate/page_hash.h"

#define NO_LAYER 0xffffu

struct chain_load {
	const struct ckpt_layer *layers;
	unsigned int nr;
	struct guest_mem *mem;
	struct page_table *pt; /* per layer */
	int *fd;	       /* per layer, its memory file */
	/* per region and page: the newest layer holding it */
	uint16_t *owner[MEM_MAX_REGIONS];
	char *why;
	size_t why_len;
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

/* Every layer's pages file and memory file, and who owns each page. */
static int open_layers(struct chain_load *cl)
{
	int ret = 0;

	for (unsigned int r = 0; r < cl->mem->nr_regions && !ret; r++) {
		uint64_t pages = mem_region_pages(&cl->mem->regions[r]);

		cl->owner[r] = malloc((pages ? pages : 1) * sizeof(uint16_t));
		if (!cl->owner[r])
			return -ENOMEM;
		memset(cl->owner[r], 0xff, pages * sizeof(uint16_t));
	}
	for (unsigned int i = 0; i < cl->nr && !ret; i++) {
		const struct ckpt_layer *l = &cl->layers[i];
		struct page_table *pt = &cl->pt[i];

		ret = check_layout(&l->m, cl->mem, cl->why, cl->why_len);
		ret = ret
			  ?: page_table_read(&l->m, l->path, pt, cl->why,
					     cl->why_len);
		cl->fd[i] = ret ? -1 : open_memory(l, cl->why, cl->why_len);
		ret = ret ?: cl->fd[i] < 0 ? cl->fd[i] : 0;
		for (unsigned int r = 0; r < pt->nr_regions && !ret; r++)
			for (uint64_t p = 0; p < pt->pages[r]; p++)
				if (page_table_holds(pt, r, p))
					cl->owner[r][p] = (uint16_t)i;
		if (ret)
			return (int)i +
			       1; /* which layer failed, for the caller */
	}
	return 0;
}

/* Pages [first, end) of region r from layer i, each checked. */
static int load_run(struct chain_load *cl, unsigned int i, unsigned int r,
		    uint64_t first, uint64_t end)
{
	const struct mem_region *reg = &cl->mem->regions[r];
	const struct page_table *pt = &cl->pt[i];
	int ret = ckpt_file_io(cl->fd[i], reg->hva + first * GUEST_PAGE_BYTES,
			       (end - first) * GUEST_PAGE_BYTES,
			       cl->layers[i].m.regions[r].file_offset +
				   first * GUEST_PAGE_BYTES,
			       false);

	if (ret) {
		snprintf(cl->why, cl->why_len, "reading the memory file: %s",
			 ret == -EIO ? "it ends early (truncated)"
				     : strerror(-ret));
		return ret;
	}
	for (uint64_t p = first; p < end; p++)
		if (page_hash(reg->hva + p * GUEST_PAGE_BYTES) !=
		    pt->hash_of[r][p]) {
			snprintf(cl->why, cl->why_len,
				 "the memory page at GPA %#llx does not match "
				 "its hash (altered)",
				 (unsigned long long)(reg->gpa +
						      p * GUEST_PAGE_BYTES));
			return -EBADMSG;
		}
	return 0;
}

/* Region r's pages, in runs of consecutive pages with one owner. */
static int load_region(struct chain_load *cl, unsigned int r, uint64_t *read,
		       unsigned int *failed)
{
	uint64_t pages = mem_region_pages(&cl->mem->regions[r]);
	int ret = 0;

	for (uint64_t p = 0, end; p < pages && !ret; p = end) {
		uint16_t o = cl->owner[r][p];

		for (end = p + 1;
		     end < pages && cl->owner[r][end] == o && end - p < 256;)
			end++;
		if (o == NO_LAYER)
			continue;
		ret = load_run(cl, o, r, p, end);
		*read += end - p;
		*failed = o;
	}
	return ret;
}

int ckpt_chain_load_pages(const struct ckpt_layer *layers, unsigned int nr,
			  struct guest_mem *mem, uint64_t *pages_read,
			  char *err, size_t err_len)
{
	char why[512] = "";
	struct chain_load cl = {.layers = layers,
				.nr = nr,
				.mem = mem,
				.why = why,
				.why_len = sizeof(why)};
	unsigned int failed = 0;
	int ret;

	*pages_read = 0;
	if (nr >= NO_LAYER)
		return -E2BIG;
	cl.pt = calloc(nr, sizeof(*cl.pt));
	cl.fd = malloc(nr * sizeof(*cl.fd));
	if (!cl.pt || !cl.fd) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < nr; i++)
		cl.fd[i] = -1;
	ret = open_layers(&cl);
	if (ret > 0) {
		failed = (unsigned int)ret - 1;
		ret = -EBADMSG;
	}
	for (unsigned int r = 0; r < mem->nr_regions && !ret; r++)
		ret = load_region(&cl, r, pages_read, &failed);
	if (ret)
		snprintf(err, err_len, "checkpoint %s: %s",
			 layers[failed].m.name, why[0] ? why : strerror(-ret));
out:
	for (unsigned int i = 0; cl.fd && i < nr; i++) {
		if (cl.fd[i] >= 0)
			close(cl.fd[i]);
		page_table_free(&cl.pt[i]);
	}
	for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++)
		free(cl.owner[r]);
	free(cl.pt);
	free(cl.fd);
	return ret;
}
