// SPDX-License-Identifier: MIT
/*
 * Merging a chain in place (merge.h). One step folds a layer into its
 * full parent:
 *   1. .NAME.tmp/ gets the merged pages file and manifest, the layer's
 *      state and the parent's memory file (hard links), all synced. The
 *      synced manifest is the point of no return.
 *   2. The parent is renamed .PARENT.merged: it is about to change.
 *   3. The layer's pages are written into that memory file, each checked
 *      against its hash, and synced.
 *   4. .NAME.tmp and NAME are swapped in one rename (RENAME_EXCHANGE),
 *      then the old layer and the old parent are removed.
 * Steps 2-4 need only what step 1 left and the old layer, which stays
 * whole until 4: recovery redoes them (writing a page twice is harmless).
 */
#include "checkpoint/merge.h"
#include "checkpoint/recover.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/fold.h"
#include "checkpoint/page_table.h"
#include "lib/clock.h"
#include "lib/wire.h"

/*
 * The merged table: the parent's pages with the child's over them, every
 * one of the child's pages read and checked against its hash before
 * anything is changed. A page the child holds that is zero is a hole in
 * a full checkpoint.
 */
static int merge_tables(struct page_table *pt, const struct page_table *ct,
			const struct ckpt_layer *child, char *err,
			size_t err_len)
{
	uint64_t read_pages = 0;
	int fd, ret;

	for (unsigned int r = 0; r < ct->nr_regions; r++)
		for (uint64_t w = 0; w < (ct->pages[r] + 63) / 64; w++)
			for (uint64_t b = ct->bitmap[r][w]; b; b &= b - 1) {
				uint64_t p =
				    w * 64 + (uint64_t)__builtin_ctzll(b);

				pt->held[r] += !page_table_holds(pt, r, p);
				pt->bitmap[r][w] |= 1ull << (p % 64);
				pt->hash_of[r][p] = ct->hash_of[r][p];
				if (ct->mac_of[r] && pt->mac_of[r])
					memcpy(pt->mac_of[r][p],
					       ct->mac_of[r][p],
					       CKPT_MAC_BYTES);
			}
	fd = ckpt_fold_open_memory(child->path, "", O_RDONLY);
	if (fd < 0) {
		snprintf(err, err_len, "its memory file: %s", strerror(errno));
		return -errno;
	}
	ret = ckpt_fold_overlay(&child->m, ct, fd, -1, pt, &read_pages, err,
				err_len);
	close(fd);
	return ret;
}

/* Step 1: dir/.NAME.tmp with what the merge of child into its full parent
 * makes, its manifest synced last. */
static int write_first_step(const char *dir, const struct ckpt_layer *parent,
			    const struct ckpt_layer *child,
			    const struct page_table *pt, char *err,
			    size_t err_len)
{
	struct ckpt_manifest *m = malloc(sizeof(*m));
	struct wbuf pages, man;
	char a[4300], b[4300];
	int tmp_fd, ret;

	if (!m)
		return -ENOMEM;
	*m = child->m;
	m->parent[0] = '\0';
	m->parent_digest = 0;
	m->merged_from = child->digest;
	memset(m->auth.parent_tag, 0, CKPT_TAG_BYTES);
	memcpy(m->auth.merged_from_tag, child->link_tag, CKPT_TAG_BYTES);
	m->files[CKPT_FILE_MEMORY].digest = 0;
	wbuf_init(&pages);
	wbuf_init(&man);
	for (unsigned int r = 0; r < pt->nr_regions; r++) {
		m->regions[r].held_pages = pt->held[r];
		m->files[CKPT_FILE_MEMORY].digest += page_table_put_region(
		    pt->gpa[r], pt->pages[r], pt->bitmap[r], pt->hash_of[r],
		    (const uint8_t(*)[CKPT_MAC_BYTES])pt->mac_of[r], &pages);
	}
	m->files[CKPT_FILE_PAGES].size_bytes = pages.len;
	m->files[CKPT_FILE_PAGES].digest =
	    ckpt_bytes_digest(pages.data, pages.len);
	if (child->key && !pages.err)
		ckpt_mac_file(child->key, "pages", pages.data, pages.len,
			      m->auth.pages_tag);
	ret = pages.err ?: ckpt_manifest_encode(m, child->key, &man);
	ret = ret ?: ckpt_dir_begin(dir, child->m.name, &tmp_fd, err, err_len);
	if (ret) {
		snprintf(err, err_len, "%s", strerror(-ret));
		goto free_bufs;
	}
	snprintf(a, sizeof(a), "%s/memory", parent->path);
	snprintf(b, sizeof(b), "%s/.%s.tmp/memory", dir, child->m.name);
	ret = link(a, b) ? -errno : 0;
	snprintf(a, sizeof(a), "%s/state", child->path);
	snprintf(b, sizeof(b), "%s/.%s.tmp/state", dir, child->m.name);
	ret = ret ?: link(a, b) ? -errno : 0;
	ret = ret ?: ckpt_write_file(tmp_fd, "pages", pages.data, pages.len);
	ret = ret ?: fsync(tmp_fd) ? -errno : 0;
	ret = ret ?: ckpt_write_file(tmp_fd, "manifest", man.data, man.len);
	ret = ret ?: fsync(tmp_fd) ? -errno : 0;
	if (ret) {
		snprintf(err, err_len, "writing .%s.tmp: %s", child->m.name,
			 strerror(-ret));
		ckpt_dir_abort(dir, child->m.name, tmp_fd);
	} else {
		close(tmp_fd);
	}
free_bufs:
	wbuf_free(&pages);
	wbuf_free(&man);
	free(m);
	return ret;
}

