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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/page_table.h"
#include "lib/clock.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"

#define RUN_PAGES 256

/*
 * Fault injection for the tests of recovery: KVMTRACK_X_MERGE_CRASH=N
 * ends the process (status 99) at step N: 1 with the first step written,
 * 2 with the parent renamed, 3 halfway through the pages, 4 right after
 * the exchange. Like --x-lose-dirty-percent, not for users.
 */
static void crash_point(int step)
{
	const char *at = getenv("KVMTRACK_X_MERGE_CRASH");

	if (at && atoi(at) == step)
		_exit(99);
}

static bool page_is_zero(const uint8_t *page)
{
	static const uint8_t zero[GUEST_PAGE_BYTES];

	return !memcmp(page, zero, GUEST_PAGE_BYTES);
}

static int open_at(const char *dir, const char *entry, int flags)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s/memory", dir, entry);
	return open(path, flags | O_CLOEXEC);
}

static void unhold_zero_pages(struct page_table *pt, unsigned int r, uint64_t p,
			      uint64_t n, const uint8_t *buf)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *w = &pt->bitmap[r][(p + i) / 64];
		uint64_t bit = 1ull << ((p + i) % 64);

		if (page_is_zero(buf + i * GUEST_PAGE_BYTES) && (*w & bit)) {
			*w &= ~bit;
			pt->held[r]--;
		}
	}
}

/*
 * Pages [p, p + n) of region r: read from `from` and checked; then
 * written to `to` (a zero page made a hole), or with to < 0, a zero page
 * left out of `merged`: a full checkpoint holds no zero page.
 */
static int overlay_run(const struct page_table *ct, unsigned int r, uint64_t p,
		       uint64_t n, off_t off, int from, int to,
		       struct page_table *merged, uint8_t *buf, char *err,
		       size_t err_len)
{
	int ret = ckpt_file_io(from, buf, n * GUEST_PAGE_BYTES, off, false);

	for (uint64_t i = 0; i < n && !ret; i++)
		if (page_table_check(ct, r, p + i, buf + i * GUEST_PAGE_BYTES,
				     err, err_len))
			return -EBADMSG;
	if (!ret && to < 0)
		unhold_zero_pages(merged, r, p, n, buf);
	ret = ret
		  ?: to < 0
		     ? 0
		     : ckpt_file_io(to, buf, n * GUEST_PAGE_BYTES, off, true);
	for (uint64_t i = 0; i < n && !ret && to >= 0; i++)
		if (page_is_zero(buf + i * GUEST_PAGE_BYTES))
			fallocate(to,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off + (off_t)(i * GUEST_PAGE_BYTES),
				  GUEST_PAGE_BYTES);
	if (ret == -EIO)
		snprintf(err, err_len,
			 "its memory file ends early (truncated)");
	else if (ret)
		snprintf(err, err_len, "its memory file: %s", strerror(-ret));
	return ret;
}

/*
 * Writes the pages of child (its table ct, its memory file from) into the
 * memory file to, each checked against its hash on the way, in runs of
 * consecutive pages.
 */
static int overlay(const struct ckpt_manifest *m, const struct page_table *ct,
		   int from, int to, struct page_table *merged,
		   uint64_t *written, char *err, size_t err_len)
{
	uint8_t *buf = malloc(RUN_PAGES * GUEST_PAGE_BYTES);
	uint64_t total = 0, done = 0;
	int ret = buf ? 0 : -ENOMEM;

	for (unsigned int r = 0; r < ct->nr_regions; r++)
		total += ct->held[r];
	for (unsigned int r = 0; r < ct->nr_regions && !ret; r++) {
		off_t base = (off_t)m->regions[r].file_offset;

		for (uint64_t p = 0, end; p < ct->pages[r] && !ret;
		     p = end + 1) {
			for (end = p; end < ct->pages[r] &&
				      end - p < RUN_PAGES &&
				      page_table_holds(ct, r, end);)
				end++;
			if (end == p)
				continue;
			ret = overlay_run(ct, r, p, end - p,
					  base + (off_t)(p * GUEST_PAGE_BYTES),
					  from, to, merged, buf, err, err_len);
			done += end - p;
			if (to >= 0 && 2 * done >= total)
				crash_point(3);
			end--;
		}
	}
	*written += done;
	free(buf);
	return ret;
}

/* Steps 2-4 for dir/.NAME.tmp, whose manifest is tm, over the old layer
 * dir/NAME. */