/* Folds child into its full parent: child becomes full. */
static int merge_pair(const char *dir, const struct ckpt_keys *keys,
		      const struct ckpt_layer *parent,
		      const struct ckpt_layer *child, uint64_t *written,
		      char *err, size_t err_len)
{
	struct page_table pt, ct;
	struct ckpt_manifest *tm = NULL;
	char why[256] = "";
	uint64_t digest;
	char path[4300];
	int ret = page_table_read(&parent->m, parent->key, parent->path, &pt,
				  why, sizeof(why));

	/* The parent's pages keep their MACs: one key must cover both. */
	if (!ret && strcmp(parent->m.auth.identity, child->m.auth.identity)) {
		snprintf(why, sizeof(why),
			 "their MAC keys differ (identities '%.64s' and '%.64s')",
			 parent->m.auth.identity, child->m.auth.identity);
		ret = -EINVAL;
	}
	ret = ret
		  ?: page_table_read(&child->m, child->key, child->path, &ct,
				     why, sizeof(why));
	ret = ret ?: merge_tables(&pt, &ct, child, why, sizeof(why));
	ret =
	    ret ?: write_first_step(dir, parent, child, &pt, why, sizeof(why));
	page_table_free(&pt);
	page_table_free(&ct);
	tm = ret ? NULL : malloc(sizeof(*tm));
	snprintf(path, sizeof(path), "%s/.%s.tmp", dir, child->m.name);
	if (!ret && !tm)
		ret = -ENOMEM;
	ret = ret ?: ckpt_manifest_read(path, tm, &digest, why, sizeof(why));
	if (!ret)
		ckpt_fold_crash_point(1);
	ret = ret ?: ckpt_fold_roll_forward(dir, tm, keys, written, why,
					    sizeof(why));
	if (ret)
		snprintf(err, err_len, "merging %s into %s: %s", child->m.name,
			 parent->m.name, why);
	free(tm);
	return ret;
}

/* RENAME_EXCHANGE is what makes the last step atomic: a filesystem
 * without it is found out before anything is changed. */
static int exchange_works(const char *dir, char *err, size_t err_len)
{
	char a[4300], b[4300];
	int ret = 0;

	snprintf(a, sizeof(a), "%s/.xchg-a.tmp", dir);
	snprintf(b, sizeof(b), "%s/.xchg-b.tmp", dir);
	if ((mkdir(a, 0700) && errno != EEXIST) ||
	    (mkdir(b, 0700) && errno != EEXIST) ||
	    renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)) {
		ret = -errno;
		snprintf(err, err_len,
			 "the filesystem of %s cannot swap two directories in "
			 "one rename (RENAME_EXCHANGE): %s",
			 dir, strerror(errno));
	}
	rmdir(a);
	rmdir(b);
	return ret;
}

static int merge_locked(const char *dir, const char *name,
			const struct ckpt_keys *keys,
			struct ckpt_merge_result *res, char *err,
			size_t err_len)
{
	char newest[CKPT_NAME_MAX];
	struct ckpt_layer *layers = NULL;
	unsigned int nr = 0;
	int ret = ckpt_chain_recover(dir, keys, err, err_len);

	if (!ret && (!name || !name[0])) {
		ret = ckpt_chain_newest(dir, newest, err, err_len);
		if (ret == -ENOENT)
			snprintf(err, err_len, "%s holds no checkpoint", dir);
		name = newest;
	}
	ret = ret ?: ckpt_chain_resolve(dir, name, keys, &layers, &nr, err,
				       err_len);
	ret = ret ?: nr > 1 ? exchange_works(dir, err, err_len) : 0;
	res->layers = ret ? 0 : nr;
	/* The base, then each layer over the result of the one before. */
	for (unsigned int i = 1; i < nr && !ret; i++) {
		ret = merge_pair(dir, keys, &layers[i - 1], &layers[i],
				 &res->pages_written, err, err_len);
		ret = ret
			  ?: ckpt_layer_read(dir, layers[i].m.name, &layers[i],
					     err, err_len);
		/* Written here under that key: no tag to check again. */
		layers[i].key = ckpt_keys_find(keys,
					       layers[i].m.auth.identity);
	}
	free(layers);
	return ret;
}

int ckpt_merge(const char *dir, const char *name,
	       const struct ckpt_keys *keys, struct ckpt_merge_result *res,
	       char *err, size_t err_len)
{
	uint64_t t0 = clock_now_ns();
	int fd, ret = ckpt_chain_lock(dir, &fd, err, err_len);

	*res = (struct ckpt_merge_result){0};
	if (!ret && fd < 0) {
		snprintf(err, err_len, "%s: %s", dir, strerror(ENOENT));
		ret = -ENOENT;
	}
	ret = ret ?: merge_locked(dir, name, keys, res, err, err_len);
	ckpt_chain_unlock(fd);
	res->ns = clock_now_ns() - t0;
	return ret;
}