static int roll_forward(const char *dir, const struct ckpt_manifest *tm,
			const struct ckpt_keys *keys, uint64_t *written,
			char *err, size_t err_len)
{
	char tmp[CKPT_NAME_MAX + 8], old[CKPT_NAME_MAX + 12], a[4300], b[4300];
	struct page_table ct = {0};
	struct ckpt_layer *l = malloc(sizeof(*l));
	int from = -1, to = -1, ret;

	if (!l)
		return -ENOMEM;
	ret = ckpt_layer_read(dir, tm->name, l, err, err_len);
	if (!ret && (!l->m.parent[0] || l->digest != tm->merged_from)) {
		snprintf(err, err_len,
			 "checkpoint %s is not the one being merged", tm->name);
		ret = -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", tm->name);
	snprintf(old, sizeof(old), ".%s.merged", ret ? "" : l->m.parent);
	snprintf(a, sizeof(a), "%s/%s", dir, ret ? "" : l->m.parent);
	snprintf(b, sizeof(b), "%s/%s", dir, old);
	if (!ret && rename(a, b) && errno != ENOENT)
		ret = -errno;
	ret = ret ?: ckpt_sync_dir(dir);
	if (!ret)
		crash_point(2);
	ret = ret ?: page_table_read(&l->m,
				     ckpt_keys_find(keys, l->m.auth.identity),
				     l->path, &ct, err, err_len);
	from = ret ? -1 : open_at(dir, tm->name, O_RDONLY);
	to = ret ? -1 : open_at(dir, tmp, O_RDWR);
	if (!ret && (from < 0 || to < 0)) {
		ret = -errno;
		snprintf(err, err_len, "opening the memory files: %s",
			 strerror(errno));
	}
	ret = ret ?: overlay(&l->m, &ct, from, to, NULL, written, err, err_len);
	if (!ret && fsync(to))
		ret = -errno;
	snprintf(a, sizeof(a), "%s/%s", dir, tmp);
	snprintf(b, sizeof(b), "%s/%s", dir, tm->name);
	if (!ret && renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE))
		ret = -errno;
	ret = ret ?: ckpt_sync_dir(dir);
	if (!ret)
		crash_point(4);
	if (!ret) {
		ckpt_dir_remove(dir, tmp);
		ckpt_dir_remove(dir, old);
	} else if (!err[0]) {
		snprintf(err, err_len, "%s", strerror(-ret));
	}
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	page_table_free(&ct);
	free(l);
	return ret;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

/* A leftover .N.tmp: the first step of a merge (finish it), or anything
 * else (a checkpoint that was never committed, the old layer of a merge
 * that was): removed. */
static int recover_tmp(const char *dir, const char *entry,
		       const struct ckpt_keys *keys, char *err,
		       size_t err_len)
{
	struct ckpt_manifest *m = malloc(sizeof(*m));
	char path[4300], why[256] = "";
	uint64_t digest, written = 0;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, entry);
	if (!ckpt_manifest_read(path, m, &digest, why, sizeof(why)) &&
	    m->merged_from) {
		ret = roll_forward(dir, m, keys, &written, why, sizeof(why));
		if (ret)
			snprintf(err, err_len,
				 "finishing the interrupted merge into %s: %s",
				 m->name, why);
	} else {
		ckpt_dir_remove(dir, entry);
	}
	free(m);
	return ret;
}

/* The entries of dir that a merge or a checkpoint left (a name starting
 * with a dot), listed before any is touched. */
static int leftovers(const char *dir, char (**names)[CKPT_NAME_MAX + 8],
		     unsigned int *nr)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*names = NULL;
	*nr = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		void *grown;

		if (e->d_name[0] != '.' || strlen(e->d_name) >= CKPT_NAME_MAX ||
		    (!ends_with(e->d_name, ".tmp") &&
		     !ends_with(e->d_name, ".merged")))
			continue;
		grown = realloc(*names, (*nr + 1) * sizeof(**names));
		if (!grown)
			break;
		*names = grown;
		snprintf((*names)[(*nr)++], CKPT_NAME_MAX + 8, "%s", e->d_name);
	}
	closedir(d);
	return 0;
}

int ckpt_chain_recover(const char *dir, const struct ckpt_keys *keys,
		       char *err, size_t err_len)
{
	char(*names)[CKPT_NAME_MAX + 8];
	unsigned int nr;
	int ret = leftovers(dir, &names, &nr);

	if (ret)
		snprintf(err, err_len, "%s: %s", dir, strerror(-ret));
	for (unsigned int i = 0; i < nr && !ret; i++) {
		if (ends_with(names[i], ".tmp"))
			ret = recover_tmp(dir, names[i], keys, err, err_len);
		else
			ckpt_dir_remove(dir, names[i]);
	}
	free(names);
	return ret;
}

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
	fd = open_at(child->path, "", O_RDONLY);
	if (fd < 0) {
		snprintf(err, err_len, "its memory file: %s", strerror(errno));
		return -errno;
	}
	ret = overlay(&child->m, ct, fd, -1, pt, &read_pages, err, err_len);
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
		crash_point(1);
	ret = ret ?: roll_forward(dir, tm, keys, written, why, sizeof(why));
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
